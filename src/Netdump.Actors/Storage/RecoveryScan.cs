using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>
/// One dump directory the start-up scan acted on: <paramref name="Problem"/> is null when it was
/// marked (<paramref name="Marked"/>: incomplete, or complete when its core had its final name),
/// otherwise why it was left as it is.
/// </summary>
public sealed record RecoveredDump(string Directory, string? Problem, DumpStatus Marked = DumpStatus.Incomplete);

/// <summary>
/// The start-up scan for dumps a previous run left half-way (SPEC §3, crash safety): a server
/// killed while receiving leaves <c>dump.json</c> saying "receiving" for ever, or (killed
/// before its first report) a core with no <c>dump.json</c> at all. The scan walks the dump
/// directory before the listener binds and rewrites such a dump's <c>info</c> and
/// <c>dump.json</c> as "incomplete" with <see cref="Reason"/>. It never opens a core for
/// writing: the received data stays exactly as the killed run left it.
/// <para>
/// The received ranges lived only in the killed run's memory, and a sparse core cannot tell a
/// hole from received zeros, so a recovered record has empty <c>ranges</c> and <c>holes</c>
/// (unknown), <c>recovered: true</c>, and <c>bytes_received</c> set to the core's size, an
/// upper bound on what arrived (see <see cref="DumpRecord.Recovered"/>).
/// </para>
/// </summary>
public static partial class RecoveryScan
{
    /// <summary>How the reason of a recovered dump begins; <see cref="ReasonFor"/> adds what is known of its data.</summary>
    public const string Reason = "server stopped while receiving (recovered at start-up)";

    /// <summary>
    /// The reason a recovered dump is incomplete, with what is known of its data: the core's
    /// size, that which of its bytes arrived is not known, and what the last receiving report
    /// counted (a lower bound: it was written at most a flush interval before the stop).
    /// </summary>
    public static string ReasonFor(string? coreName, ulong coreSize, ulong? lastReported)
    {
        var core = coreName is null
            ? "no core was found"
            : $"{coreName} is {coreSize} bytes long, but which of its ranges arrived is unknown (they were kept in memory only)";
        return lastReported is > 0 ? $"{Reason}; {core}; the last report before the stop counted {lastReported} bytes received" : $"{Reason}; {core}";
    }

    /// <summary>Where an unreadable dump.json is moved before a recovered one replaces it.</summary>
    public const string CorruptJsonFileName = DumpReport.JsonFileName + ".corrupt";

    /// <summary>
    /// Finds and marks every dump under <paramref name="dumpDirectory"/> left receiving, and
    /// returns what it did: one entry per recovered dump (Problem null) and one per dump, or
    /// directory, it could not handle (Problem says why); among the latter, each folder that
    /// holds a dump's file without being one of this server's dumps (<see cref="DumpTree"/>),
    /// which is never touched. A complete dump whose compression at
    /// rest or decryption a kill cut short is tidied (<see cref="CompressionRecovery"/>; Problem
    /// says what was done); other finished dumps are not touched and not listed. Symbolic links are never followed (so no loop), the
    /// server's own folders (<see cref="DumpLocation.IsServersOwn"/>: no dump may be made there)
    /// are skipped, a dump directory is searched too (a dump nested in another, which an older
    /// server allowed, is found), and the search stops <see cref="DumpTree.MaxDepth"/> levels
    /// down. Never throws for what it finds on disk.
    /// </summary>
    /// <param name="described">
    /// told, for every dump that has a readable <c>dump.json</c> once the scan is done with it
    /// (finished, or just marked), its directory and that report: what the catalog is built
    /// from, so that the dump tree is walked once at start.
    /// </param>
    /// <param name="cancel">
    /// stops the scan (the server is asked to stop while it starts; a large dumpdir takes tens
    /// of seconds): it then throws <see cref="Stopped"/> with what it did so far. It is heeded
    /// only between two directories, never inside a dump's handling, so every dump is done whole
    /// or not reached (and then left as it was, for the next start); each step of that handling
    /// is an atomic rename or a removal, so not even a kill leaves a report half written.
    /// </param>
    public static IReadOnlyList<RecoveredDump> Run(string dumpDirectory, DateTimeOffset now, Action<string, JsonElement>? described = null,
        CancellationToken cancel = default)
    {
        var results = new List<RecoveredDump>();
        string root;
        try
        {
            root = Path.GetFullPath(dumpDirectory);
        }
        catch (Exception e) when (e is ArgumentException or IOException or NotSupportedException)
        {
            results.Add(new RecoveredDump(dumpDirectory, $"not a usable path: {e.Message}"));
            return results;
        }

        try
        {
            DumpTree.Walk(
                root,
                (directory, name, entries) => Visit(directory, name, root, entries, now, results, described),
                (directory, problem) => results.Add(new RecoveredDump(directory, problem)),
                cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new Stopped(results, cancel);
        }

        return results;
    }

    /// <summary>
    /// The scan was stopped before its end (<see cref="Run"/>'s cancel): <see cref="Done"/> is
    /// what it did until then, as <see cref="Run"/> would have returned it.
    /// </summary>
    public sealed class Stopped(IReadOnlyList<RecoveredDump> done, CancellationToken cancel)
        : OperationCanceledException("the start-up scan was stopped before its end", cancel)
    {
        public IReadOnlyList<RecoveredDump> Done { get; } = done;
    }

    /// <summary>Marks the directory if it is a dump left receiving.</summary>
    private static void Visit(string directory, DumpDirectoryName name, string root, Dictionary<string, FileSystemInfo> entries, DateTimeOffset now,
        List<RecoveredDump> results, Action<string, JsonElement>? described)
    {
        RecoveredDump? result;
        try
        {
            result = Examine(directory, name, root, entries, now, described);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // One odd directory (or a bug here) must not keep the server from starting: it
            // is reported and left as it is.
            result = new RecoveredDump(directory, $"left alone: {e.Message}");
        }

        if (result is not null)
        {
            results.Add(result);
        }
    }

    /// <summary><c>dump.json</c> as it is on disk now; null when it cannot be read.</summary>
    private static JsonElement? ReadReport(string directory) =>
        DumpTree.ReadJson(new FileInfo(Path.Combine(directory, DumpReport.JsonFileName))) is JsonRead.Parsed { Json: var json } ? json : null;

    /// <summary>Null when the dump is finished (left untouched); otherwise what was done or why not.</summary>
    private static RecoveredDump? Examine(string directory, DumpDirectoryName name, string root, Dictionary<string, FileSystemInfo> entries, DateTimeOffset now,
        Action<string, JsonElement>? described)
    {
        JsonElement? previous = null;
        if (entries.TryGetValue(DumpReport.JsonFileName, out var jsonEntry))
        {
            if (!DumpTree.IsPlainFile(jsonEntry))
            {
                return new RecoveredDump(directory, $"{DumpReport.JsonFileName} is not a regular file; left alone");
            }

            switch (DumpTree.ReadJson((FileInfo)jsonEntry))
            {
                case JsonRead.Unreadable unreadable:
                    // its bytes may be a finished dump's report: rewriting it would lose what it says
                    return new RecoveredDump(directory, $"{DumpReport.JsonFileName} {unreadable.Why}; left alone");
                case JsonRead.Damaged damaged when !entries.ContainsKey(CoreFileNames.Incomplete) && !DumpTree.HasReserve(entries):
                    // Without the marks of a dump in progress, a finished dump may be behind the
                    // damaged file: rewriting it as incomplete could hide a good core.
                    return new RecoveredDump(directory, $"{DumpReport.JsonFileName} {damaged.Why}, and nothing says the dump was in progress; left alone");
                case JsonRead.Parsed { Json: var json }:
                    previous = json;
                    var status = DumpJson.String(json, DumpJson.Status);
                    switch (DumpJson.ParseStatus(status))
                    {
                        case (DumpStatus.Complete or DumpStatus.Incomplete or DumpStatus.Refused) and var finished:
                            string? tidied = null;
                            try
                            {
                                // a finished dump's reports are written again by its checksum after
                                // the ack (and by storage care), which a stop may have cut short
                                RemoveLeftovers(directory, entries);
                                // only a complete dump gets aftercare, which a kill may have cut short
                                tidied = finished == DumpStatus.Complete ? CompressionRecovery.Tidy(directory, entries, json) : null;
                            }
                            finally
                            {
                                // the catalog (and storage care's backlog) hear the reports as they
                                // are now: a tidied dump's name its core anew (vmcore.zst, its vmcore
                                // removed); a tidying that failed leaves the dump listed all the same
                                described?.Invoke(directory, tidied is not null && ReadReport(directory) is { } rewritten ? rewritten : json);
                            }

                            return tidied is null ? null : new RecoveredDump(directory, tidied);
                        case DumpStatus.Receiving:
                            break;
                        default:
                            return new RecoveredDump(directory, $"{DumpReport.JsonFileName} has an unknown status \"{status}\"; left alone");
                    }

                    break;
            }
        }

        var coreName = CoreFileNames.All.FirstOrDefault(entries.ContainsKey);
        if (coreName is not null && !DumpTree.IsPlainFile(entries[coreName]))
        {
            return new RecoveredDump(directory, $"{coreName} is not a regular file; left alone");
        }

        // the report's own facts first: its time has milliseconds, the name's only seconds
        var client = DumpJson.Address(previous, DumpJson.ClientIp) ?? name.Client;
        var receivedAt = DumpJson.Time(previous, DumpJson.ReceivedAt) ?? name.ReceivedAt;

        using var core = OpenExclusive(directory, coreName, out var busy);
        if (busy is not null)
        {
            return new RecoveredDump(directory, busy);
        }

        var header = HeaderFrom(previous);
        var coreSize = core is null ? 0 : (ulong)RandomAccess.GetLength(core);
        // The writer gives a core its final name (vmcore, vmcore_encrypted, .gz, .zst) only once
        // the dump is complete and the core fsynced; the reports that were to follow did not come
        // (a full disk, then a stop). Complete, then, whole from 0 to its size; only the facts
        // kept in memory (the header, unless a receiving report had them) are lost.
        var complete = coreName is not null && coreName != CoreFileNames.Incomplete;
        var record = new DumpRecord
        {
            Status = complete ? DumpStatus.Complete : DumpStatus.Incomplete,
            Reason = complete ? null : EndReason.ServerStopped(ReasonFor(coreName, coreSize, DumpJson.ULong(previous, DumpJson.BytesReceived))),
            ClientIp = client,
            ServerIp = DumpJson.Address(previous, DumpJson.ServerIp) ?? (client.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any),
            HeraldPath = DumpJson.String(previous, DumpJson.HeraldPath) ?? HeraldPathFrom(root, directory),
            HeraldPathFallback = DumpJson.String(previous, DumpJson.HeraldPathFallback),
            Directory = directory,
            ReceivedAt = receivedAt,
            FinishedAt = now,
            Header = header,
            BytesReceived = coreSize,
            Ranges = complete && coreSize > 0 ? [new ByteRange(0, coreSize)] : [],
            Holes = [],
            Encrypted = DumpJson.Bool(previous, DumpJson.Encrypted) == true
                || entries.ContainsKey(CoreFileNames.Key)
                || header is { DumpKeySize: > 0 }
                || coreName?.StartsWith(CoreFileNames.Encrypted, StringComparison.Ordinal) == true,
            KeyBytesReceived = entries.TryGetValue(CoreFileNames.Key, out var key) && DumpTree.IsPlainFile(key) ? (ulong)((FileInfo)key).Length : 0,
            Vmcore = coreName ?? CoreFileNames.Incomplete,
            SupersededBy = DumpJson.String(previous, DumpJson.SupersededBy),
            Recovered = true,
            Dialect = IsLinux(previous, entries) ? Ingest.Dialect.Linux : Ingest.Dialect.FreeBsd,
            Linux = IsLinux(previous, entries) ? LinuxFactsFrom(previous, directory) : null,
        };

        if (jsonEntry is not null && previous is null)
        {
            // keep the damaged bytes for whoever investigates
            File.Move(jsonEntry.FullName, Path.Combine(directory, CorruptJsonFileName), overwrite: true);
        }

        RemoveLeftovers(directory, entries);
        DumpReport.Write(record);
        if (described is not null)
        {
            using var written = JsonDocument.Parse(DumpReport.FormatJson(record));
            described(directory, written.RootElement.Clone());
        }

        return new RecoveredDump(directory, null, record.Status);
    }
}
