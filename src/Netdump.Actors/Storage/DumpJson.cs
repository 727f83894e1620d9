using System.Globalization;
using System.Net;
using System.Text.Json;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>
/// The one home of <c>dump.json</c>'s names (SPEC §3; docs/operations.md for the keys added
/// since): its field names and the words its values use, for <see cref="DumpReport"/>, which
/// writes them, and for everything that reads them back (<see cref="DumpRecordReader"/>, the
/// start-up <see cref="RecoveryScan"/>, <see cref="RetentionScan"/>), with the typed reads they share.
/// </summary>
public static class DumpJson
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
    public const string StoredCompression = "stored_compression";
    public const string CompressedAtRest = "compressed_at_rest";
    public const string StoredBytes = "stored_bytes";
    public const string StoredSha256 = "stored_sha256";
    public const string CompressionProblem = "compression_problem";
    public const string DecryptedVmcore = "decrypted_vmcore";
    public const string DecryptionProblem = "decryption_problem";
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

    /// <summary>The values of <see cref="Compression"/> and <see cref="StoredCompression"/>.</summary>
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
        Complete => DumpStatus.Complete,
        Incomplete => DumpStatus.Incomplete,
        Refused => DumpStatus.Refused,
        Receiving => DumpStatus.Receiving,
        _ => null,
    };

    /// <summary>The <see cref="Compression"/> value of a compression.</summary>
    public static string CompressionName(DumpCompression compression) => compression switch
    {
        DumpCompression.None => None,
        DumpCompression.Gzip => Gzip,
        DumpCompression.Zstd => Zstd,
        _ => "unknown",
    };

    /// <summary>The compression a <see cref="Compression"/> value names; null for anything else.</summary>
    public static DumpCompression? ParseCompression(string? name) => name switch
    {
        None => DumpCompression.None,
        Gzip => DumpCompression.Gzip,
        Zstd => DumpCompression.Zstd,
        _ => null,
    };

    /// <summary>The <see cref="Dialect"/> value of a dialect.</summary>
    public static string DialectName(Ingest.Dialect dialect) => dialect == Ingest.Dialect.Linux ? Linux : FreeBsd;

    /// <summary>A string field; null when it is absent, not a string, or not text (a JSON string may hold escapes of invalid UTF-16, which .NET will not read as a string).</summary>
    public static string? String(JsonElement? json, string name)
    {
        try
        {
            return Property(json, name, JsonValueKind.String)?.GetString();
        }
        catch (InvalidOperationException)
        {
            return null; // "Cannot transcode invalid UTF-8": a hand-made or damaged report
        }
    }

    public static ulong? ULong(JsonElement? json, string name) =>
        Property(json, name, JsonValueKind.Number) is { } v && v.TryGetUInt64(out var n) ? n : null;

    public static uint? UInt(JsonElement? json, string name) =>
        Property(json, name, JsonValueKind.Number) is { } v && v.TryGetUInt32(out var n) ? n : null;

    public static long? Long(JsonElement? json, string name) =>
        Property(json, name, JsonValueKind.Number) is { } v && v.TryGetInt64(out var n) ? n : null;

    public static bool? Bool(JsonElement? json, string name) =>
        Property(json, name, JsonValueKind.True) is not null ? true
        : Property(json, name, JsonValueKind.False) is not null ? false
        : null;

    public static IPAddress? Address(JsonElement? json, string name) =>
        String(json, name) is { } text && IPAddress.TryParse(text, out var address) ? address : null;

    public static DateTimeOffset? Time(JsonElement? json, string name) =>
        String(json, name) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;

    /// <summary>A list of <c>[start, end)</c> pairs; null when the field is missing or anything in it is not such a pair.</summary>
    public static IReadOnlyList<ByteRange>? ByteRanges(JsonElement? json, string name)
    {
        if (Property(json, name, JsonValueKind.Array) is not { } array)
        {
            return null;
        }

        var ranges = new List<ByteRange>();
        foreach (var pair in array.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
                || !pair[0].TryGetUInt64(out var start) || !pair[1].TryGetUInt64(out var end) || end < start)
            {
                return null;
            }

            ranges.Add(new ByteRange(start, end));
        }

        return ranges;
    }

    private static JsonElement? Property(JsonElement? json, string name, JsonValueKind kind) =>
        json is { } j && j.TryGetProperty(name, out var value) && value.ValueKind == kind ? value : null;
}
