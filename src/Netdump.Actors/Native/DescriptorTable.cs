using System.Runtime.InteropServices;

namespace Netdump.Actors.Native;

/// <summary>
/// The process's table of file descriptors, grown once at start to what a crash storm will use.
/// Linux grows the table when a descriptor past its end is made, and in a process of many
/// threads every growth waits for an RCU grace period while every other thread that makes a
/// descriptor waits for it in turn: a storm's first sockets and cores held every thread that
/// starts a dump at once (docs/performance.md, "The descriptor table"). The table never
/// shrinks, so one descriptor made high at start (and closed) leaves the room for good, at 8
/// bytes a slot.
/// </summary>
internal static partial class DescriptorTable
{
    private const int FDupFdCloExec = 1030;
    private const int RlimitNoFile = 7;

    /// <summary>What <see cref="Reserve"/> did.</summary>
    public abstract record Reservation
    {
        private Reservation() { }

        /// <summary>The table holds the descriptors asked for.</summary>
        public sealed record Reserved(int Slots) : Reservation;

        /// <summary>The open files limit is lower than what was asked for: the table holds that many.</summary>
        public sealed record Capped(int Slots) : Reservation;

        /// <summary>Nothing changed (the table grows as it did before, when needed); why.</summary>
        public sealed record Failed(string Why) : Reservation;
    }

    /// <summary>Grows the table to hold <paramref name="count"/> descriptors, or as many as the soft RLIMIT_NOFILE allows.</summary>
    public static Reservation Reserve(int count)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
        {
            return new Reservation.Failed("not a 64-bit Linux process");
        }

        if (SoftLimit() is not { } limit)
        {
            return new Reservation.Failed($"getrlimit: {LastError()}");
        }

        var slots = (int)Math.Min((ulong)Math.Max(count, 1), limit);
        var source = LinuxIo.open("/dev/null", LinuxIo.ORdOnly | LinuxIo.OCloExec);
        if (source < 0)
        {
            return new Reservation.Failed($"/dev/null: {LastError()}");
        }

        try
        {
            // the lowest free descriptor at or above the last slot wanted: the kernel makes the
            // table large enough to hold it
            var high = fcntl(source, FDupFdCloExec, slots - 1);
            if (high < 0)
            {
                return new Reservation.Failed($"fcntl(F_DUPFD_CLOEXEC, {slots - 1}): {LastError()}");
            }

            LinuxIo.close(high);
            return slots < count ? new Reservation.Capped(slots) : new Reservation.Reserved(slots);
        }
        finally
        {
            LinuxIo.close(source);
        }
    }

    private static unsafe ulong? SoftLimit()
    {
        // struct rlimit is two 64-bit rlim_t on the 64-bit processes this runs in (checked above)
        var limits = stackalloc ulong[2];
        return getrlimit(RlimitNoFile, limits) == 0 ? limits[0] : null;
    }

    private static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    // fcntl(2) is variadic; its third argument is an int here, passed as the variadic call would
    // pass it on the 64-bit ABIs this runs on (the same holds for FileSystemSync's open)
    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int getrlimit(int resource, ulong* limits);
}
