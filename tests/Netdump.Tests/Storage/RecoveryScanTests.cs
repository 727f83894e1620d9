using System.Globalization;
using System.Net;
using System.Text.Json;
using Netdump.Actors;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>The start-up scan's recovery of what a stopped server left (the tree it walks: <c>RecoveryScanTests.Tree.cs</c>).</summary>
public sealed partial class RecoveryScanTests : IDisposable
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private static readonly IPAddress Server = IPAddress.Parse("198.51.100.1");
    private static readonly DateTimeOffset ReceivedAt = new(2024, 3, 9, 13, 5, 7, 250, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = new(2024, 3, 10, 8, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();

    public RecoveryScanTests()
    {
        Directory.CreateDirectory(DumpDir);
    }

    private string DumpDir => _temp.Combine("crash");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void RecoveryScan_should_leave_another_servers_dump_directory_below_dumpdir_alone()
    {
        var other = Path.Combine(DumpDir, "rack2");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, DumpLocation.ServerLockFileName), "4242\n");
        var dir = ReceivingDump(other, Pattern(4096), Header());
        var before = File.ReadAllText(Path.Combine(dir, "dump.json"));

        var results = RecoveryScan.Run(DumpDir, Now);

        var result = Assert.Single(results);
        Assert.Equal(other, result.Directory);
        Assert.Equal($"is another server's dump directory (it holds {DumpLocation.ServerLockFileName}): its dumps are that server's, left alone", result.Problem);
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "dump.json")));
        Assert.True(File.Exists(Path.Combine(dir, CoreFileNames.Incomplete)));
    }

    [Fact]
    public void RecoveryScan_should_mark_a_receiving_dump_incomplete_and_keep_its_core_bytes()
    {
        var core = Pattern(3 * 65536 + 100);
        var dir = ReceivingDump(DumpDir, core, Header());

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
        Assert.Equal(core, File.ReadAllBytes(Path.Combine(dir, CoreFileNames.Incomplete)));
        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        // what is known: the core's size, that its ranges are not, and what the last report counted
        Assert.Equal(
            $"server stopped while receiving (recovered at start-up); vmcore-incomplete is {core.Length} bytes long, "
            + "but which of its ranges arrived is unknown (they were kept in memory only); the last report before the stop counted 4096 bytes received",
            json.GetProperty("reason").GetString());
        Assert.True(json.GetProperty("recovered").GetBoolean());
        Assert.Equal("2024-03-10T08:00:00.000Z", json.GetProperty("finished_at").GetString());
        Assert.Equal("192.0.2.7", json.GetProperty("client_ip").GetString());
        Assert.Equal("198.51.100.1", json.GetProperty("server_ip").GetString());
        Assert.Equal("2024-03-09T13:05:07.250Z", json.GetProperty("received_at").GetString());
        Assert.Equal(dir, json.GetProperty("directory").GetString());
        Assert.Equal((ulong)core.Length, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(0, json.GetProperty("ranges").GetArrayLength());
        Assert.Equal(0, json.GetProperty("holes").GetArrayLength());
        Assert.Equal("vmcore-incomplete", json.GetProperty("vmcore").GetString());
        Assert.False(File.Exists(Path.Combine(dir, DumpReport.ReservedName(DumpReport.InfoFileName))), "the report reserve is used up");
        Assert.False(File.Exists(Path.Combine(dir, DumpReport.ReservedName(DumpReport.JsonFileName))), "the report reserve is used up");

        // the header facts the killed run had recorded are kept
        Assert.Equal("web1.example.org", json.GetProperty("hostname").GetString());
        Assert.Equal("page fault", json.GetProperty("panic_string").GetString());
        Assert.Equal("2024-03-09T13:04:00Z", json.GetProperty("dump_time").GetString());
        Assert.Equal(1048576UL, json.GetProperty("dump_length").GetUInt64());
        Assert.Equal("zstd", json.GetProperty("compression").GetString());
        Assert.False(json.GetProperty("parity_ok").GetBoolean());

        var info = File.ReadAllText(Path.Combine(dir, DumpReport.InfoFileName));
        Assert.StartsWith("Dump from web1.example.org [192.0.2.7]\n", info);
        Assert.Contains($"  Received: at most {core.Length} bytes", info);
        Assert.EndsWith($"Dump incomplete: {json.GetProperty("reason").GetString()}\n", info);
    }

    [Fact]
    public void RecoveryScan_should_leave_complete_and_incomplete_dumps_byte_for_byte()
    {
        var complete = FinishedDump(DumpStatus.Complete, "vmcore", reason: null);
        var incomplete = FinishedDump(DumpStatus.Incomplete, CoreFileNames.Incomplete, "client timed out");
        var before = Snapshot(DumpDir);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Empty(results);
        Assert.Equal(before, Snapshot(DumpDir));
        Assert.Equal("complete", Json(complete).GetProperty("status").GetString());
        Assert.Equal("client timed out", Json(incomplete).GetProperty("reason").GetString());
    }

    [Fact]
    public void RecoveryScan_should_keep_a_Linux_dump_a_Linux_dump_with_its_memory_facts_and_panic_line()
    {
        var dir = Path.Combine(DumpDir, "192.0.2.11-2024-03-09-14:05:07");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Incomplete), Pattern(8192));
        File.WriteAllText(Path.Combine(dir, "log"), "eth0: link up\nKernel panic - not syncing: Fatal exception\n");
        File.WriteAllText(Path.Combine(dir, DumpReport.JsonFileName), """
            {"status":"receiving","client_ip":"192.0.2.11","received_at":"2024-03-09T14:05:07.000Z","dialect":"linux",
             "protocol_version":5,"machine":62,"page_size":4096,"pages":512,"registers":true,"bytes_received":8192}
            """);

        RecoveryScan.Run(DumpDir, Now);

        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("linux", json.GetProperty("dialect").GetString());
        Assert.Equal(512UL, json.GetProperty("pages").GetUInt64());
        Assert.Equal(4096U, json.GetProperty("page_size").GetUInt32());
        Assert.True(json.GetProperty("registers").GetBoolean());
        Assert.Equal("Kernel panic - not syncing: Fatal exception", json.GetProperty("panic_string").GetString());
    }

    [Fact]
    public void RecoveryScan_should_take_a_dump_killed_before_its_first_report_with_a_console_log_for_a_Linux_one()
    {
        var dir = Path.Combine(DumpDir, "192.0.2.12-2024-03-09-14:05:07");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Incomplete), Pattern(4096));
        File.WriteAllText(Path.Combine(dir, "log"), "Oops: 0002 [#1]\n");

        RecoveryScan.Run(DumpDir, Now);

        var json = Json(dir);
        Assert.Equal("linux", json.GetProperty("dialect").GetString());
        Assert.Equal("Oops: 0002 [#1]", json.GetProperty("panic_string").GetString());
    }

    [Fact]
    public void RecoveryScan_should_recover_a_core_without_dump_json_from_the_directory_name()
    {
        var dir = Path.Combine(DumpDir, "192.0.2.9-2024-03-09-14:05:07-2");
        Directory.CreateDirectory(dir);
        var core = Pattern(70000);
        File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Incomplete), core);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
        Assert.Equal(core, File.ReadAllBytes(Path.Combine(dir, CoreFileNames.Incomplete)));
        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal(
            "server stopped while receiving (recovered at start-up); vmcore-incomplete is 70000 bytes long, but which of its ranges arrived is unknown (they were kept in memory only)",
            json.GetProperty("reason").GetString());
        Assert.Equal("192.0.2.9", json.GetProperty("client_ip").GetString());
        Assert.Equal("0.0.0.0", json.GetProperty("server_ip").GetString());
        Assert.Equal(NameTime("2024-03-09 14:05:07"), json.GetProperty("received_at").GetString());
        Assert.Equal("", json.GetProperty("herald_path").GetString());
        Assert.Equal(70000UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("hostname").ValueKind);
        // whether a KDH came is not known: it was kept in memory only
        Assert.Contains("  Kernel Dump Header: unknown (kept in memory only, and the server stopped before the reports were written)\n",
            File.ReadAllText(Path.Combine(dir, DumpReport.InfoFileName)));
    }

    [Fact]
    public void RecoveryScan_should_mark_a_dump_killed_before_its_core_was_made_from_its_report_reserve()
    {
        var dir = Path.Combine(DumpDir, "192.0.2.9-2024-03-09-14:05:07");
        Directory.CreateDirectory(dir);
        DumpReport.Reserve(dir);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal(0UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal("server stopped while receiving (recovered at start-up); no core was found", json.GetProperty("reason").GetString());
        Assert.Equal(["dump.json", "info"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RecoveryScan_should_not_write_through_a_link_at_a_reserved_name()
    {
        var dir = ReceivingDump(DumpDir, Pattern(4096));
        var victim = _temp.Combine("victim");
        File.WriteAllText(victim, "precious");
        var reserve = Path.Combine(dir, DumpReport.ReservedName(DumpReport.InfoFileName));
        File.Delete(reserve);
        File.CreateSymbolicLink(reserve, victim);

        RecoveryScan.Run(DumpDir, Now);

        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Equal("incomplete", Json(dir).GetProperty("status").GetString());
    }

    [Fact]
    public void RecoveryScan_should_leave_a_directory_alone_whose_name_is_not_a_dump_even_with_reserve_names_in_it()
    {
        var dir = Path.Combine(DumpDir, "notes");
        Directory.CreateDirectory(dir);
        DumpReport.Reserve(dir);

        var result = Assert.Single(RecoveryScan.Run(DumpDir, Now));

        Assert.Equal(dir, result.Directory);
        Assert.StartsWith($"holds {DumpReport.ReservedName(DumpReport.JsonFileName)}, but its name is not a dump directory's", result.Problem);
        Assert.True(File.Exists(Path.Combine(dir, DumpReport.ReservedName(DumpReport.JsonFileName))));
    }

    /// <summary>
    /// attack11 F9: an operator's folder with a hand-made dump.json saying "receiving" was taken
    /// for a dump cut short, rewritten as a recovered one, and then left to retention.
    /// </summary>
    [Fact]
    public void RecoveryScan_should_leave_an_operators_folder_with_a_hand_made_receiving_report_alone_and_say_why_once()
    {
        var folder = Path.Combine(DumpDir, "case-4711");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, DumpReport.JsonFileName),
            """{"status":"receiving","client_ip":"192.0.2.7","received_at":"2024-03-09T13:05:07.250Z","vmcore":"vmcore-incomplete"}""");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "what the operator found\n");
        File.WriteAllBytes(Path.Combine(folder, CoreFileNames.Incomplete), Pattern(100)); // even with a core's name beside it
        // a real dump below it (a HERALD path) is still found
        var below = ReceivingDump(folder, Pattern(10), heraldPath: "case-4711");
        var before = Snapshot(folder).Where(e => !e.StartsWith(Path.GetFileName(below), StringComparison.Ordinal)).ToList();

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal(
            [
                new RecoveredDump(folder, $"holds {DumpReport.JsonFileName}, but its name is not a dump directory's (<client-ip>-<yyyy-MM-dd-HH:mm:ss>[-N], which every dump this server makes has): not a dump of this server, left alone"),
                new RecoveredDump(below, null),
            ],
            results);
        Assert.Equal(before, Snapshot(folder).Where(e => !e.StartsWith(Path.GetFileName(below), StringComparison.Ordinal)).ToList());
        Assert.Equal("receiving", Json(folder).GetProperty("status").GetString());
        Assert.False(File.Exists(Path.Combine(folder, DumpReport.InfoFileName)));
    }

    [Fact]
    public void RecoveryScan_should_keep_a_corrupt_dump_json_aside_and_recover_from_the_directory_name()
    {
        var core = Pattern(5000);
        var dir = ReceivingDump(DumpDir, core);
        var corrupt = "{\"status\": \"receiving\", \"client_ip\": \"19"u8.ToArray();
        File.WriteAllBytes(Path.Combine(dir, DumpReport.JsonFileName), corrupt);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
        Assert.Equal(corrupt, File.ReadAllBytes(Path.Combine(dir, RecoveryScan.CorruptJsonFileName)));
        Assert.Equal(core, File.ReadAllBytes(Path.Combine(dir, CoreFileNames.Incomplete)));
        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("192.0.2.7", json.GetProperty("client_ip").GetString());
        Assert.Equal(NameTime(ReceivedAt.LocalDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)), json.GetProperty("received_at").GetString());
    }

    [Fact]
    public void RecoveryScan_should_leave_a_corrupt_dump_json_alone_when_nothing_says_the_dump_was_in_progress()
    {
        var dir = FinishedDump(DumpStatus.Complete, "vmcore", reason: null);
        File.WriteAllText(Path.Combine(dir, DumpReport.JsonFileName), "not json");
        var before = Snapshot(DumpDir);

        var results = RecoveryScan.Run(DumpDir, Now);

        var result = Assert.Single(results);
        Assert.Equal(dir, result.Directory);
        Assert.Contains("corrupt", result.Problem);
        Assert.Equal(before, Snapshot(DumpDir));
    }

    [Fact]
    public void RecoveryScan_should_mark_a_dump_whose_core_has_its_final_name_complete_keeping_what_its_report_knew()
    {
        // the writer names a core only once its dump is complete and fsynced: the server died (or
        // stopped with its final reports refused) before the reports that follow the rename
        var dir = ReceivingDump(DumpDir, core: null, Header());
        // the strictest case: nothing of the reserve is left either
        File.Delete(Path.Combine(dir, DumpReport.ReservedName(DumpReport.InfoFileName)));
        File.Delete(Path.Combine(dir, DumpReport.ReservedName(DumpReport.JsonFileName)));
        var core = Pattern(1000);
        File.WriteAllBytes(Path.Combine(dir, "vmcore.zst"), core);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null, DumpStatus.Complete)], results);
        var json = Json(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("reason").ValueKind);
        Assert.True(json.GetProperty("recovered").GetBoolean());
        Assert.Equal("[[0,1000]]", json.GetProperty("ranges").GetRawText().Replace(" ", "").Replace("\n", ""));
        Assert.Equal(Header().Hostname, json.GetProperty("hostname").GetString());
        var info = File.ReadAllLines(Path.Combine(dir, "info"));
        Assert.Equal("Dump complete", info[^1]);
        Assert.DoesNotContain(info, l => l.Contains("unknown"));
        Assert.Equal("vmcore.zst", json.GetProperty("vmcore").GetString());
        Assert.Equal(core, File.ReadAllBytes(Path.Combine(dir, "vmcore.zst")));
        Assert.False(File.Exists(Path.Combine(dir, CoreFileNames.Incomplete)));
    }

    [Fact]
    public void RecoveryScan_should_stop_between_two_dumps_when_cancelled_and_say_what_it_did()
    {
        var first = ReceivingDump(DumpDir, Pattern(10));
        var second = ReceivingDump(DumpDir, Pattern(20));
        var untouched = Snapshot(second);
        using var stop = new CancellationTokenSource();

        // asked to stop while the first dump is handled: it is finished whole, the second not begun
        var stopped = Assert.Throws<RecoveryScan.Stopped>(() => RecoveryScan.Run(DumpDir, Now, (_, _) => stop.Cancel(), stop.Token));

        Assert.Equal([new RecoveredDump(first, null)], stopped.Done);
        Assert.Equal(stop.Token, stopped.CancellationToken);
        Assert.Equal("incomplete", Json(first).GetProperty("status").GetString());
        Assert.True(File.Exists(Path.Combine(first, DumpReport.InfoFileName)));
        Assert.Equal(untouched, Snapshot(second));
        Assert.Equal("receiving", Json(second).GetProperty("status").GetString());
    }

    [Fact]
    public void RecoveryScan_should_leave_a_core_held_by_a_live_writer_alone()
    {
        var dir = ReceivingDump(DumpDir, core: null);
        using var live = CoreFile.Create(Path.Combine(dir, CoreFileNames.Incomplete), ulong.MaxValue);
        live.Write(0, Pattern(100));
        var before = Snapshot(DumpDir);

        var results = RecoveryScan.Run(DumpDir, Now);

        var result = Assert.Single(results);
        Assert.Equal(dir, result.Directory);
        Assert.Contains("is in use (a server is writing or copying it)", result.Problem);
        Assert.Equal(before, Snapshot(DumpDir));
    }

    [Fact]
    public void RecoveryScan_should_report_an_unknown_status_and_go_on_with_the_other_dumps()
    {
        var odd = FinishedDump(DumpStatus.Complete, "vmcore", reason: null);
        File.WriteAllText(Path.Combine(odd, DumpReport.JsonFileName), "{\"status\": \"decrypting\"}");
        var dir = ReceivingDump(DumpDir, Pattern(10));

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal(2, results.Count);
        Assert.Contains(new RecoveredDump(dir, null), results);
        Assert.Contains(results, r => r.Directory == odd && r.Problem!.Contains("unknown status", StringComparison.Ordinal));
    }

    [Fact]
    public void RecoveryScan_should_remove_the_temporary_files_of_a_report_write_cut_short()
    {
        var dir = ReceivingDump(DumpDir, Pattern(10));
        File.WriteAllText(Path.Combine(dir, $".dump.json.{Guid.NewGuid():N}.tmp"), "{\"stat");
        File.WriteAllText(Path.Combine(dir, $".info.{Guid.NewGuid():N}.tmp"), "Dump fr");

        RecoveryScan.Run(DumpDir, Now);

        Assert.Equal(
            [DumpReport.JsonFileName, DumpReport.InfoFileName, CoreFileNames.Incomplete],
            Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(DumpStatus.Complete)]
    [InlineData(DumpStatus.Incomplete)]
    public void RecoveryScan_should_remove_the_temporary_files_of_a_finished_dumps_report_write_cut_short_and_leave_the_dump_as_it_is(DumpStatus status)
    {
        // a server stopped while it wrote a complete dump's reports again with the hash
        var dir = status == DumpStatus.Complete
            ? FinishedDump(status, "vmcore", reason: null)
            : FinishedDump(status, CoreFileNames.Incomplete, "client timed out");
        var before = Snapshot(DumpDir);
        File.WriteAllText(Path.Combine(dir, $".dump.json.{Guid.NewGuid():N}.tmp"), "{\"stat");
        File.WriteAllText(Path.Combine(dir, $".info.{Guid.NewGuid():N}.tmp"), "Dump fr");

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Empty(results); // nothing to recover: the dump stays as it was
        Assert.Equal(before, Snapshot(DumpDir));
    }

    [Fact]
    public void RecoveryScan_of_a_missing_dump_directory_reports_a_problem_instead_of_throwing()
    {
        var missing = _temp.Combine("missing");

        var result = Assert.Single(RecoveryScan.Run(missing, Now));

        Assert.Equal(missing, result.Directory);
        Assert.NotNull(result.Problem);
    }

    [Fact]
    public void RecoveryScan_should_keep_why_the_herald_path_was_not_used_and_count_the_key_apart()
    {
        var dir = ReceivingDump(DumpDir, Pattern(4096), heraldPath: "web", heraldPathFallback: "herald path \"web\" does not exist");
        File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Key), Pattern(256));

        Assert.Equal([new RecoveredDump(dir, null)], RecoveryScan.Run(DumpDir, Now));

        var json = Json(dir);
        Assert.Equal("herald path \"web\" does not exist", json.GetProperty("herald_path_fallback").GetString());
        Assert.Equal(256UL, json.GetProperty("key_bytes_received").GetUInt64());
        Assert.Equal(4096UL, json.GetProperty("bytes_received").GetUInt64());
    }

    [Fact]
    public void RecoveryScan_should_find_nothing_in_an_empty_dump_directory()
    {
        Assert.Empty(RecoveryScan.Run(DumpDir, Now));
    }

    /// <summary>What the writer leaves when it dies while receiving: dump.json "receiving", the reserve, the core.</summary>
    private static string ReceivingDump(string parent, byte[]? core, KernelDumpHeader? header = null, string heraldPath = "", string? heraldPathFallback = null)
    {
        var dir = DumpLocation.CreateDumpDirectory(parent, Client, ReceivedAt.LocalDateTime);
        DumpReport.Reserve(dir);
        DumpReport.Write(new DumpRecord
        {
            Status = DumpStatus.Receiving,
            ClientIp = Client,
            ServerIp = Server,
            HeraldPath = heraldPath,
            HeraldPathFallback = heraldPathFallback,
            Directory = dir,
            ReceivedAt = ReceivedAt,
            Header = header,
            BytesReceived = 4096,
            Ranges = [new ByteRange(0, 4096)],
            Vmcore = CoreFileNames.Incomplete,
        });
        if (core is not null)
        {
            File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Incomplete), core);
        }

        return dir;
    }

    private string FinishedDump(DumpStatus status, string coreName, string? reason)
    {
        var dir = DumpLocation.CreateDumpDirectory(DumpDir, Client, ReceivedAt.LocalDateTime);
        File.WriteAllBytes(Path.Combine(dir, coreName), Pattern(4096));
        DumpReport.Write(ReportOf(dir, status, coreName, reason));
        return dir;
    }

    private static DumpRecord ReportOf(string dir, DumpStatus status = DumpStatus.Complete, string coreName = "vmcore", string? reason = null) =>
        new()
        {
            Status = status,
            Reason = reason is null ? null : EndReason.Parse(reason),
            ClientIp = Client,
            ServerIp = Server,
            HeraldPath = "",
            Directory = dir,
            ReceivedAt = ReceivedAt,
            FinishedAt = ReceivedAt.AddMinutes(1),
            Header = Header() with { DumpLength = 4096 },
            BytesReceived = 4096,
            Ranges = [new ByteRange(0, 4096)],
            Vmcore = coreName,
        };

    private static KernelDumpHeader Header() => new(
        Magic: KernelDumpHeader.KernelDumpMagic,
        Architecture: "amd64",
        Version: KernelDumpHeader.SupportedVersion,
        ArchitectureVersion: 2,
        DumpLength: 1048576,
        DumpTime: (ulong)new DateTimeOffset(2024, 3, 9, 13, 4, 0, TimeSpan.Zero).ToUnixTimeSeconds(),
        DumpKeySize: 0,
        BlockSize: 512,
        Hostname: "web1.example.org",
        VersionString: "FreeBSD 14.1-RELEASE GENERIC",
        PanicString: "page fault",
        Compression: DumpCompression.Zstd,
        DumpExtent: 0,
        Parity: 1)
    {
        ParityOk = false,
    };

    private static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }

    private static JsonElement Json(string dir)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, DumpReport.JsonFileName)));
        return document.RootElement.Clone();
    }

    /// <summary>A directory-name time (server local time) as dump.json writes it (UTC).</summary>
    private static string NameTime(string local)
    {
        var time = DateTime.ParseExact(local, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        return new DateTimeOffset(time, TimeZoneInfo.Local.GetUtcOffset(time)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Every entry below a directory with its bytes and modification time, symlinks as their target text.</summary>
    private static List<string> Snapshot(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Order(StringComparer.Ordinal)
            .Select(path =>
            {
                var info = new FileInfo(path);
                var relative = Path.GetRelativePath(root, path);
                if (info.LinkTarget is { } target)
                {
                    return $"{relative} -> {target}";
                }

                return File.Exists(path)
                    ? $"{relative} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))} {info.LastWriteTimeUtc.Ticks}"
                    : $"{relative}/";
            })
            .ToList();
}
