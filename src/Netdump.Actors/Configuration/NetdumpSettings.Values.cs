using System.Globalization;
using System.Net;
using Akka.Configuration;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Configuration;

/// <summary>How the settings' values are read from their text; each problem names its key.</summary>
public sealed partial record NetdumpSettings
{
    /// <summary>A key whose value is one of a few words (its first the default), as the value it stands for.</summary>
    private static T ParseChoice<T>(Config c, ConfigKey key, params (string Word, T Value)[] choices)
    {
        var text = c.GetString(key.Name, choices[0].Word);
        foreach (var (word, value) in choices)
        {
            if (text == word)
            {
                return value;
            }
        }

        var words = choices.Select(choice => choice.Word).ToList();
        throw key.Invalid($"\"{text}\" is not {string.Join(", ", words[..^1])} or {words[^1]}");
    }

    /// <summary>
    /// <c>compress</c>: <c>zstd</c> or <c>off</c>. The Red Hat server's key took a boolean, so an
    /// old file's <c>yes</c>/<c>no</c> (and true/false, on/off, 1/0) still means compress or not.
    /// </summary>
    private static AtRestCompression ParseCompress(string text) =>
        OffWords.Match(text) ? AtRestCompression.Off
        : text.Trim().ToLowerInvariant() is "zstd" or "yes" or "true" or "on" or "1" ? AtRestCompression.Zstd
        : throw ConfigKeys.Compress.Invalid($"\"{text}\" is not zstd or off");

    /// <summary><c>keep_per_host</c>, <c>max_age</c> and <c>max_total</c>; 0 or "" is no limit.</summary>
    private static RetentionPolicy ParseRetention(Config c)
    {
        var keep = c.GetInt(ConfigKeys.KeepPerHost.Name, 0);
        if (keep < 0)
        {
            throw ConfigKeys.KeepPerHost.Invalid($"{keep} must be 0 (no limit) or more");
        }

        TimeSpan? maxAge = null;
        var ageText = c.GetString(ConfigKeys.MaxAge.Name, "");
        if (!string.IsNullOrWhiteSpace(ageText))
        {
            var age = c.GetTimeSpan(ConfigKeys.MaxAge.Name);
            if (age > TimeSpan.Zero && age < RetentionPolicy.MinimumAge)
            {
                throw ConfigKeys.MaxAge.Invalid($"\"{ageText}\" is less than the hour every dump is kept (0 = no limit)");
            }

            maxAge = age > TimeSpan.Zero ? age : null;
        }

        var totalText = c.GetString(ConfigKeys.MaxTotal.Name, "");
        var maxTotal = string.IsNullOrWhiteSpace(totalText) ? 0 : ParseSize(ConfigKeys.MaxTotal, totalText);
        return new RetentionPolicy(keep, maxAge, maxTotal == 0 ? null : maxTotal);
    }

    /// <summary>Parses a byte count with an optional K, M, G or T suffix (powers of 1024).</summary>
    public static ulong ParseSize(ConfigKey key, string text)
    {
        var t = text.Trim();
        ulong unit = 1;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            unit = char.ToUpperInvariant(t[^1]) switch
            {
                'K' => 1UL << 10,
                'M' => 1UL << 20,
                'G' => 1UL << 30,
                'T' => 1UL << 40,
                _ => throw key.Invalid($"\"{text}\" has an unknown size suffix (use K, M, G or T)"),
            };
            t = t[..^1];
        }

        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > ulong.MaxValue / unit)
        {
            throw key.Invalid($"\"{text}\" is not a size");
        }

        return value * unit;
    }

    /// <summary>Parses a comma-separated list of IPv4 CIDR prefixes (a bare address means /32), each address a <see cref="DottedQuad"/>.</summary>
    public static IReadOnlyList<IPNetwork> ParseAllow(string text)
    {
        var networks = new List<IPNetwork>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var slash = item.IndexOf('/');
            var prefix = slash < 0 ? "32" : item[(slash + 1)..];
            if (!DottedQuad.TryParse(slash < 0 ? item : item[..slash], out var address)
                || !prefix.All(char.IsAsciiDigit)
                || !IPNetwork.TryParse($"{address}/{prefix}", out var network))
            {
                throw ConfigKeys.Allow.Invalid($"\"{item}\" is not an IPv4 CIDR prefix such as 192.0.2.0/24");
            }

            networks.Add(network);
        }

        return networks;
    }

    private static TimeSpan Positive(Config c, ConfigKey key)
    {
        var value = c.GetTimeSpan(key.Name);
        if (value <= TimeSpan.Zero)
        {
            throw key.Invalid("must be positive");
        }

        return value;
    }
}
