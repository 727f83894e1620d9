using System.Globalization;
using System.Text.Json;
using Netdump.Actors.Storage;
using F = Netdump.Actors.Storage.DumpJson;

namespace Netdump.Actors.Catalog;

/// <summary>
/// Makes a <see cref="CatalogEntry"/> from what describes a dump: a <c>dump.json</c> read
/// from disk (at start), or the <see cref="DumpRecord"/> the writer just reported (while the
/// server runs). Both read the same fields, named in <see cref="DumpJson"/>.
/// </summary>
public static class CatalogEntries
{
    /// <summary>
    /// The entry of the dump in <paramref name="directory"/> from its <c>dump.json</c>; null
    /// when the report lacks what every dump has (status, client, time).
    /// </summary>
    public static CatalogEntry? FromJson(string root, string directory, JsonElement json)
    {
        if (F.ParseStatus(String(json, F.Status)) is not { } status
            || String(json, F.ClientIp) is not { } client
            || Time(json, F.ReceivedAt) is not { } receivedAt)
        {
            return null;
        }

        var dialect = String(json, F.Dialect) == F.Linux ? Ingest.Dialect.Linux : Ingest.Dialect.FreeBsd;
        var panic = String(json, F.PanicString);
        var versionString = String(json, F.VersionString);
        var kernel = dialect == Ingest.Dialect.Linux ? String(json, F.KernelVersion) : KernelVersion.FromFreeBsd(versionString);
        var (holeCount, missing) = Holes(json);
        var reason = String(json, F.Reason);
        var lastRate = ULong(json, F.RateBytesPerSecond);
        return new CatalogEntry
        {
            Id = DumpId.Of(root, directory),
            Directory = directory,
            Status = status,
            Reason = status == DumpStatus.Complete || reason is null ? null : EndReason.Parse(reason),
            ClientIp = client,
            Hostname = String(json, F.Hostname),
            Architecture = String(json, F.Architecture),
            VersionString = versionString,
            PanicString = panic,
            Kernel = kernel,
            Group = PanicGroupKey.Of(panic, kernel)?.Id,
            ReceivedAt = receivedAt,
            FinishedAt = Time(json, F.FinishedAt),
            DumpTime = Time(json, F.DumpTime),
            DumpLength = ULong(json, F.DumpLength),
            BytesReceived = ULong(json, F.BytesReceived) ?? 0,
            HoleCount = holeCount,
            MissingBytes = missing,
            Vmcore = String(json, F.Vmcore) ?? CoreFileNames.Incomplete,
            Compression = String(json, F.Compression),
            Encrypted = json.TryGetProperty(F.Encrypted, out var e) && e.ValueKind == JsonValueKind.True,
            Dialect = dialect,
            Sha256 = String(json, F.Sha256),
            SupersededBy = String(json, F.SupersededBy),
            Recovered = json.TryGetProperty(F.Recovered, out var r) && r.ValueKind == JsonValueKind.True,
            Rate = status == DumpStatus.Receiving && lastRate is { } last ? new ReceiveRate(last, ULong(json, F.AverageRateBytesPerSecond) ?? 0) : null,
        };
    }

    /// <summary>The entry of a dump the writer reported.</summary>
    public static CatalogEntry FromRecord(string root, DumpRecord record)
    {
        var h = record.Header;
        var panic = h?.PanicString ?? record.Linux?.PanicString;
        var kernel = record.Linux is { } linux ? linux.KernelVersion : KernelVersion.FromFreeBsd(h?.VersionString);
        return new CatalogEntry
        {
            Id = DumpId.Of(root, record.Directory),
            Directory = record.Directory,
            Status = record.Status,
            Reason = record.Status == DumpStatus.Complete ? null : record.Reason,
            ClientIp = DumpLocation.FormatAddress(record.ClientIp),
            Hostname = h?.Hostname,
            Architecture = h?.Architecture,
            VersionString = h?.VersionString,
            PanicString = panic,
            Kernel = kernel,
            Group = PanicGroupKey.Of(panic, kernel)?.Id,
            ReceivedAt = record.ReceivedAt,
            FinishedAt = record.FinishedAt,
            DumpTime = h?.DumpTimeUtc,
            DumpLength = record.Length,
            BytesReceived = record.BytesReceived,
            HoleCount = record.Holes.Count,
            MissingBytes = ByteRange.Total(record.Holes),
            Vmcore = record.Vmcore,
            Compression = h is null ? null : F.CompressionName(h.Compression),
            Encrypted = record.Encrypted,
            Dialect = record.Dialect,
            Sha256 = record.Sha256,
            SupersededBy = record.SupersededBy,
            Recovered = record.Recovered,
            Rate = record.Status == DumpStatus.Receiving ? record.Rate : null,
        };
    }

    private static (int Count, ulong Bytes) Holes(JsonElement json)
    {
        if (!json.TryGetProperty(F.Holes, out var holes) || holes.ValueKind != JsonValueKind.Array)
        {
            return (0, 0);
        }

        var count = 0;
        var bytes = 0UL;
        foreach (var pair in holes.EnumerateArray())
        {
            if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2
                && pair[0].TryGetUInt64(out var start) && pair[1].TryGetUInt64(out var end) && end >= start)
            {
                count++;
                bytes += end - start;
            }
        }

        return (count, bytes);
    }

    private static string? String(JsonElement json, string name) => F.String(json, name);

    private static ulong? ULong(JsonElement json, string name) => F.ULong(json, name);

    private static DateTimeOffset? Time(JsonElement json, string name) =>
        String(json, name) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
}
