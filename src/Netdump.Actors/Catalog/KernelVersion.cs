namespace Netdump.Actors.Catalog;

/// <summary>
/// The kernel version a panic group is keyed by. FreeBSD: the KDH's version string up to the
/// build date, <c>FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8</c> (the date,
/// builder and object path that follow name no other kernel). Linux: the version the console
/// log printed (<see cref="FromLinuxLog"/>).
/// </summary>
public static class KernelVersion
{
    /// <summary>The version of a FreeBSD KDH version string; null for none.</summary>
    public static string? FromFreeBsd(string? versionString)
    {
        if (string.IsNullOrWhiteSpace(versionString))
        {
            return null;
        }

        var line = versionString.Split('\n', 2)[0];
        var date = line.IndexOf(": ", StringComparison.Ordinal);
        var version = (date > 0 ? line[..date] : line).Trim();
        return version.Length == 0 ? null : Storage.DumpReport.OneLine(version);
    }

    /// <summary>
    /// The kernel version in a Linux console line: <c>Linux version 2.6.9-89.ELsmp (...)</c> at
    /// boot, or an oops's <c>Pid: 1, comm: swapper Not tainted 2.6.9-89.ELsmp</c> (also
    /// <c>Tainted: P ... 2.6.9-89.ELsmp</c>); null when the line says none.
    /// </summary>
    public static string? FromLinuxLine(string line)
    {
        const string banner = "Linux version ";
        var at = line.IndexOf(banner, StringComparison.Ordinal);
        if (at >= 0)
        {
            return FirstWord(line[(at + banner.Length)..]);
        }

        foreach (var marker in (string[])["Not tainted ", "Tainted: "])
        {
            at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && line.Contains("comm:", StringComparison.Ordinal))
            {
                // "Tainted: P      2.6.9-..." : the version is the last word, after the taint flags
                var rest = line[(at + marker.Length)..].Trim();
                var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return words.LastOrDefault(w => w.Length > 0 && char.IsDigit(w[0]));
            }
        }

        return null;
    }

    private static string? FirstWord(string text)
    {
        var word = text.TrimStart().Split(' ', 2)[0].Trim();
        return word.Length == 0 ? null : word;
    }
}
