using System.Text.Json.Serialization;
using Netdump.Actors.Catalog;
using Netdump.Actors.Metrics;
using Netdump.Actors.Storage;

namespace Netdump.App.Http;

/// <summary>
/// One dump in the API (docs/operations.md, "HTTP API"): the catalog's facts, its panic group,
/// and while it is receiving its <see cref="Progress"/>. <see cref="Files"/> only in
/// <c>GET /api/dumps/{id}</c>.
/// </summary>
public sealed record DumpItem(
    string Id,
    string? Node,
    bool Unreachable,
    string Directory,
    string Status,
    string? Reason,
    string? ReasonKind,
    string ClientIp,
    string? Hostname,
    string Host,
    string? Architecture,
    string? VersionString,
    string? Kernel,
    string? PanicString,
    string? Group,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? FinishedAt,
    DateTimeOffset? DumpTime,
    ulong? DumpLength,
    ulong BytesReceived,
    int HoleCount,
    ulong MissingBytes,
    string Vmcore,
    string? Compression,
    bool Encrypted,
    string Dialect,
    string? Sha256,
    string? SupersededBy,
    bool Recovered,
    ProgressItem? Progress)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FileItem>? Files { get; init; }

    public static DumpItem From(CatalogEntry e) => new(
        e.Id, e.Node, e.Unreachable, e.Directory, DumpJson.StatusName(e.Status), e.Reason?.Text,
        e.Reason is { } reason ? NetdumpMetrics.LabelOf(reason.Kind) : null,
        e.ClientIp, e.Hostname, e.Host, e.Architecture, e.VersionString, e.Kernel, e.PanicString, e.Group,
        e.ReceivedAt.ToUniversalTime(), e.FinishedAt?.ToUniversalTime(), e.DumpTime?.ToUniversalTime(),
        e.DumpLength, e.BytesReceived, e.HoleCount, e.MissingBytes, e.Vmcore, e.Compression, e.Encrypted,
        e.Dialect == Netdump.Actors.Ingest.Dialect.Linux ? DumpJson.Linux : DumpJson.FreeBsd,
        e.Sha256, e.SupersededBy, e.Recovered, ProgressItem.From(e));
}

/// <summary>How far a receiving dump is: bytes, the share of its length once known, its rates and the time left.</summary>
public sealed record ProgressItem(ulong BytesReceived, ulong? DumpLength, double? Percent, ulong RateBytesPerSecond, ulong AverageRateBytesPerSecond, ulong? EtaSeconds)
{
    public static ProgressItem? From(CatalogEntry e) => e.Status != DumpStatus.Receiving
        ? null
        : new ProgressItem(e.BytesReceived, e.DumpLength,
            e.DumpLength is > 0 and var length ? Math.Round(Math.Min(100.0, e.BytesReceived * 100.0 / length), 1) : null,
            e.Rate?.LastTick ?? 0, e.Rate?.Average ?? 0, e.EtaSeconds);
}

/// <summary>A file of a dump, and the URL it is served from (relative to the server).</summary>
public sealed record FileItem(string Name, long Size, string Url)
{
    /// <summary>The servable files of dump <paramref name="id"/> in <paramref name="directory"/>, each with its URL on the API.</summary>
    public static List<FileItem> Of(string directory, string id) =>
        Netdump.Actors.Catalog.DumpFiles.List(directory).Select(f => new FileItem(f.Name, f.Size, ApiRoutes.FilePath(id, f.Name))).ToList();
}

/// <summary><c>GET /api/dumps</c>: the dumps that match, newest first, a page of them.</summary>
public sealed record DumpList(int Total, int Offset, int Limit, IReadOnlyList<DumpItem> Items);

/// <summary><c>GET /api/sessions</c>: the dumps receiving now, newest first.</summary>
public sealed record SessionList(IReadOnlyList<DumpItem> Items);

/// <summary>One panic group: the masked panic, the kernel, its hosts and dumps, when first and last seen, its last storm.</summary>
public sealed record GroupItem(
    string Id, string? Node, string Panic, string Kernel, string SamplePanic, int HostCount, IReadOnlyList<string> Hosts,
    int Dumps, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, DateTimeOffset? StormAt)
{
    public static GroupItem From(PanicGroupSummary g) => new(
        g.Key.Id, null, g.Key.Panic, g.Key.Kernel, g.SamplePanic, g.HostCount, g.Hosts, g.Dumps,
        g.FirstSeen.ToUniversalTime(), g.LastSeen.ToUniversalTime(), g.StormAt?.ToUniversalTime());
}

/// <summary><c>GET /api/groups</c>: the panic groups, the most recently seen first, a page of them.</summary>
public sealed record GroupList(int Total, int Offset, int Limit, IReadOnlyList<GroupItem> Items);

/// <summary>Every 4xx/5xx answer of the API: what was wrong, in one line.</summary>
public sealed record ApiError(string Error);

/// <summary><c>GET /healthz</c>.</summary>
public sealed record Health(string Status, int Dumps, int Receiving);

/// <summary>The API's JSON, written by System.Text.Json's source generator (no reflection), names in snake_case.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, Converters = [typeof(UtcTimeConverter)])]
[JsonSerializable(typeof(DumpList))]
[JsonSerializable(typeof(DumpItem))]
[JsonSerializable(typeof(SessionList))]
[JsonSerializable(typeof(GroupList))]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(Health))]
public sealed partial class ApiJson : JsonSerializerContext;

/// <summary>Times in the API as in dump.json: UTC, milliseconds, <c>Z</c> (<c>2024-05-01T10:00:00.123Z</c>).</summary>
public sealed class UtcTimeConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(System.Text.Json.Utf8JsonWriter writer, DateTimeOffset value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
