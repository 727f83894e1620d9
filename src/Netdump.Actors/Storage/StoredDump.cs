using System.Net;

namespace Netdump.Actors.Storage;

/// <summary>
/// One dump directory as retention sees it: whose, when, its bytes on disk, and, when it must
/// stay whatever the keys say, why (<paramref name="Held"/>: receiving, no final report, its core
/// held by a writer...). A held dump still counts in the total on disk.
/// </summary>
/// <param name="FinishedAt">When it ended (<c>finished_at</c>), if its report says: a dump that took long to arrive is young until an hour after its end.</param>
public sealed record StoredDump(string Directory, IPAddress Client, DateTimeOffset ReceivedAt, ulong Bytes, DumpHold? Held = null, DateTimeOffset? FinishedAt = null)
{
    /// <summary>When it last changed: its end, or its HERALD when its report names no end.</summary>
    public DateTimeOffset LastActivity => FinishedAt is { } end && end > ReceivedAt ? end : ReceivedAt;
}

/// <summary>What holds a dump that retention must leave whatever its keys say.</summary>
public enum HoldReason
{
    /// <summary>Its report says it is being received.</summary>
    Receiving,

    /// <summary>It has no readable final report (its writer's last word).</summary>
    NoFinalReport,

    /// <summary>It holds a directory (a dump nested in it, as an older server allowed).</summary>
    HoldsDirectory,

    /// <summary>Its core is a symbolic link.</summary>
    CoreIsLink,

    /// <summary>Its core is open in a writer or a copy (its lock is held).</summary>
    CoreInUse,
}

/// <summary>Why a dump stays: the <paramref name="Reason"/> decisions are taken on, and <paramref name="Why"/> for the operator.</summary>
public sealed record DumpHold(HoldReason Reason, string Why)
{
    public static readonly DumpHold Receiving = new(HoldReason.Receiving, DumpJson.Receiving);

    public static readonly DumpHold NoFinalReport = new(HoldReason.NoFinalReport, $"no final {DumpReport.JsonFileName}");
}
