using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary><c>dump.json</c>: the machines' description of a dump, its names in <see cref="DumpJson"/>.</summary>
public static partial class DumpReport
{
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        // The file is not embedded in HTML: keep '+', '<', non-ASCII and so on readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The <c>dump.json</c> text (schema in SPEC §3, and docs/operations.md for the keys added
    /// since). Header-derived fields are null until a KDH arrived; 64-bit counts are written as
    /// exact integers. <c>holes</c> covers <c>[0, holes_known_until)</c>: the whole dump once its
    /// length is known, the gaps up to the last byte received before. <c>recovered</c> is true
    /// for a dump marked at start-up after the server stopped while receiving it: its
    /// <c>ranges</c> and <c>holes</c> are then unknown (empty, <c>holes_known_until</c> null) and
    /// <c>bytes_received</c> is the core's size. The rates and <c>eta_seconds</c> are those of a
    /// dump still receiving, null otherwise. <c>sha256</c> is that of <c>vmcore</c>, written
    /// only once computed after a complete dump ended, null until then and for any other dump.
    /// </summary>
    public static string FormatJson(DumpRecord r)
    {
        var h = r.Header;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, JsonOptions))
        {
            w.WriteStartObject();
            w.WriteString(DumpJson.Status, DumpJson.StatusName(r.Status));
            w.WriteString(DumpJson.Reason, r.Status == DumpStatus.Complete ? null : r.Reason?.Text);
            w.WriteString(DumpJson.ClientIp, DumpLocation.FormatAddress(r.ClientIp));
            w.WriteString(DumpJson.ServerIp, DumpLocation.FormatAddress(r.ServerIp));
            w.WriteString(DumpJson.HeraldPath, r.HeraldPath);
            w.WriteString(DumpJson.HeraldPathFallback, r.HeraldPathFallback);
            w.WriteString(DumpJson.Directory, r.Directory);
            w.WriteString(DumpJson.ReceivedAt, FormatTimestamp(r.ReceivedAt));
            w.WriteString(DumpJson.FinishedAt, r.FinishedAt is { } finished ? FormatTimestamp(finished) : null);
            w.WriteString(DumpJson.Magic, h?.Magic);
            w.WriteString(DumpJson.Hostname, h?.Hostname);
            w.WriteString(DumpJson.Architecture, h?.Architecture);
            WriteNumberOrNull(w, DumpJson.ArchitectureVersion, h?.ArchitectureVersion);
            w.WriteString(DumpJson.VersionString, h?.VersionString);
            w.WriteString(DumpJson.PanicString, h?.PanicString ?? r.Linux?.PanicString);
            w.WriteString(DumpJson.DumpTime, h is null ? null : FormatDumpTime(h));
            WriteNumberOrNull(w, DumpJson.DumpLength, r.Length); // the KDH's, or a Linux core's full size
            WriteNumberOrNull(w, DumpJson.BlockSize, h?.BlockSize);
            WriteNumberOrNull(w, DumpJson.DumpKeySize, h?.DumpKeySize);
            w.WriteNumber(DumpJson.BytesReceived, r.BytesReceived);
            WriteRanges(w, DumpJson.Ranges, r.Ranges);
            WriteRanges(w, DumpJson.Holes, r.Holes);
            WriteNumberOrNull(w, DumpJson.HolesKnownUntil, r.HolesKnownUntil);
            WriteNumberOrNull(w, DumpJson.RateBytesPerSecond, r.Rate?.LastTick);
            WriteNumberOrNull(w, DumpJson.AverageRateBytesPerSecond, r.Rate?.Average);
            WriteNumberOrNull(w, DumpJson.EtaSeconds, r.Rate is { } rate ? ReceiveRate.SecondsLeft(r.BytesReceived, r.Length, rate.LastTick) : null);
            w.WriteNumber(DumpJson.KeyBytesReceived, r.KeyBytesReceived);
            w.WriteString(DumpJson.Compression, h is null ? null : DumpJson.CompressionName(h.Compression));
            w.WriteBoolean(DumpJson.Encrypted, r.Encrypted);
            if (h is null)
            {
                w.WriteNull(DumpJson.ParityOk);
            }
            else
            {
                w.WriteBoolean(DumpJson.ParityOk, h.ParityOk);
            }

            w.WriteString(DumpJson.Vmcore, r.Vmcore);
            w.WriteString(DumpJson.Sha256, r.Sha256);
            w.WriteString(DumpJson.StoredCompression, StoredCompression(r) is { } stored ? DumpJson.CompressionName(stored) : null);
            w.WriteBoolean(DumpJson.CompressedAtRest, r.CompressedAtRest);
            WriteNumberOrNull(w, DumpJson.StoredBytes, r.StoredBytes);
            w.WriteString(DumpJson.StoredSha256, r.StoredSha256);
            w.WriteString(DumpJson.CompressionProblem, r.CompressionProblem);
            w.WriteString(DumpJson.DecryptedVmcore, r.DecryptedVmcore);
            w.WriteString(DumpJson.DecryptionProblem, r.DecryptionProblem);
            w.WriteString(DumpJson.SupersededBy, r.SupersededBy);
            w.WriteBoolean(DumpJson.Recovered, r.Recovered);
            w.WriteString(DumpJson.Dialect, DumpJson.DialectName(r.Dialect));
            if (r.Linux is { } linux)
            {
                w.WriteNumber(DumpJson.ProtocolVersion, linux.ProtocolVersion);
                w.WriteNumber(DumpJson.Machine, linux.Machine);
                w.WriteNumber(DumpJson.PageSize, linux.PageSize);
                w.WriteNumber(DumpJson.Pages, linux.Pages);
                WriteRanges(w, DumpJson.Reserved, linux.Reserved);
                w.WriteBoolean(DumpJson.Registers, linux.Registers);
                w.WriteNumber(DumpJson.LogBytes, linux.LogBytes);
                w.WriteString(DumpJson.KernelVersion, linux.KernelVersion);
            }

            w.WriteEndObject();
        }

        return Utf8NoBom.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    private static string FormatTimestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>How the stored core is encoded, once its size is known: the client's compression, or zstd when the server compressed it at rest.</summary>
    private static DumpCompression? StoredCompression(DumpRecord r) =>
        r.StoredBytes is null ? null
        : r.CompressedAtRest ? DumpCompression.Zstd
        : r.Header?.Compression ?? DumpCompression.None;

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteRanges(Utf8JsonWriter w, string name, IReadOnlyList<ByteRange> ranges)
    {
        w.WritePropertyName(name);
        if (ranges.Count == 0)
        {
            w.WriteRawValue("[]", skipInputValidation: true);
            return;
        }

        // One pair per line rather than one number per line, so that a dump with many holes
        // stays readable; the indentation matches the writer's for a top-level property.
        var sb = new StringBuilder("[");
        for (var i = 0; i < ranges.Count; i++)
        {
            sb.Append(i == 0 ? "\n    [" : ",\n    [")
                .Append(ranges[i].Start.ToString(CultureInfo.InvariantCulture))
                .Append(", ")
                .Append(ranges[i].End.ToString(CultureInfo.InvariantCulture))
                .Append(']');
        }

        sb.Append("\n  ]");
        w.WriteRawValue(sb.ToString(), skipInputValidation: true);
    }
}
