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

    /// <summary>The bytes the ranges cover together (they do not overlap).</summary>
    public static ulong Total(IReadOnlyList<ByteRange> ranges)
    {
        // a loop, not LINQ's Aggregate: its instantiation over this struct is compiled at first
        // use, which a crash storm's first dumps would wait for
        var total = 0UL;
        for (var i = 0; i < ranges.Count; i++)
        {
            total += ranges[i].Length;
        }

        return total;
    }
}

/// <summary>
/// The facts about one dump that <c>info</c> and <c>dump.json</c> carry (SPEC §3). Immutable:
/// the writer makes a new one at each milestone.
/// </summary>
public sealed record DumpRecord
{
    public required DumpStatus Status { get; init; }

    /// <summary>Why the dump is incomplete; null while receiving or when complete.</summary>
    public EndReason? Reason { get; init; }

    public required IPAddress ClientIp { get; init; }
    public required IPAddress ServerIp { get; init; }

    /// <summary>The path the HERALD asked for ("" when none), whether or not it was used.</summary>
    public required string HeraldPath { get; init; }

    /// <summary>
    /// Why the dump went to the dump directory instead of <see cref="HeraldPath"/> (the path
    /// does not exist, climbs out, names a dump...); null when the path was used or none was asked for.
    /// </summary>
    public string? HeraldPathFallback { get; init; }

    /// <summary>The absolute dump directory.</summary>
    public required string Directory { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The parsed kernel dump header; null until a valid one arrived.</summary>
    public KernelDumpHeader? Header { get; init; }

    /// <summary>
    /// The bytes of the core received (the sum of <see cref="Ranges"/>): what the client wrote,
    /// which may run past <see cref="Length"/> where it pads its last block. Key bytes are
    /// counted apart, in <see cref="KeyBytesReceived"/>.
    /// </summary>
    public ulong BytesReceived { get; init; }

    public IReadOnlyList<ByteRange> Ranges { get; init; } = [];

    /// <summary>The missing ranges of <c>[0, <see cref="HolesKnownUntil"/>)</c>.</summary>
    public IReadOnlyList<ByteRange> Holes { get; init; } = [];

    /// <summary>The core's full length once the client gave it (the KDH's dump length, or the ELF core's size); null before.</summary>
    public ulong? Length => Header?.DumpLength ?? Linux?.CoreSize;

    /// <summary>
    /// How far <see cref="Holes"/> are known: the whole <see cref="Length"/> once it is known;
    /// before that, up to the last byte received, since a gap between two received ranges is a
    /// hole whatever the length turns out to be; null when nothing is known (a recovered dump).
    /// </summary>
    public ulong? HolesKnownUntil => Recovered ? null : Length ?? (Ranges.Count > 0 ? Ranges[^1].End : 0);

    /// <summary>How fast the dump is arriving; null unless <see cref="Status"/> is receiving.</summary>
    public ReceiveRate? Rate { get; init; }

    public bool Encrypted { get; init; }

    /// <summary>The bytes of the encryption key received (the <c>key</c> file), apart from the core's.</summary>
    public ulong KeyBytesReceived { get; init; }

    /// <summary>The core's current file name inside <see cref="Directory"/>.</summary>
    public required string Vmcore { get; init; }

    /// <summary>
    /// The lowercase hex SHA-256 of the core as received (<see cref="Vmcore"/> as first stored,
    /// which a <c>.zst</c> the server made decompresses to), once computed after a complete dump
    /// ended (<see cref="CoreChecksum"/>); null before, and always for a dump that is not complete.
    /// </summary>
    public string? Sha256 { get; init; }

    /// <summary>
    /// The size of <see cref="Vmcore"/> as stored, once a complete dump's core was hashed; null
    /// before and for other dumps.
    /// </summary>
    public ulong? StoredBytes { get; init; }

    /// <summary>
    /// The lowercase hex SHA-256 of the file <see cref="Vmcore"/> names, byte for byte: the same as
    /// <see cref="Sha256"/> until the server compressed the core at rest, that of the
    /// <c>.zst</c> file after. Null when <see cref="StoredBytes"/> is.
    /// </summary>
    public string? StoredSha256 { get; init; }

    /// <summary>This record with the SHA-256 and length of its core as received and stored.</summary>
    public DumpRecord WithChecksum(CoreHash hash) => this with { Sha256 = hash.Sha256, StoredSha256 = hash.Sha256, StoredBytes = hash.Bytes };

    /// <summary>The server rewrote the core as <c>vmcore.zst</c> (<c>compress = zstd</c>): <see cref="Sha256"/> is then that of its content.</summary>
    public bool CompressedAtRest { get; init; }

    /// <summary>Why compression at rest gave up for good (the <c>.zst</c> did not verify); null otherwise. The original core is kept.</summary>
    public string? CompressionProblem { get; init; }

    /// <summary>The plain core the server decrypted an encrypted dump into (<c>decrypt_key</c>); null before and without one.</summary>
    public string? DecryptedVmcore { get; init; }

    /// <summary>Why an encrypted dump could not be decrypted (the key does not match, ...); null otherwise. The encrypted core is kept.</summary>
    public string? DecryptionProblem { get; init; }

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
    string? PanicString)
{
    /// <summary>The ELF core's full size (its header, notes and every page); null until the client described its memory.</summary>
    public ulong? CoreSize { get; init; }

    /// <summary>The kernel version the console log printed (<see cref="Catalog.KernelVersion.FromLinuxLine"/>); null when it printed none.</summary>
    public string? KernelVersion { get; init; }
}
