using Netdump.Actors.Storage;

namespace Netdump.Actors.Catalog;

/// <summary>
/// One dump as the catalog holds it: the facts of its <c>dump.json</c> that the fleet views
/// show and filter by (not its ranges or holes, which stay in the file), its panic group, and
/// while it is receiving its live progress. Immutable: an update makes a new one. Small on
/// purpose: a catalog of 100,000 dumps must stay within 150 MB (docs/performance.md).
/// </summary>
public sealed record CatalogEntry
{
    /// <summary>The dump's id (<see cref="DumpId"/>).</summary>
    public required string Id { get; init; }

    /// <summary>The node that holds the dump; null for this one (a cluster fills it in).</summary>
    public string? Node { get; init; }

    /// <summary>Its node is unreachable in the cluster: the entry is what was last heard (SPEC §8).</summary>
    public bool Unreachable { get; init; }

    /// <summary>The absolute dump directory (on its node).</summary>
    public required string Directory { get; init; }

    public required DumpStatus Status { get; init; }

    /// <summary>Why the dump is not complete, as <c>dump.json</c> says it; null when complete or receiving.</summary>
    public EndReason? Reason { get; init; }

    public required string ClientIp { get; init; }

    /// <summary>The host name from the KDH; null until one arrived (and always for a Linux dump).</summary>
    public string? Hostname { get; init; }

    /// <summary>Who the dump is from for people and filters: the host name, else the client's address.</summary>
    public string Host => Hostname is { Length: > 0 } name ? name : ClientIp;

    public string? Architecture { get; init; }
    public string? VersionString { get; init; }
    public string? PanicString { get; init; }

    /// <summary>The kernel version the panic group is keyed by (<see cref="KernelVersion"/>).</summary>
    public string? Kernel { get; init; }

    /// <summary>The panic group; null while no panic string is known.</summary>
    public string? Group { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public DateTimeOffset? DumpTime { get; init; }
    public ulong? DumpLength { get; init; }
    public ulong BytesReceived { get; init; }

    /// <summary>How many ranges are missing and their bytes, as far as <c>dump.json</c> knew them.</summary>
    public int HoleCount { get; init; }
    public ulong MissingBytes { get; init; }

    public required string Vmcore { get; init; }
    public string? Compression { get; init; }
    public bool Encrypted { get; init; }
    public Ingest.Dialect Dialect { get; init; }
    public string? Sha256 { get; init; }
    public string? SupersededBy { get; init; }
    public bool Recovered { get; init; }

    /// <summary>How fast a receiving dump arrives; null for any other.</summary>
    public ReceiveRate? Rate { get; init; }

    /// <summary>Seconds until a receiving dump is in at its last rate; null until its length is known or while nothing arrives.</summary>
    public ulong? EtaSeconds => Status == DumpStatus.Receiving && Rate is { } rate
        ? ReceiveRate.SecondsLeft(BytesReceived, DumpLength, rate.LastTick)
        : null;
}
