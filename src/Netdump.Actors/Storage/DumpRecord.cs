using System.Net;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>Where a dump stands: still arriving, complete, or ended without being complete.</summary>
public enum DumpStatus
{
    Receiving,
    Complete,
    Incomplete,

    /// <summary>A Linux client refused beyond the concurrency limit: no memory, only its console text (SPEC §7).</summary>
    Refused,
}

/// <summary>A received byte range of a file, <c>[Start, End)</c>.</summary>
public readonly record struct ByteRange(ulong Start, ulong End)
{
    public ulong Length => End - Start;
}

/// <summary>
/// The facts about one dump that <c>info</c> and <c>dump.json</c> carry (SPEC §3). Immutable:
/// the writer makes a new one at each milestone.
/// </summary>
public sealed record DumpRecord
{
    public required DumpStatus Status { get; init; }

    /// <summary>Why the dump is incomplete; null while receiving or when complete.</summary>
    public string? Reason { get; init; }

    public required IPAddress ClientIp { get; init; }
    public required IPAddress ServerIp { get; init; }

    /// <summary>The path the HERALD asked for ("" when none), whether or not it was used.</summary>
    public required string HeraldPath { get; init; }

    /// <summary>The absolute dump directory.</summary>
    public required string Directory { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The parsed kernel dump header; null until a valid one arrived.</summary>
    public KernelDumpHeader? Header { get; init; }

    public ulong BytesReceived { get; init; }
    public IReadOnlyList<ByteRange> Ranges { get; init; } = [];

    /// <summary>The missing ranges of <c>[0, dump_length)</c>; empty until the length is known.</summary>
    public IReadOnlyList<ByteRange> Holes { get; init; } = [];

    public bool Encrypted { get; init; }

    /// <summary>The core's current file name inside <see cref="Directory"/>.</summary>
    public required string Vmcore { get; init; }

    /// <summary>The directory of the dump that replaced this one, when a new HERALD superseded it.</summary>
    public string? SupersededBy { get; init; }

    /// <summary>
    /// True when the record was rebuilt at start-up for a dump a previous run left "receiving"
    /// (see <see cref="RecoveryScan"/>). The received ranges lived only in that run's memory, so
    /// <see cref="Ranges"/> and <see cref="Holes"/> are then empty for "unknown", and
    /// <see cref="BytesReceived"/> is the size of the core file: an upper bound, since a hole
    /// inside it reads as zeros.
    /// </summary>
    public bool Recovered { get; init; }

    /// <summary>Which protocol brought the dump.</summary>
    public Ingest.Dialect Dialect { get; init; }

    /// <summary>What a Linux client told about its memory; null for FreeBSD dumps.</summary>
    public LinuxFacts? Linux { get; init; }
}

/// <summary>
/// The facts of a Linux dump (SPEC §7): the negotiated protocol version, the ELF machine, the
/// page size and count, the page frames that are not RAM, whether registers came, how much
/// console text the log holds and the panic line found in it.
/// </summary>
public sealed record LinuxFacts(
    uint ProtocolVersion,
    ushort Machine,
    uint PageSize,
    ulong Pages,
    IReadOnlyList<ByteRange> Reserved,
    bool Registers,
    long LogBytes,
    string? PanicString);
