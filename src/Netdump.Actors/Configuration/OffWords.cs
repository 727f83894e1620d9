namespace Netdump.Actors.Configuration;

/// <summary>
/// The words that turn off a setting which is otherwise a value (<c>compress</c>, <c>cache_dir</c>):
/// <c>off</c>, and the booleans' no, false and 0 (an old Red Hat file's <c>compress = no</c>), and
/// <c>none</c>; any case.
/// </summary>
public static class OffWords
{
    public static bool Match(string text) => text.Trim().ToLowerInvariant() is "off" or "no" or "false" or "0" or "none";
}
