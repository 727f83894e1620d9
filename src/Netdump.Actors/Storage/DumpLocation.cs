using System.Globalization;
using System.Net;
using System.Text;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;

namespace Netdump.Actors.Storage;

/// <summary>
/// Where a dump goes on disk (SPEC §3): which directory under dumpdir a HERALD path may
/// select, and the exclusive creation of <c>&lt;client-ip&gt;-&lt;YYYY-MM-DD-HH:MM:SS&gt;</c>.
/// </summary>
public static class DumpLocation
{
    /// <summary>The longest HERALD path accepted, in bytes (the client's limit).</summary>
    public const int MaxHeraldPathBytes = 1024;

    /// <summary>How many <c>-N</c> suffixes are tried before giving up on a name.</summary>
    public const int MaxCollisionSuffix = 9999;

    /// <summary>
    /// The most directory levels below dumpdir a HERALD path may lead to: as many as a path of
    /// <see cref="MaxHeraldPathBytes"/> can spell ("a/a/a/..."), so that a symlink cannot place a
    /// dump deeper than a plain path could. The start-up scan searches this deep and one more.
    /// </summary>
    public const int MaxParentDepth = (MaxHeraldPathBytes + 1) / 2;

    private const int DirectoryMode = 0x1C0; // 0700

    /// <summary>Folders of dumpdir that are the server's own (its scripts, secure mode's magic files, fsck's).</summary>
    private static readonly string[] OwnFolders = [ScriptNames.Directory, KnownClients.MagicDirectory, "lost+found"];

    /// <summary>Files only a dump directory holds: its reports, the core being received, the reports' reserved room.</summary>
    private static readonly string[] DumpFiles =
    [
        DumpReport.JsonFileName, DumpReport.InfoFileName, CoreFileNames.Incomplete,
        DumpReport.ReservedName(DumpReport.JsonFileName), DumpReport.ReservedName(DumpReport.InfoFileName),
    ];

    /// <summary>
    /// The file a server locks in its dumpdir (one server a dumpdir). A folder below dumpdir that
    /// holds one is another server's dumpdir: its dumps are that server's to list, recover and
    /// prune, never this one's.
    /// </summary>
    public const string ServerLockFileName = ".netdump-server.lock";

    /// <summary>
    /// True for a name directly in dumpdir that no dump may go into: the server's own folders,
    /// and any hidden name (a lock file, a file system's snapshot folder).
    /// </summary>
    public static bool IsServersOwn(string topLevelName) =>
        topLevelName.StartsWith('.') || OwnFolders.Contains(topLevelName, StringComparer.Ordinal);

    /// <summary>
    /// The absolute directory the dump directory is created in: <paramref name="dumpDir"/>, or
    /// the directory the HERALD path names when it is relative, has no "..", already exists as
    /// a directory and, with every symlink resolved, stays inside dumpdir, at most
    /// <see cref="MaxParentDepth"/> levels down, outside the server's own folders
    /// (<see cref="IsServersOwn"/>) and outside every dump directory. Otherwise dumpdir,
    /// with <paramref name="refusal"/> saying which rule the path broke. An accepted path is
    /// returned with its symlinks below dumpdir resolved, so that swapping a link afterwards
    /// cannot move the dump.
    /// </summary>
    public static string ChooseParent(string dumpDir, string heraldPath, out string? refusal)
    {
        var parent = Path.GetFullPath(dumpDir);
        if (heraldPath.Length == 0)
        {
            refusal = null;
            return parent;
        }

        refusal = Check(parent, heraldPath, out var chosen);
        return refusal is null ? chosen : parent;
    }

    /// <summary>
    /// Creates <c>&lt;parent&gt;/&lt;client-ip&gt;-&lt;yyyy-MM-dd-HH:mm:ss&gt;</c> with mode 0700,
    /// exclusively: when the name exists (same client, same second) it tries <c>-1</c>,
    /// <c>-2</c>, ... Returns the absolute path; throws <see cref="IOException"/> on any other
    /// failure.
    /// </summary>
    public static string CreateDumpDirectory(string parent, IPAddress client, DateTime localTime)
    {
        var root = Path.GetFullPath(parent);
        var name = Path.Combine(root, $"{FormatAddress(client)}-{localTime.ToString(DumpDirectoryName.TimeFormat, CultureInfo.InvariantCulture)}");
        // the next suffix after the one this name last got: a client that dumps many times in
        // one second (a retry loop, a benchmark) would otherwise pay a failed mkdir for every
        // earlier dump of that second; it goes on from the last suffix given (a name freed
        // meanwhile stays unused until the others are taken)
        int first;
        lock (LastSuffix)
        {
            first = LastSuffix.TryGetValue(name, out var last) ? (last + 1) % (MaxCollisionSuffix + 1) : 0;
        }

        for (var tried = 0; tried <= MaxCollisionSuffix; tried++)
        {
            var suffix = (first + tried) % (MaxCollisionSuffix + 1);
            var path = suffix == 0 ? name : $"{name}-{suffix}";
            if (FileSystemSync.MakeDirectory(path, DirectoryMode))
            {
                lock (LastSuffix)
                {
                    if (LastSuffix.Count >= MaxRememberedNames)
                    {
                        LastSuffix.Clear(); // names of past seconds: nothing collides with them any more
                    }

                    LastSuffix[name] = suffix;
                }

                return path;
            }
        }

        throw new IOException($"cannot create a dump directory \"{name}\": names up to -{MaxCollisionSuffix} all exist");
    }

    /// <summary>
    /// The suffix each recent dump directory name got last, by the name without its suffix; the
    /// disk threads share it under its lock (a concurrent dictionary's count takes every lock it
    /// has, and its code is compiled at the first dump: a crash storm's first HERALDs waited).
    /// </summary>
    private static readonly Dictionary<string, int> LastSuffix = new(StringComparer.Ordinal);

    /// <summary>How many names <see cref="LastSuffix"/> holds before it starts again.</summary>
    private const int MaxRememberedNames = 1024;

    /// <summary>
    /// The address as directory names and dump.json show it: an IPv4-mapped IPv6 address
    /// (from a dual-mode socket) as plain IPv4.
    /// </summary>
    public static string FormatAddress(IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    private static string? Check(string parent, string heraldPath, out string chosen)
    {
        chosen = parent;
        var bytes = Encoding.UTF8.GetByteCount(heraldPath);
        if (bytes > MaxHeraldPathBytes)
        {
            return $"herald path of {bytes} bytes is longer than {MaxHeraldPathBytes}";
        }

        var shown = Printable(heraldPath);
        if (heraldPath.Any(char.IsControl))
        {
            return $"herald path \"{shown}\" contains a control character";
        }

        if (heraldPath.Any(Protocol.InvisibleText.IsFormat))
        {
            return $"herald path \"{shown}\" contains an invisible format character";
        }

        if (heraldPath[0] == '/')
        {
            return $"herald path \"{shown}\" is absolute";
        }

        // Empty and "." components cannot leave the directory; ".." could, even where a
        // symlink would bring it back, so it is refused outright.
        if (heraldPath.Split('/').Contains(".."))
        {
            return $"herald path \"{shown}\" contains \"..\"";
        }

        var resolvedRoot = FileSystemSync.RealPath(parent, out var rootError, out _);
        if (resolvedRoot is null)
        {
            return $"dump directory \"{parent}\" cannot be resolved: {rootError}";
        }

        var resolved = FileSystemSync.RealPath(Path.Combine(resolvedRoot, heraldPath), out var error, out var missing);
        if (resolved is null)
        {
            return missing
                ? $"herald path \"{shown}\" does not exist under the dump directory"
                : $"herald path \"{shown}\" cannot be resolved: {error}";
        }

        var prefix = resolvedRoot.EndsWith('/') ? resolvedRoot : resolvedRoot + "/";
        if (resolved != resolvedRoot && !resolved.StartsWith(prefix, StringComparison.Ordinal))
        {
            return $"herald path \"{shown}\" resolves outside the dump directory";
        }

        if (!Directory.Exists(resolved))
        {
            return $"herald path \"{shown}\" is not a directory";
        }

        var relative = Path.GetRelativePath(resolvedRoot, resolved);
        if (relative == ".")
        {
            return null;
        }

        var levels = relative.Split('/');
        if (levels.Length > MaxParentDepth)
        {
            return $"herald path \"{shown}\" resolves {levels.Length} levels below the dump directory, more than {MaxParentDepth}";
        }

        if (IsServersOwn(levels[0]))
        {
            return $"herald path \"{shown}\" leads into \"{Printable(levels[0])}\", which is the server's own";
        }

        // A dump inside another would be taken for one of its files, and the start-up scan
        // treats the outer one as a whole.
        var level = resolvedRoot;
        foreach (var name in levels)
        {
            level = Path.Combine(level, name);
            if (IsDumpDirectory(level))
            {
                return $"herald path \"{shown}\" leads into the dump directory \"{Printable(Path.GetRelativePath(resolvedRoot, level))}\"";
            }

            // another user who may rename entries here could swap a dump's directory for a link to
            // elsewhere, which the server would then write and serve (group write, unlike
            // dumpdir's, is left to the operator: a team's shared folder)
            if (Configuration.TrustedPath.WhyOthersMayRenameIn(level) is { } untrusted)
            {
                return $"herald path \"{shown}\" leads through \"{Printable(Path.GetRelativePath(resolvedRoot, level))}\", which is {untrusted}";
            }
        }

        chosen = Path.Combine(parent, relative);
        return null;
    }

    /// <summary>
    /// True when <paramref name="directory"/> is, or is about to be, a dump directory: it has a
    /// dump directory's name (the writer makes the directory before its files), or it holds a
    /// file only a dump has.
    /// </summary>
    private static bool IsDumpDirectory(string directory) =>
        DumpDirectoryName.TryParse(Path.GetFileName(directory), out _)
        || DumpFiles.Any(name => Path.Exists(Path.Combine(directory, name)));

    /// <summary><paramref name="text"/> with every control or invisible format character as '?': a name quoted in a log line cannot forge or hide a part of it.</summary>
    internal static string Printable(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = Protocol.InvisibleText.IsUnsafe(source[i]) ? '?' : source[i];
            }
        });
}
