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
    /// listed, or that holds a dump's file without being a dump, goes to
    /// <paramref name="unlisted"/> with the reason.
    /// </summary>
    public static void Walk(string root, DumpVisitor visit, Action<string, string> unlisted)
    {
        var pending = new Stack<(string Directory, int Depth)>();
        pending.Push((root, 0));
        while (pending.TryPop(out var next))
        {
            Dictionary<string, FileSystemInfo> entries;
            try
            {
                entries = List(next.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unlisted(next.Directory, $"cannot be listed: {e.Message}");
                continue;
            }

            if (next.Depth > 0 && entries.ContainsKey(DumpLocation.ServerLockFileName))
            {
                unlisted(next.Directory, $"is another server's dump directory (it holds {DumpLocation.ServerLockFileName}): its dumps are that server's, left alone");
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
                    unlisted(next.Directory, $"holds {mark}, but its name is not a dump directory's ({DumpDirectoryName.Pattern}, which every dump this server makes has): not a dump of this server, left alone");
                }
            }

            if (next.Depth >= MaxDepth)
            {
                continue;
            }

            var children = entries.Values
                .Where(e => e is DirectoryInfo && !IsLink(e) && !(next.Depth == 0 && DumpLocation.IsServersOwn(e.Name)))
                .Select(e => e.FullName)
                .Order(StringComparer.Ordinal)
                .ToList();
            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push((children[i], next.Depth + 1));
            }
        }
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
