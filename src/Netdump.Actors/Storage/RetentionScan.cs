namespace Netdump.Actors.Storage;

/// <summary>
/// Finds the dumps under dumpdir for retention (<see cref="DumpTree"/>: the directories the
/// start-up scan walks, never through a symlink nor into the server's own folders, and only
/// the server's own dumps: a folder without a dump directory's name is never one, whatever
/// files it holds, so retention cannot remove it), with whose each is, when it arrived, its
/// bytes on disk and why it must stay, if it must. Reads only: a core is opened (read-only)
/// just to learn whether a writer holds it.
/// </summary>
public static class RetentionScan
{
    /// <summary>The dumps found, and one line per directory that could not be looked at.</summary>
    public static (IReadOnlyList<StoredDump> Dumps, IReadOnlyList<string> Problems) Run(string dumpDirectory)
    {
        var dumps = new List<StoredDump>();
        var problems = new List<string>();
        DumpTree.Walk(
            Path.GetFullPath(dumpDirectory),
            (directory, name, entries) =>
            {
                try
                {
                    dumps.Add(Examine(directory, name, entries));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    problems.Add($"{directory}: {e.Message}; left alone");
                }
            },
            (directory, problem) => problems.Add($"{directory}: {problem}"));
        return (dumps, problems);
    }

    private static StoredDump Examine(string directory, DumpDirectoryName name, Dictionary<string, FileSystemInfo> entries)
    {
        var json = entries.TryGetValue(DumpReport.JsonFileName, out var jsonEntry) && jsonEntry is FileInfo file && !DumpTree.IsLink(jsonEntry)
            ? DumpTree.ReadJson(file).OrNull(out _)
            : null;
        var client = DumpJson.Address(json, DumpJson.ClientIp) ?? name.Client;
        var receivedAt = DumpJson.Time(json, DumpJson.ReceivedAt) ?? name.ReceivedAt;
        var bytes = entries.Values.Where(e => e is FileInfo).Aggregate(0UL, (sum, e) => sum + DiskUsage.Of(e));
        // a dump the start-up scan recovered has the scan's time as its end, not its last data's
        var finishedAt = DumpJson.Bool(json, DumpJson.Recovered) == true ? null : DumpJson.Time(json, DumpJson.FinishedAt);
        return new StoredDump(directory, client, receivedAt, bytes, WhyHeld(directory, entries, json), finishedAt);
    }

    /// <summary>
    /// Null when the dump is finished and nothing else has a hold on it; otherwise why it must
    /// stay. A final status is the writer's last word (a recovered dump keeps its
    /// <c>vmcore-incomplete</c>); a core still open in a writer is caught by its lock.
    /// </summary>
    private static DumpHold? WhyHeld(string directory, Dictionary<string, FileSystemInfo> entries, System.Text.Json.JsonElement? json)
    {
        switch (DumpJson.ParseStatus(DumpJson.String(json, DumpJson.Status)))
        {
            case DumpStatus.Receiving:
                return DumpHold.Receiving;
            case null:
                return DumpHold.NoFinalReport;
        }

        if (entries.Values.FirstOrDefault(e => e is DirectoryInfo) is { } folder)
        {
            // a dump nested in this one (an older server allowed it) must not go with it
            return new DumpHold(HoldReason.HoldsDirectory, $"holds the directory \"{folder.Name}\"");
        }

        var coreName = CoreFileNames.All.FirstOrDefault(entries.ContainsKey);
        if (coreName is not null && DumpTree.IsLink(entries[coreName]))
        {
            return new DumpHold(HoldReason.CoreIsLink, $"{coreName} is a symbolic link");
        }

        using var core = RecoveryScan.OpenExclusive(directory, coreName, out var busy);
        return busy is null ? null : new DumpHold(HoldReason.CoreInUse, busy);
    }
}
