using System.Runtime.InteropServices;

namespace Netdump.Actors.Native;

/// <summary>
/// The process's table of file descriptors, grown once at start to what a crash storm will use.
/// Linux grows the table when a descriptor past its end is made, and in a process of many
/// threads every growth waits for an RCU grace period while every other thread that makes a
/// descriptor waits for it in turn: the sockets and cores of a storm's first dumps crossed 256
/// and 512 descriptors and held the threads that start dumps 16–40 ms at once
/// (docs/performance.md, "The descriptor table"). The table never shrinks, so one descriptor made high
/// at start (and closed) leaves the room for good, at 8 bytes a slot.
/// </summary>
internal static partial class DescriptorTable
{
    private const int FDupFdCloExec = 1030;
    private const int RlimitNoFile = 7;

    /// <summary>
    /// Grows the table to hold at least <paramref name="count"/> descriptors, or as many as the
    /// soft RLIMIT_NOFILE allows; the number reserved, or null where the system refused (nothing
    /// changed then: the table grows as it did before, when needed).
    /// </summary>
    public static int? Reserve(int count)
    {
        if (!OperatingSystem.IsLinux() || count < 1)
        {
            return null;
        }

        var reserved = (int)Math.Min((ulong)count, SoftLimit() ?? (ulong)count);
        var source = LinuxIo.open("/dev/null", LinuxIo.ORdOnly | LinuxIo.OCloExec);
        if (source < 0)
        {
            return null;
        }

        try
        {
            // the lowest free descriptor at or above the last slot wanted: the kernel makes the
            // table large enough for it
            var high = fcntl(source, FDupFdCloExec, reserved - 1);
            if (high < 0)
            {
                return null;
            }

            LinuxIo.close(high);
            return reserved;
        }
        finally
        {
            LinuxIo.close(source);
        }
    }

    private static ulong? SoftLimit()
    {
        Span<ulong> limits = stackalloc ulong[2];
        unsafe
        {
            fixed (ulong* l = limits)
            {
                return getrlimit(RlimitNoFile, l) == 0 ? limits[0] : null;
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int getrlimit(int resource, ulong* limits);
}
