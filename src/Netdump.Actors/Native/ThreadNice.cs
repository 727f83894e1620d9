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
    private const int PrioProcess = 0;

    /// <summary>
    /// Sets the calling thread's nice value where the system lets it (Linux; raising one's own
    /// nice is always allowed there); elsewhere the thread keeps its priority, which costs speed
    /// beside the dumps, never correctness.
    /// </summary>
    public static void SetCurrent(int nice)
    {
        if (OperatingSystem.IsLinux())
        {
            _ = setpriority(PrioProcess, gettid(), nice);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc")]
    private static partial int gettid();
}
