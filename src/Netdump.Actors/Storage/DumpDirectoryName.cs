using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace Netdump.Actors.Storage;

/// <summary>
/// What a dump directory's name says (<see cref="DumpLocation.CreateDumpDirectory"/>):
/// <c>&lt;client-ip&gt;-&lt;yyyy-MM-dd-HH:mm:ss&gt;[-N]</c>, the time in the server's local
/// time zone.
/// </summary>
internal sealed record DumpDirectoryName(IPAddress Client, DateTimeOffset ReceivedAt)
{
    public const string TimeFormat = "yyyy-MM-dd-HH:mm:ss";

    /// <summary>The names this type reads, as the operator is told them.</summary>
    public const string Pattern = "<client-ip>-<" + TimeFormat + ">[-N]";

    public static bool TryParse(string name, [NotNullWhen(true)] out DumpDirectoryName? parsed)
    {
        parsed = null;
        var dash = name.IndexOf('-', StringComparison.Ordinal); // IPv4 and IPv6 text have none
        if (dash <= 0 || !IPAddress.TryParse(name.AsSpan(0, dash), out var client))
        {
            return false;
        }

        var rest = name.AsSpan(dash + 1);
        if (rest.Length < TimeFormat.Length
            || !DateTime.TryParseExact(rest[..TimeFormat.Length], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return false;
        }

        var suffix = rest[TimeFormat.Length..];
        if (suffix.Length > 0 && (suffix.Length < 2 || suffix[0] != '-' || !uint.TryParse(suffix[1..], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            return false;
        }

        parsed = new DumpDirectoryName(client, new DateTimeOffset(local, TimeZoneInfo.Local.GetUtcOffset(local)));
        return true;
    }
}
