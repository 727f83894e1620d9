using System.Net;
using System.Text;

namespace Netdump.Actors.Storage;

/// <summary>
/// The <c>&lt;host&gt;.last</c> links netdumpd's users rely on (SPEC §10): beside each complete
/// dump's directory, a relative symlink named after the client that points to its newest
/// complete dump there. A new link is made under a hidden temporary name and renamed over the
/// old one, so a reader always finds the old link or the new one, never none.
/// </summary>
public static class LastLinks
{
    public const string Suffix = ".last";

    /// <summary>A KDH hostname is at most 64 bytes; anything longer is cut, so the name stays far below NAME_MAX.</summary>
    private const int MaxHostChars = 128;

    /// <summary>
    /// The link's name for a host: its KDH hostname (FreeBSD) or, when there is none (a Linux
    /// client, or a KDH without one), its address. The hostname comes from the client, so every
    /// character but ASCII letters, digits, <c>-</c>, <c>_</c>, <c>.</c> and <c>:</c> becomes
    /// <c>_</c>, and so does a leading dot: no name can climb out with <c>/</c> or <c>..</c>,
    /// hide as a dot file, or carry a control character into a listing. An empty hostname,
    /// <c>.</c> or <c>..</c> is none.
    /// </summary>
    public static string LinkName(string? hostname, IPAddress client)
    {
        // "." and ".." would only sanitize to odd names: they are no hostname
        var host = hostname?.Trim() is null or "" or "." or ".." ? "" : Sanitize(hostname);
        return (host.Length > 0 ? host : Sanitize(DumpLocation.FormatAddress(client))) + Suffix;
    }

    /// <summary>
    /// Points <paramref name="parent"/>/<paramref name="linkName"/> at the dump directory
    /// <paramref name="dumpDirectory"/>'s name (relative, so the tree can be moved or mounted
    /// elsewhere), replacing the old link in one rename. The rename is not fsynced: SPEC §10 asks
    /// for an atomic replacement, and the link is a convenience beside the dump, whose own files
    /// are durable before its FINISHED ack; a crash within the file system's writeback window can
    /// leave the link at the host's previous complete dump, and the next dump's fsync of this
    /// directory makes it durable (one fsync less for every dump; docs/reliability.md). Throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/>, leaving the old link in place; a file or
    /// directory of that name that is not a link is someone else's and is never replaced.
    /// </summary>
    public static void Point(string parent, string linkName, string dumpDirectory)
    {
        if (linkName.Length <= Suffix.Length || linkName.Contains('/') || linkName.StartsWith('.'))
        {
            throw new ArgumentException($"not a link name: {linkName}", nameof(linkName));
        }

        var link = Path.Combine(parent, linkName);
        if (Path.Exists(link) && new FileInfo(link).LinkTarget is null)
        {
            throw new IOException($"{link} exists and is not a link; left alone");
        }

        var temporary = Path.Combine(parent, $".{linkName}.{Guid.NewGuid():N}.tmp");
        File.CreateSymbolicLink(temporary, Path.GetFileName(dumpDirectory));
        try
        {
            FileSystemSync.Rename(temporary, link);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static string Sanitize(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, MaxHostChars));
        foreach (var c in name.AsSpan(0, Math.Min(name.Length, MaxHostChars)))
        {
            var safe = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.' or ':';
            sb.Append(safe && !(c == '.' && sb.Length == 0) ? c : '_');
        }

        return sb.ToString();
    }
}
