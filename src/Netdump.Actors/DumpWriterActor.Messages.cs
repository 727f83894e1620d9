using Netdump.Actors.Ingest;
using Netdump.Actors.Scheduling;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>What a writer is told and answers.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>Create the dump directory and the empty core, and hold the room of its reports (their files follow the answer).</summary>
    public sealed class Open : IClientWaits
    {
        public static readonly Open Instance = new();
        private Open() { }
    }

    /// <summary>The dump exists on disk; the pump may write into <paramref name="Core"/>.</summary>
    public sealed record Opened(string Directory, CoreFile Core);

    public sealed record OpenFailed(string Reason);

    /// <summary>Store an EKCD_KEY message in the key file; answered with <see cref="Stored"/> once it is written.</summary>
    public sealed record StoreKey(PumpEvent.ControlPacket Packet) : IClientWaits;

    /// <summary>
    /// A KDH message, kept for the reports; not answered. The session acks a KDH as soon as it
    /// tells the writer: the writer only keeps it in memory until a report is written, as it did
    /// before it answered, and it reads it before the FINISHED that follows (the session's
    /// messages arrive in order). Its answer had to wait for the writer's turn on a disk thread,
    /// behind other dumps' fsyncs: in a crash storm the client waited for it a full second and
    /// sent the KDH again (docs/performance.md).
    /// </summary>
    public sealed record KeepHeader(PumpEvent.ControlPacket Packet);

    public sealed record Stored(uint Sequence);

    /// <summary>What ends a dump: <see cref="ClientFinished"/> (the data decides) or <see cref="EndNow"/> (a reason imposed).</summary>
    public interface IEnding : IClientWaits;

    /// <summary>FINISHED arrived: the data decides whether the dump is complete.</summary>
    public sealed class ClientFinished : IEnding
    {
        public static readonly ClientFinished Instance = new();
        private ClientFinished() { }
    }

    /// <summary>
    /// The dump ends before its client said it was done: incomplete for <paramref name="Reason"/>
    /// (a newer dump of the client in <paramref name="SupersededBy"/>, when that is the reason).
    /// </summary>
    public sealed record EndNow(EndReason Reason, string? SupersededBy = null) : IEnding;

    /// <summary>
    /// The dump is final: its end is decided and its core's name given. Its reports are on disk,
    /// or are written as soon as there is room; the writer stops once they are, and once a
    /// complete dump's hash is in them.
    /// </summary>
    /// <param name="Reported">its final reports are written (false: they wait for room, and the writer stays until they are)</param>
    public sealed record Finalized(DumpRecord Record, bool Reported = true);

    /// <summary>Time to try the reports again (<see cref="Phase.Unreported"/>).</summary>
    private sealed class RetryReports
    {
        public static readonly RetryReports Instance = new();
        private RetryReports() { }
    }

    /// <summary>To the session: the disk failed under this dump (a background fsync); end it with this reason.</summary>
    public sealed record DiskFailed(EndReason Reason);

    /// <summary>The dump was refused before any data (netdump-crash said no): remove its directory.</summary>
    public sealed class Discard
    {
        public static readonly Discard Instance = new();
        private Discard() { }
    }

    public sealed class Discarded
    {
        public static readonly Discarded Instance = new();
        private Discarded() { }
    }

    /// <summary>Measure free space now; answered with <see cref="SpaceOk"/> or <see cref="LowSpace"/>.</summary>
    public sealed class CheckSpace
    {
        public static readonly CheckSpace Instance = new();
        private CheckSpace() { }
    }

    public sealed class SpaceOk
    {
        public static readonly SpaceOk Instance = new();
        private SpaceOk() { }
    }

    /// <summary>Free space is below what this dump needs: <c>min_free_space</c>, plus the rest of the dump once the KDH gave its length.</summary>
    public sealed record LowSpace(ulong Available, ulong Needed);

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();
        private FlushTick() { }
    }
}
