using Netdump.App.Configuration;

namespace Netdump.Tests.App;

/// <summary>A parsed netdump.conf read through its <see cref="NetdumpConfFile.Settings"/>, by key.</summary>
internal static class ConfFileSettings
{
    /// <summary>The typed values by key.</summary>
    public static IReadOnlyDictionary<string, object> Values(this NetdumpConfFile conf) =>
        conf.Settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);

    /// <summary>The line where <paramref name="key"/> is set, or null.</summary>
    public static int? LineOf(this NetdumpConfFile conf, string key) => conf.Settings.FirstOrDefault(s => s.Key == key)?.Line;
}
