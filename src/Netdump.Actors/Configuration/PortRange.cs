using System.Globalization;

namespace Netdump.Actors.Configuration;

/// <summary>An inclusive UDP port range, e.g. <c>20100-20199</c> (<c>session_ports</c>).</summary>
public sealed record PortRange(int First, int Last)
{
    public int Count => Last - First + 1;

    public bool Contains(int port) => port >= First && port <= Last;

    public static PortRange Parse(ConfigKey key, string text)
    {
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first < 1 || last > 65535 || first > last)
        {
            throw key.Invalid($"\"{text}\" is not a port range such as 20100-20199");
        }

        return new PortRange(first, last);
    }

    public override string ToString() => $"{First}-{Last}";
}
