using System.Runtime.InteropServices;

namespace Netdump.Actors.Native;

/// <summary>
/// The CPU priority of the calling thread alone: Linux keeps a nice value per thread
/// (<c>setpriority(PRIO_PROCESS, gettid(), n)</c>), and threads it starts inherit it, so work
/// started on a thread made nice (libzstd's workers too) yields the CPU to everything else.
/// .NET's <c>Thread.Priority</c> does nothing on Linux for an unprivileged process.
/// </summary>
internal static partial class ThreadNice
{
    /// <summary>The lowest priority: CFS gives such a thread about 1/70 of a core against a busy normal one.</summary>
    public const int Lowest = 19;

    private const int PrioProcess = 0;

    /// <summary>Sets the calling thread's nice value; false (and nothing changed) where the system refuses.</summary>
    public static bool SetCurrent(int nice) =>
        OperatingSystem.IsLinux() && setpriority(PrioProcess, gettid(), nice) == 0;

    /// <summary>The calling thread's nice value, or null where it cannot be read.</summary>
    public static int? Current()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        var value = getpriority(PrioProcess, gettid());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
