namespace Netdump.Actors.Storage;

/// <summary>
/// The names of <c>dump.json</c>'s fields and of its enumerated values (SPEC §3, §7): the one
/// place both the writer (<see cref="DumpReport"/>) and every reader (the recovery scan,
/// retention, the catalog) take them from.
/// </summary>
public static class DumpJsonFields
{
    public const string Status = "status";
    public const string Reason = "reason";
    public const string ClientIp = "client_ip";
    public const string ServerIp = "server_ip";
    public const string HeraldPath = "herald_path";
    public const string HeraldPathFallback = "herald_path_fallback";
    public const string Directory = "directory";
    public const string ReceivedAt = "received_at";
    public const string FinishedAt = "finished_at";
    public const string Magic = "magic";
    public const string Hostname = "hostname";
    public const string Architecture = "architecture";
    public const string ArchitectureVersion = "architecture_version";
    public const string VersionString = "version_string";
    public const string PanicString = "panic_string";
    public const string DumpTime = "dump_time";
    public const string DumpLength = "dump_length";
    public const string BlockSize = "block_size";
    public const string DumpKeySize = "dump_key_size";
    public const string BytesReceived = "bytes_received";
    public const string Ranges = "ranges";
    public const string Holes = "holes";
    public const string HolesKnownUntil = "holes_known_until";
    public const string RateBytesPerSecond = "rate_bytes_per_second";
    public const string AverageRateBytesPerSecond = "average_rate_bytes_per_second";
    public const string EtaSeconds = "eta_seconds";
    public const string KeyBytesReceived = "key_bytes_received";
    public const string Compression = "compression";
    public const string Encrypted = "encrypted";
    public const string ParityOk = "parity_ok";
    public const string Vmcore = "vmcore";
    public const string Sha256 = "sha256";
    public const string SupersededBy = "superseded_by";
    public const string Recovered = "recovered";
    public const string Dialect = "dialect";
    public const string ProtocolVersion = "protocol_version";
    public const string Machine = "machine";
    public const string PageSize = "page_size";
    public const string Pages = "pages";
    public const string Reserved = "reserved";
    public const string Registers = "registers";
    public const string LogBytes = "log_bytes";
    public const string KernelVersion = "kernel_version";

    /// <summary>The values of <see cref="Status"/>.</summary>
    public const string Receiving = "receiving", Complete = "complete", Incomplete = "incomplete", Refused = "refused";

    /// <summary>The values of <see cref="Dialect"/>.</summary>
    public const string FreeBsd = "freebsd", Linux = "linux";

    /// <summary>The values of <see cref="Compression"/>.</summary>
    public const string None = "none", Gzip = "gzip", Zstd = "zstd";

    /// <summary>The <see cref="Status"/> value of a status.</summary>
    public static string StatusName(DumpStatus status) => status switch
    {
        DumpStatus.Complete => Complete,
        DumpStatus.Incomplete => Incomplete,
        DumpStatus.Refused => Refused,
        _ => Receiving,
    };

    /// <summary>The status a <see cref="Status"/> value names; null for anything else.</summary>
    public static DumpStatus? ParseStatus(string? name) => name switch
    {
        Receiving => DumpStatus.Receiving,
        Complete => DumpStatus.Complete,
        Incomplete => DumpStatus.Incomplete,
        Refused => DumpStatus.Refused,
        _ => null,
    };

    /// <summary>The <see cref="Compression"/> value of a compression.</summary>
    public static string CompressionName(Protocol.DumpCompression compression) => compression switch
    {
        Protocol.DumpCompression.None => None,
        Protocol.DumpCompression.Gzip => Gzip,
        Protocol.DumpCompression.Zstd => Zstd,
        _ => "unknown",
    };

    /// <summary>The compression a <see cref="Compression"/> value names; null for anything else.</summary>
    public static Protocol.DumpCompression? ParseCompression(string? name) => name switch
    {
        None => Protocol.DumpCompression.None,
        Gzip => Protocol.DumpCompression.Gzip,
        Zstd => Protocol.DumpCompression.Zstd,
        _ => null,
    };
}
