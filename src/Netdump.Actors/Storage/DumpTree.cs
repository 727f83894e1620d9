using System.Text;
using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// Where dumps are found under dumpdir, for whoever walks them (the start-up
/// <see cref="RecoveryScan"/>, <see cref="RetentionScan"/>, <see cref="ReportScan"/>): the same
/// directories, the same test of what is a dump (<see cref="DumpMark"/>), the same way of
/// reading its <c>dump.json</c>. Symbolic links are never followed (so no loop, and a link
/// cannot lead outside dumpdir), the server's own folders (<see cref="DumpLocation.IsServersOwn"/>)
/// are skipped, a dump directory is searched too (a dump nested in another, which an older
/// server allowed, is found), and the search stops <see cref="MaxDepth"/> levels down.
/// <para>
/// A directory is one of this server's dumps when it has the name every dump directory gets
/// (<see cref="DumpDirectoryName"/>: the writer and a refused Linux client's directory are both
/// made by <see cref="DumpLocation.CreateDumpDirectory"/>) and holds a file only the writer
/// makes (<see cref="DumpMark"/>). Anything else is the operator's, even with a
/// <c>dump.json</c> in it: the scan would otherwise rewrite a hand-made "receiving" report as a
/// recovered dump, and retention then remove the folder with everything in it. Such a folder
/// is named to the walker's <c>unlisted</c> with the reason, and searched on (dumps under a
/// HERALD path may be below it).
/// </para>
/// </summary>
internal static class DumpTree
{
    /// <summary>
    /// How many directory levels below dumpdir are searched: every level a dump can be made at
    /// (one below the deepest a HERALD path may lead to), and no deeper, so that a deep tree
    /// someone else made cannot keep the server from starting.
    /// </summary>
    public const int MaxDepth = DumpLocation.MaxParentDepth + 1;

    // dump.json lists every hole; even a million of them stays far below this.
    private const long MaxJsonBytes = 64L * 1024 * 1024;

    /// <summary>What a walk tells its visitor of one of the server's dumps: its directory, what its name says, its entries.</summary>
    public delegate void DumpVisitor(string directory, DumpDirectoryName name, Dictionary<string, FileSystemInfo> entries);

    /// <summary>
    /// Visits every dump directory under <paramref name="root"/>, depth first in name order,
    /// without recursion (a deep tree cannot exhaust the stack). A directory that cannot be
    /// listed or looked at (one whose path is longer than PATH_MAX among them), or that holds a
    /// dump's file without being a dump, goes to <paramref name="unlisted"/> once, named as
    /// <see cref="Shown"/> shows it, with the reason. <paramref name="cancel"/> is heeded between
    /// directories, never inside a visit: it throws <see cref="OperationCanceledException"/>
    /// with every directory visited whole or not at all.
    /// </summary>
    public static void Walk(string root, DumpVisitor visit, Action<string, string> unlisted, CancellationToken cancel = default)
    {
        void Unlisted(string directory, string why) => unlisted(Shown(directory), why);

        var pending = new Stack<(string Directory, int Depth)>();
        pending.Push((root, 0));
        while (pending.TryPop(out var next))
        {
            cancel.ThrowIfCancellationRequested();
            Dictionary<string, FileSystemInfo> entries;
            try
            {
                entries = List(next.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Unlisted(next.Directory, $"cannot be listed: {e.Message}");
                continue;
            }

            if (next.Depth > 0 && entries.ContainsKey(DumpLocation.ServerLockFileName))
            {
                Unlisted(next.Directory, $"is another server's dump directory (it holds {DumpLocation.ServerLockFileName}): its dumps are that server's, left alone");
                continue;
            }

            if (next.Depth > 0 && DumpMark(entries) is { } mark)
            {
                if (DumpDirectoryName.TryParse(Path.GetFileName(next.Directory), out var name))
                {
                    visit(next.Directory, name, entries);
                }
                else
                {
                    Unlisted(next.Directory, $"holds {mark}, but its name is not a dump directory's ({DumpDirectoryName.Pattern}, which every dump this server makes has): not a dump of this server, left alone");
                }
            }

            if (next.Depth >= MaxDepth)
            {
                continue;
            }

            var children = new List<string>();
            foreach (var entry in entries.Values.Where(e => e is DirectoryInfo))
            {
                // made here: the listing's own full name of an entry beyond PATH_MAX is empty
                var path = Path.Combine(next.Directory, entry.Name);

                if (entry.Attributes == StatusUnknown)
                {
                    // The listing could not read its status. Its attributes read as "a link"
                    // (every flag set), and every folder deeper than PATH_MAX was passed over so
                    // without a word.
                    if (WhyNotLookedAt(path) is { } why)
                    {
                        Unlisted(path, why);
                    }
                }
                else if (!IsLink(entry) && !(next.Depth == 0 && DumpLocation.IsServersOwn(entry.Name)))
                {
                    children.Add(path);
                }
            }

            children.Sort(StringComparer.Ordinal);
            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push((children[i], next.Depth + 1));
            }
        }
    }

    /// <summary>What .NET gives as the attributes of an entry whose status it could not read.</summary>
    private const FileAttributes StatusUnknown = (FileAttributes)(-1);

    /// <summary>Linux's limit on a path's length in bytes, its terminating NUL included (PATH_MAX).</summary>
    public const int PathMax = 4096;

    /// <summary>
    /// Why a folder a listing named, but whose status it could not read, cannot be searched.
    /// A path of PATH_MAX bytes or more cannot be given to the system at all, so nothing at or
    /// below it can be opened by its path (the walk, the writer and every reader name files by
    /// their paths). Null when the folder is gone since, or readable again: it changed under the
    /// walk, and the next walk sees it as it is.
    /// </summary>
    private static string? WhyNotLookedAt(string path)
    {
        var bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes >= PathMax)
        {
            return $"its path is {bytes} bytes long, longer than a path may be (PATH_MAX, {PathMax} bytes): nothing in it can be opened by its path, so it is not searched; left alone";
        }

        try
        {
            _ = File.GetAttributes(path);
            return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"its status cannot be read: {e.Message}; not searched, left alone";
        }
    }

    /// <summary>Longer paths are cut in their middle by <see cref="Shown"/>.</summary>
    private const int MaxShownChars = 1024;

    /// <summary>
    /// A directory as a log line names it: as much of it as is printable. Control and invisible
    /// format characters (a name under dumpdir may hold any) become '?', and a path longer than
    /// <see cref="MaxShownChars"/> (one beyond PATH_MAX is thousands) keeps its start, which says
    /// where it is, and its end, which folder, with "…" between.
    /// </summary>
    public static string Shown(string directory)
    {
        var printable = DumpLocation.Printable(directory);
        if (printable.Length <= MaxShownChars)
        {
            return printable;
        }

        var head = MaxShownChars / 2;
        var tail = printable.Length - (MaxShownChars - head - 1);
        // never half of a surrogate pair at either cut
        if (char.IsHighSurrogate(printable[head - 1]))
        {
            head--;
        }

        if (char.IsLowSurrogate(printable[tail]))
        {
            tail++;
        }

        return string.Concat(printable.AsSpan(0, head), "…", printable.AsSpan(tail));
    }

    /// <summary>The entries of a directory as <c>lstat</c> sees them: a symlink is itself, not its target.</summary>
    public static Dictionary<string, FileSystemInfo> List(string directory)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            IgnoreInaccessible = false,
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
        };
        return new DirectoryInfo(directory)
            .EnumerateFileSystemInfos("*", options)
            .ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    public static bool IsLink(FileSystemInfo entry) => entry.Attributes.HasFlag(FileAttributes.ReparsePoint);

    /// <summary>A regular file itself: not a link, and not a FIFO, device or socket (<see cref="RegularFile"/>), which a directory listing calls files too.</summary>
    public static bool IsPlainFile(FileSystemInfo entry) => entry is FileInfo && !IsLink(entry) && RegularFile.Is(entry.FullName);

    /// <summary>
    /// The first file of <paramref name="entries"/> that only the writer leaves in a directory,
    /// null without one: a dump.json, the core being received (there from the HERALD on), or the
    /// room it reserves for the reports (kept until the final report). A dump has one of them
    /// from its HERALD to its removal; its directory's name is the other half of the test
    /// (<see cref="Walk"/>).
    /// </summary>
    public static string? DumpMark(Dictionary<string, FileSystemInfo> entries) =>
        MarkNames.FirstOrDefault(entries.ContainsKey);

    private static readonly string[] MarkNames =
    [
        DumpReport.JsonFileName, CoreFileNames.Incomplete,
        DumpReport.ReservedName(DumpReport.JsonFileName), DumpReport.ReservedName(DumpReport.InfoFileName),
    ];

    /// <summary>The room the writer keeps for a dump's final reports, there until they are written.</summary>
    public static bool HasReserve(Dictionary<string, FileSystemInfo> entries) =>
        entries.ContainsKey(DumpReport.ReservedName(DumpReport.InfoFileName))
        || entries.ContainsKey(DumpReport.ReservedName(DumpReport.JsonFileName));

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The parsed dump.json object, or why not: damaged bytes, or a file that could not be read.</summary>
    public static JsonRead ReadJson(FileInfo file)
    {
        try
        {
            using var handle = RegularFile.OpenRead(file.FullName);
            if (RandomAccess.GetLength(handle) > MaxJsonBytes)
            {
                return new JsonRead.Damaged($"is larger than {MaxJsonBytes} bytes");
            }

            // a report saved again by an editor may start with a UTF-8 byte order mark, which the
            // JSON reader would take for damage
            var bytes = RegularFile.ReadAll(handle).AsMemory();
            using var document = JsonDocument.Parse(bytes.Span.StartsWith(Utf8Bom) ? bytes[Utf8Bom.Length..] : bytes);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? new JsonRead.Parsed(document.RootElement.Clone())
                : new JsonRead.Damaged("is not a JSON object");
        }
        catch (JsonException e)
        {
            return new JsonRead.Damaged($"is corrupt: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new JsonRead.Unreadable($"is unreadable: {e.Message}");
        }
    }
}
