using System.Globalization;
using System.Text.RegularExpressions;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.App.Http;

/// <summary>
/// The query of <c>GET /api/dumps</c>: <c>host</c>, <c>status</c> (one or several, comma
/// separated), <c>since</c> (an ISO 8601 time, or an age such as <c>90s</c>, <c>15m</c>,
/// <c>1h</c>, <c>7d</c>), <c>group</c>, <c>limit</c> (1 to <see cref="MaxLimit"/>, default
/// <see cref="DefaultLimit"/>) and <c>offset</c>. A bad value is a one-line problem, never a guess.
/// </summary>
public static partial class ListQuery
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    /// <summary>The hosts a panic group names in <c>GET /api/groups</c> (alphabetically the first; its <c>host_count</c> counts them all).</summary>
    public const int HostsPerGroup = 100;

    /// <summary>The filter and page, or null with <paramref name="problem"/>.</summary>
    public static (DumpFilter Filter, int Offset, int Limit)? Parse(
        string? host, string? status, string? since, string? group, string? limit, string? offset, DateTimeOffset now, out string? problem)
    {
        problem = null;
        // an empty status (status=, or only commas) filters nothing, as an empty host or group does
        var names = status?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        var statuses = names.Length == 0 ? null : new HashSet<DumpStatus>();
        foreach (var name in names)
        {
            if (DumpJson.ParseStatus(name) is not { } parsed)
            {
                problem = $"status: \"{name}\" is not receiving, complete, incomplete or refused";
                return null;
            }

            statuses!.Add(parsed);
        }

        DateTimeOffset? from = null;
        if (!string.IsNullOrWhiteSpace(since))
        {
            from = ParseSince(since.Trim(), now);
            if (from is null)
            {
                problem = $"since: \"{since}\" is neither an ISO 8601 date or time with its zone (2024-05-01, 2024-05-01T10:00:00Z) nor an age (90s, 15m, 1h, 7d)";
                return null;
            }
        }

        if (ParsePage(limit, offset, out problem) is not { } page)
        {
            return null;
        }

        var filter = new DumpFilter(Blank(host), statuses, from, Blank(group));
        return (filter, page.Offset, page.Limit);
    }

    /// <summary><c>limit</c> (1 to <see cref="MaxLimit"/>, default <see cref="DefaultLimit"/>) and <c>offset</c>, or null with <paramref name="problem"/>.</summary>
    public static (int Offset, int Limit)? ParsePage(string? limit, string? offset, out string? problem)
    {
        problem = null;
        if (!TryCount(limit, DefaultLimit, 1, MaxLimit, out var pageSize))
        {
            problem = $"limit: \"{limit}\" is not a number from 1 to {MaxLimit}";
            return null;
        }

        if (!TryCount(offset, 0, 0, int.MaxValue, out var skip))
        {
            problem = $"offset: \"{offset}\" is not a number from 0 up";
            return null;
        }

        return (skip, pageSize);
    }

    /// <summary>
    /// An ISO 8601 date (its midnight, UTC) or time with its zone (<c>Z</c> or <c>+02:00</c>), or now
    /// less an age (<c>90s</c>, <c>15m</c>, <c>1h</c>, <c>7d</c>). Nothing else: a culture's date
    /// (<c>01/05/2024</c>, January or May?) or a time without its zone would be a guess.
    /// </summary>
    public static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        if (Age().Match(text) is { Success: true } age)
        {
            // more digits than a long holds is no age either (the bound below is far under it)
            if (!long.TryParse(age.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                return null;
            }

            var unit = age.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(1),
                "m" => TimeSpan.FromMinutes(1),
                "h" => TimeSpan.FromHours(1),
                _ => TimeSpan.FromDays(1),
            };
            return n > 100_000 ? null : now - unit * n;
        }

        return DateTimeOffset.TryParseExact(Rfc3339(text), IsoForms, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
    }

    /// <summary>
    /// RFC 3339's space between the date and the time (what <c>date --rfc-3339</c> prints) as ISO's
    /// <c>T</c>; and a space before the offset's <c>hh:mm</c> as the <c>+</c> it was before a URL's
    /// query decoded it (<c>?since=2024-05-01T12:00+02:00</c> typed as is).
    /// </summary>
    private static string Rfc3339(string text) =>
        SpacedOffset().Replace(SpacedTime().Replace(text, "${date}T${time}"), "${time}+${offset}");

    /// <summary>The ISO 8601 forms <see cref="ParseSince"/> takes: a date alone, or a time to the minute, second or fraction with <c>Z</c> or an offset.</summary>
    private static readonly string[] IsoForms =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd'T'HH:mmzz", "yyyy-MM-dd'T'HH:mm:sszz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzz",
    ];

    [GeneratedRegex(@"^(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2}) (?<time>[0-9]{2}:[0-9]{2})")]
    private static partial Regex SpacedTime();

    [GeneratedRegex(@"(?<time>T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?) (?<offset>[0-9]{2}(:[0-9]{2})?)$")]
    private static partial Regex SpacedOffset();

    private static bool TryCount(string? text, int fallback, int min, int max, out int value)
    {
        value = fallback;
        return string.IsNullOrWhiteSpace(text)
            || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [GeneratedRegex("^([0-9]+)([smhd])$")]
    private static partial Regex Age();
}
