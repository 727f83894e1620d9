using System.Globalization;
using System.Text;

namespace Netdump.Actors.Storage;

/// <summary>What became of one planned removal.</summary>
public abstract record RemovalOutcome(Removal Removal)
{
    /// <summary>The dump is gone.</summary>
    public sealed record Removed(Removal Removal) : RemovalOutcome(Removal);

    /// <summary>The dump, or some of it, is still there: <paramref name="Why"/>.</summary>
    public sealed record Failed(Removal Removal, string Why) : RemovalOutcome(Removal);
}

/// <summary>Whether retention.log holds a line for every removal of a pass.</summary>
public abstract record RemovalLog
{
    private RemovalLog()
    {
    }

    /// <summary>Every removal has its line (a pass that removed nothing has nothing to record).</summary>
    public sealed record Recorded : RemovalLog
    {
        public static Recorded Instance { get; } = new();
    }

    /// <summary>The dumps went all the same; <paramref name="Why"/> says why their lines did not.</summary>
    public sealed record Unrecorded(string Why) : RemovalLog;
}

/// <summary>
/// What one retention pass did: its plan, what became of each removal (none on a dry run), the
/// directories the scan could not judge, and whether retention.log recorded the removals.
/// </summary>
public sealed record RetentionPass(RetentionPlan Plan, IReadOnlyList<RemovalOutcome> Outcomes, IReadOnlyList<string> Problems, RemovalLog Log);

/// <summary>
/// Carries out a <see cref="RetentionPlan"/>: removes each dump directory and appends one line
/// per removal to <c>&lt;dumpdir&gt;/retention.log</c>, the operator's record of what went and
/// why (the server's log may rotate away). Used by the server's periodic run and by
/// <c>netdump-server prune</c>.
/// </summary>
public static class RetentionRun
{
    public const string LogFileName = "retention.log";

    /// <summary>Scans, plans and removes: what one retention pass does.</summary>
    public static RetentionPass Prune(string dumpDirectory, RetentionPolicy policy, DateTimeOffset now, bool dryRun)
    {
        var (dumps, found) = RetentionScan.Run(dumpDirectory);
        var plan = RetentionPlan.Make(dumps, policy, now);
        // a dump dated ahead is said whatever the keys do: it stays for good
        var problems = found.Concat(plan.DatedAhead).ToList();
        if (dryRun)
        {
            return new RetentionPass(plan, [], problems, RemovalLog.Recorded.Instance);
        }

        var (outcomes, log) = Execute(dumpDirectory, plan, now);
        return new RetentionPass(plan, outcomes, problems, log);
    }

    /// <summary>
    /// Removes every dump of the plan, in its order; one failure does not stop the others. A
    /// removal that retention.log could not record is still a removal: what kept the log from
    /// it comes back apart (<paramref name="plan"/>'s removals are logged by the caller too).
    /// </summary>
    public static (IReadOnlyList<RemovalOutcome> Outcomes, RemovalLog Log) Execute(string dumpDirectory, RetentionPlan plan, DateTimeOffset now)
    {
        var outcomes = new List<RemovalOutcome>();
        RemovalLog log = RemovalLog.Recorded.Instance;
        foreach (var removal in plan.Removals)
        {
            try
            {
                Remove(removal.Dump.Directory);
                RemoveLinksTo(removal.Dump.Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                outcomes.Add(new RemovalOutcome.Failed(removal, e.Message));
                continue;
            }

            outcomes.Add(new RemovalOutcome.Removed(removal));
            try
            {
                AppendLog(dumpDirectory, removal, now);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (log is RemovalLog.Recorded)
                {
                    log = new RemovalLog.Unrecorded($"removed dumps are not recorded in {LogFileName}: {e.Message}");
                }
            }
        }

        return (outcomes, log);
    }

    /// <summary>
    /// The line retention.log gets: time (UTC), directory, why, bytes on disk, tab-separated
    /// (a reason has no tab; a directory name never has one either, the writer refuses such paths).
    /// </summary>
    public static string LogLine(Removal removal, DateTimeOffset now) =>
        string.Join('\t',
            now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            removal.Dump.Directory,
            removal.Why,
            removal.Dump.Bytes.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Unlinks the dump's files (a symlink is unlinked, never followed) and then the directory.
    /// The reports go last: a removal cut short leaves a dump that still says it is finished, so
    /// the next pass removes the rest. A directory inside (the scan holds such a dump) stops it.
    /// </summary>
    private static void Remove(string directory)
    {
        var self = new DirectoryInfo(directory);
        if (!self.Exists)
        {
            return; // already gone (prune and the server's own pass at the same time)
        }

        if (DumpTree.IsLink(self))
        {
            throw new IOException($"{directory} is a symbolic link now; left alone");
        }

        var entries = DumpTree.List(directory).Values.ToList();
        if (entries.FirstOrDefault(e => e is DirectoryInfo && !DumpTree.IsLink(e)) is { } folder)
        {
            throw new IOException($"{directory} holds the directory \"{folder.Name}\"; left alone");
        }

        // the scan found the core free, but a compression or a decryption may have started on it
        // since (they run beside retention at start-up): its exclusive lock is taken again, and
        // held while the files go, so that no copy starts on a core being removed
        var cores = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>();
        try
        {
            // every core the dump holds (a decryption copies vmcore_encrypted beside a vmcore)
            foreach (var name in CoreFileNames.All.Where(name => entries.Any(e => e.Name == name && DumpTree.IsPlainFile(e))))
            {
                cores.Add(RecoveryScan.OpenExclusive(directory, name, out var busy) ?? throw new IOException(busy));
            }

            RemoveFiles(directory, entries);
        }
        finally
        {
            cores.ForEach(core => core.Dispose());
        }
    }

    /// <summary>The files, the reports last, then the directory.</summary>
    private static void RemoveFiles(string directory, List<FileSystemInfo> entries)
    {
        static bool IsReport(FileSystemInfo e) => e.Name is DumpReport.JsonFileName or DumpReport.InfoFileName;
        foreach (var entry in entries.Where(e => !IsReport(e)).Concat(entries.Where(IsReport)))
        {
            File.Delete(entry.FullName);
        }

        Directory.Delete(directory, recursive: false);
    }

    /// <summary>
    /// A <c>&lt;host&gt;.last</c> link to a removed dump would point at nothing: it goes too (the
    /// host's next complete dump makes a new one). Only links, and only those to this directory.
    /// </summary>
    private static void RemoveLinksTo(string directory)
    {
        var parent = Path.GetDirectoryName(directory)!;
        var name = Path.GetFileName(directory);
        foreach (var link in new DirectoryInfo(parent).EnumerateFileSystemInfos("*" + LastLinks.Suffix))
        {
            if (link.LinkTarget is { } target && Path.GetFileName(target.TrimEnd('/')) == name)
            {
                File.Delete(link.FullName); // unlinks the link itself, never what it names
            }
        }
    }

    private static void AppendLog(string dumpDirectory, Removal removal, DateTimeOffset now)
    {
        var path = Path.Combine(dumpDirectory, LogFileName);
        if (new FileInfo(path).LinkTarget is not null)
        {
            throw new IOException($"{path} is a symbolic link; the removal of {removal.Dump.Directory} is not recorded there");
        }

        using var log = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        log.Write(Encoding.UTF8.GetBytes(LogLine(removal, now) + "\n"));
        log.Flush(flushToDisk: true);
    }
}
