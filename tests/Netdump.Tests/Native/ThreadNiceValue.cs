using System.Runtime.InteropServices;

namespace Netdump.Tests.Native;

/// <summary>The calling thread's own nice value (<c>getpriority(PRIO_PROCESS, gettid())</c>), as the server's threads set it.</summary>
internal static partial class ThreadNiceValue
{
    private const int PrioProcess = 0;

    /// <summary>The calling thread's nice value, or null where it cannot be read.</summary>
    public static int? Current()
    {
        Marshal.SetLastPInvokeError(0);
        var value = getpriority(PrioProcess, gettid());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
