using System.Net;

namespace Netdump.Actors.Storage;

/// <summary>
/// One dump directory as retention sees it: whose, when, its bytes on disk, and, when it must
/// stay whatever the keys say, why (<paramref name="Held"/>: receiving, no final report, its core
/// held by a writer...). A held dump still counts in the total on disk.
/// </summary>
/// <param name="FinishedAt">When it ended (<c>finished_at</c>), if its report says: a dump that took long to arrive is young until an hour after its end.</param>
public sealed record StoredDump(string Directory, IPAddress Client, DateTimeOffset ReceivedAt, ulong Bytes, string? Held = null, DateTimeOffset? FinishedAt = null)
{
    /// <summary>When it last changed: its end, or its HERALD when its report names no end.</summary>
    public DateTimeOffset LastActivity => FinishedAt is { } end && end > ReceivedAt ? end : ReceivedAt;
}
