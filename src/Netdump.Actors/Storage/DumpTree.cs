using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// Where dumps are found under dumpdir, for whoever walks them (the start-up
/// <see cref="RecoveryScan"/>, <see cref="RetentionScan"/>): the same directories, the same
/// signs of a dump, the same way of reading its <c>dump.json</c>. Symbolic links are never
/// followed (so no loop, and a link cannot lead outside dumpdir), the server's own folders
/// (<see cref="DumpLocation.IsServersOwn"/>) are skipped, a dump directory is searched too (a
/// dump nested in another, which an older server allowed, is found), and the search stops
/// <see cref="MaxDepth"/> levels down.
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

    /// <summary>What a walk tells its visitor of a directory that looks like a dump.</summary>
    public delegate void DumpVisitor(string directory, Dictionary<string, FileSystemInfo> entries);

    /// <summary>
    /// Visits every directory under <paramref name="root"/> that looks like a dump, depth first
    /// in name order, without recursion (a deep tree cannot exhaust the stack). A directory that
    /// cannot be listed goes to <paramref name="unlisted"/> with the reason.
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

            if (next.Depth > 0 && LooksLikeDump(next.Directory, entries))
            {
                visit(next.Directory, entries);
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
    /// What only the writer leaves in a directory: a dump.json, an unfinished core, or the room
    /// it reserves for the reports (made before the core, kept until the final report).
    /// </summary>
    public static bool LooksLikeDump(string directory, Dictionary<string, FileSystemInfo> entries) =>
        entries.ContainsKey(DumpReport.JsonFileName)
        || entries.ContainsKey(CoreFileNames.Incomplete)
        || (HasReserve(entries) && DumpDirectoryName.TryParse(Path.GetFileName(directory), out _));

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
