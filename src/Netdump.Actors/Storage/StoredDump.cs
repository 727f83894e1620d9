using System.Net;

namespace Netdump.Actors.Storage;

/// <summary>
/// One dump directory as retention sees it: whose, when, its bytes on disk, and, when it must
/// stay whatever the keys say, why (<paramref name="Held"/>: receiving, no final report, its core
/// held by a writer...). A held dump still counts in the total on disk.
/// </summary>
public sealed record StoredDump(string Directory, IPAddress Client, DateTimeOffset ReceivedAt, ulong Bytes, string? Held = null);
