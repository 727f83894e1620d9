namespace Netdump.Actors.Configuration;

/// <summary>
/// Where the server keeps what it can rebuild (<c>cache_dir</c>): today the runtime's start-up
/// profile, which lets a restarted server compile ahead of its first dumps the code its last run
/// compiled while taking them (docs/performance.md). <c>auto</c> follows the conventions: systemd's
/// <c>CacheDirectory=</c> (<c>$CACHE_DIRECTORY</c>), then <c>$XDG_CACHE_HOME/netdump-server</c>,
/// then <c>/var/cache/netdump-server</c> for root and <c>~/.cache/netdump-server</c> for anyone else;
/// <c>off</c> (or another of the <see cref="OffWords"/>, as <c>compress</c> takes them) keeps
/// nothing: a folder by one of those names is written <c>./off</c>.
/// </summary>
public static class CacheLocation
{
    public const string Auto = "auto";

    /// <summary>The folder under the cache homes.</summary>
    public const string Folder = "netdump-server";

    /// <summary>
    /// The absolute directory <paramref name="value"/> names, or null for <c>off</c> (or for
    /// <c>auto</c> with no home to put it under). <paramref name="environment"/> reads a variable.
    /// </summary>
    public static string? Resolve(string value, Func<string, string?> environment, bool root) =>
        OffWords.Match(value) ? null
        : value.Trim() == Auto ? AutoDirectory(environment, root)
        : Path.GetFullPath(value.Trim());

    private static string? AutoDirectory(Func<string, string?> environment, bool root)
    {
        if (Absolute(environment("CACHE_DIRECTORY")) is { } systemd)
        {
            // systemd may list several, separated by ':'; the unit names one
            return systemd.Split(':')[0];
        }

        if (Absolute(environment("XDG_CACHE_HOME")) is { } xdg)
        {
            return Path.Combine(xdg, Folder);
        }

        if (root)
        {
            return Path.Combine("/var/cache", Folder);
        }

        return Absolute(environment("HOME")) is { } home ? Path.Combine(home, ".cache", Folder) : null;
    }

    /// <summary>The XDG rule: a relative path in these variables is invalid and ignored.</summary>
    private static string? Absolute(string? path) => string.IsNullOrEmpty(path) || !Path.IsPathRooted(path) ? null : path;
}
