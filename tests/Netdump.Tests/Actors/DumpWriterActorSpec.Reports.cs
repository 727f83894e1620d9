using System.Runtime.InteropServices;
using System.Text.Json;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Storage;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Actors;

/// <summary>The dump's reports: the room held for them, the receiving report at each flush tick, the final reports and what happens when they find no room.</summary>
public sealed partial class DumpWriterActorSpec
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_room_held_for_the_reports_goes_back_when_a_dump_ends_or_is_discarded_before_its_first_flush_tick(bool discarded)
    {
        const ulong free = 64 << 20;
        var space = new DiskSpace(_dumpDir, reserve: 0, _ => free); // the probe never sees the writes
        var writer = Sys.ActorOf(DumpWriterActor.Props(_settings with { FlushInterval = TimeSpan.FromHours(1) }, HeraldFor(""), space: space));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        Assert.False(space.HasRoomFor(free), "the reports' room and the core's chunk are held while the dump is open");

        if (discarded)
        {
            writer.Tell(DumpWriterActor.Discard.Instance);
            await ExpectMsgAsync<DumpWriterActor.Discarded>();
        }
        else
        {
            WriteData(opened.Core, Pattern(3000), chunk: 1448);
            TellHeader(writer, Kdh(dumpLength: 3000));
            await FinishDump(writer, reason: null);
            Assert.Equal("complete", ReadJson(opened.Directory).GetProperty("status").GetString());
        }

        Assert.True(space.HasRoomFor(free), "nothing is held for the dump any more");
    }

    [Fact]
    public async Task The_room_held_for_the_reports_goes_back_when_the_final_reports_cannot_be_written()
    {
        const ulong free = 64 << 20;
        var space = new DiskSpace(_dumpDir, reserve: 0, _ => free);
        var writer = Sys.ActorOf(DumpWriterActor.Props(_settings with { FlushInterval = TimeSpan.FromHours(1) }, HeraldFor(""), space: space));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(3000), chunk: 1448);
        TellHeader(writer, Kdh(dumpLength: 3000));
        Directory.CreateDirectory(Path.Combine(opened.Directory, DumpReport.JsonFileName, "x")); // dump.json cannot be renamed into place

        await EventFilter.Error(contains: $"cannot write the reports of {opened.Directory}").ExpectOneAsync(async () =>
        {
            writer.Tell(DumpWriterActor.ClientFinished.Instance);
            await ExpectMsgAsync<DumpWriterActor.Finalized>();
        });

        Assert.True(space.HasRoomFor(free), "the room held for reports never written went back");
    }

    [Fact]
    public async Task The_first_flush_tick_makes_the_files_the_final_reports_are_written_into()
    {
        var (_, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromMilliseconds(50) });

        await AwaitAssertAsync(() =>
        {
            foreach (var name in new[] { DumpReport.InfoFileName, DumpReport.JsonFileName })
            {
                var reserve = Path.Combine(opened.Directory, DumpReport.ReservedName(name));
                Assert.True(File.Exists(reserve) && new FileInfo(reserve).Length > 0, $"room is reserved for {name}");
                Assert.Equal(Mode0600, File.GetUnixFileMode(reserve));
            }
        });
    }

    [Fact]
    public async Task The_first_flush_tick_writes_a_receiving_report_and_the_next_one_after_the_KDH_describes_it()
    {
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromMilliseconds(50) });

        var json = await ServerHarness.WaitForJsonAsync(opened.Directory, j => j.GetProperty("status").GetString() == "receiving");
        Assert.Equal("127.0.0.9", json.GetProperty("client_ip").GetString());
        Assert.Equal("vmcore-incomplete", json.GetProperty("vmcore").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("hostname").ValueKind);
        Assert.Equal("Dump in progress", LastInfoLine(opened.Directory));

        TellHeader(writer, Kdh(dumpLength: 4096));
        json = await ServerHarness.WaitForJsonAsync(opened.Directory, j => j.GetProperty("hostname").ValueKind == JsonValueKind.String);
        Assert.Equal("receiving", json.GetProperty("status").GetString());
        Assert.Equal("crashy.example.org", json.GetProperty("hostname").GetString());
        Assert.Equal(4096UL, json.GetProperty("dump_length").GetUInt64());
        Assert.Contains("  Hostname: crashy.example.org", File.ReadAllLines(Path.Combine(opened.Directory, DumpReport.InfoFileName)));
        Assert.True(File.Exists(Path.Combine(opened.Directory, DumpReport.ReservedName(DumpReport.JsonFileName))), "the reserve is kept for the final report");
    }

    [Fact]
    public async Task Each_flush_tick_that_sees_new_data_updates_bytes_received_ranges_and_the_rate()
    {
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromMilliseconds(100) });

        // data keeps arriving, as from a client, until a report shows it arriving
        var json = await WriteUntil(opened, 0, j => j.GetProperty("rate_bytes_per_second").GetUInt64() > 0);
        var bytes = json.GetProperty("bytes_received").GetUInt64();
        Assert.Equal("receiving", json.GetProperty("status").GetString());
        Assert.Equal([[0UL, bytes]], Pairs(json.GetProperty("ranges")));
        Assert.True(json.GetProperty("average_rate_bytes_per_second").GetUInt64() > 0);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("eta_seconds").ValueKind); // no length yet
        Assert.Contains(File.ReadAllLines(Path.Combine(opened.Directory, "info")), l => l.StartsWith("  Rate: ", StringComparison.Ordinal));

        // with the length, the time left; data past a gap
        TellHeader(writer, Kdh(dumpLength: 1 << 20));
        json = await WriteUntil(opened, 1 << 19, j => j.GetProperty("ranges").GetArrayLength() == 2 && j.GetProperty("rate_bytes_per_second").GetUInt64() > 0);
        Assert.Equal(JsonValueKind.Number, json.GetProperty("eta_seconds").ValueKind);
        Assert.Equal((ulong)(1 << 20), json.GetProperty("holes_known_until").GetUInt64());
        // the gap starts where the first run of data ended: WriteUntil may have written a chunk
        // more after the report it read first, so the core says where, not that report
        Assert.Equal([opened.Core.Ranges()[0].End, 1UL << 19], Pairs(json.GetProperty("holes"))[0]);

        // the client stalls: one more report says nothing is arriving, with every byte counted
        json = await ServerHarness.WaitForJsonAsync(opened.Directory, j => j.GetProperty("rate_bytes_per_second").GetUInt64() == 0);
        Assert.Equal(opened.Core.BytesReceived, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("eta_seconds").ValueKind);

        await FinishDump(writer, "client timed out");
        json = ReadJson(opened.Directory);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("rate_bytes_per_second").ValueKind);
        Assert.DoesNotContain(File.ReadAllLines(Path.Combine(opened.Directory, "info")), l => l.StartsWith("  Rate: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_long_dump_logs_its_progress_with_the_share_received_the_rate_and_the_time_left()
    {
        var settings = _settings with { FlushInterval = TimeSpan.FromMilliseconds(50), ProgressLogInterval = TimeSpan.FromMilliseconds(200) };
        var (writer, opened) = await OpenDump(settings);
        TellHeader(writer, Kdh(dumpLength: 16384));

        // only the line of the interval in which the data arrived has a rate and a time left
        await EventFilter.Info(new System.Text.RegularExpressions.Regex(
                @"^Client 127\.0\.0\.9: 4096 bytes \(4\.0 KiB\) of 16384 \(16\.0 KiB\) received \(25%\), [0-9.]+ [KM]iB/s over the last 0\.2 s, about [0-9]+ s left$"))
            .ExpectOneAsync(() => Task.FromResult(opened.Core.Write(0, Pattern(4096))));
    }

    [Fact]
    public async Task Without_a_header_the_gaps_between_the_received_ranges_are_its_holes()
    {
        var (writer, opened) = await OpenDump();
        Assert.Equal(CoreWriteResult.Written, opened.Core.Write(1024, Pattern(1024)));
        Assert.Equal(CoreWriteResult.Written, opened.Core.Write(3072, Pattern(1024)));

        var record = await FinishDump(writer, reason: null);

        Assert.Equal("no kernel dump header", record.Reason?.Text);
        Assert.Equal([new ByteRange(0, 1024), new ByteRange(2048, 3072)], record.Holes);
        var json = ReadJson(opened.Directory);
        Assert.Equal([[0UL, 1024UL], [2048UL, 3072UL]], Pairs(json.GetProperty("holes")));
        Assert.Equal(4096UL, json.GetProperty("holes_known_until").GetUInt64());
        Assert.Contains(
            "  Holes: [0, 1024), [2048, 3072) (2048 bytes missing) before byte 4096; beyond it unknown (no dump length: no kernel dump header)",
            File.ReadAllLines(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_dump_that_ends_before_a_flush_tick_gets_only_its_final_report()
    {
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromHours(1) });
        WriteData(opened.Core, Pattern(3000), chunk: 1448);
        TellHeader(writer, Kdh(dumpLength: 3000));
        Assert.False(File.Exists(Path.Combine(opened.Directory, DumpReport.JsonFileName)), "no report before a flush tick or the end");

        await FinishDump(writer, reason: null);
        // the reports are written again with the hash, through temporary names: the listing waits for that
        await AwaitAssertAsync(() => Assert.Equal(JsonValueKind.String, ReadJson(opened.Directory).GetProperty("sha256").ValueKind));

        Assert.Equal("complete", ReadJson(opened.Directory).GetProperty("status").GetString());
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(opened.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_room_reserved_for_the_reports_becomes_the_reports_at_the_end()
    {
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromMilliseconds(50) });
        await AwaitConditionAsync(() => Task.FromResult(File.Exists(Path.Combine(opened.Directory, DumpReport.ReservedName(DumpReport.JsonFileName)))));
        var reserves = new[] { DumpReport.InfoFileName, DumpReport.JsonFileName }
            .Select(name => (Name: name, Inode: Inode(Path.Combine(opened.Directory, DumpReport.ReservedName(name)))))
            .ToList();

        writer.Tell(new DumpWriterActor.EndNow(EndReason.Parse("client timed out")));
        await ExpectMsgAsync<DumpWriterActor.Finalized>();

        foreach (var (name, inode) in reserves)
        {
            Assert.False(File.Exists(Path.Combine(opened.Directory, DumpReport.ReservedName(name))));
            // the same file: its blocks were held since the dump opened
            Assert.Equal(inode, Inode(Path.Combine(opened.Directory, name)));
        }

        Assert.Equal("Dump incomplete: client timed out", LastInfoLine(opened.Directory));
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    /// <summary>
    /// A short dump has no dump.json before its final one: when that write fails, its reserved
    /// file stays as the mark the recovery scan finds (the core is already named vmcore).
    /// </summary>
    [Fact]
    public async Task A_final_report_that_cannot_be_written_keeps_the_dumps_end_and_is_written_once_it_can_be()
    {
        // flush ticks (and so the reports' retries) every 200 ms
        var (writer, opened) = await WholeDumpBeforeAnyFlush(CoreDisk.Real, _settings with { FlushInterval = TimeSpan.FromMilliseconds(200) });
        var blocker = Path.Combine(opened.Directory, DumpReport.JsonFileName);
        File.Delete(blocker); // a first "receiving" report, should a tick have come already
        Directory.CreateDirectory(Path.Combine(blocker, "x")); // dump.json cannot be renamed into place

        Watch(writer);

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        var finalized = await ExpectMsgAsync<DumpWriterActor.Finalized>();

        Assert.Equal(DumpStatus.Complete, finalized.Record.Status); // the dump's end is not the reports' trouble
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(500)); // tried again, and again refused: the writer stays to try again
        Directory.Delete(blocker, recursive: true);
        await ExpectTerminatedAsync(writer, TimeSpan.FromSeconds(10)); // its reports written and its hash in them, it stops
        Assert.Equal("complete", ReadJson(opened.Directory).GetProperty("status").GetString());
        Assert.Matches("^[0-9a-f]{64}$", ReadJson(opened.Directory).GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task A_final_report_that_cannot_be_written_still_leaves_the_cores_final_name_durable_before_the_session_hears_the_end()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeDumpBeforeAnyFlush(disk);
        Directory.CreateDirectory(Path.Combine(opened.Directory, DumpReport.JsonFileName, "x")); // dump.json cannot be renamed into place

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        var finalized = await ExpectMsgAsync<DumpWriterActor.Finalized>();

        Assert.Equal(DumpStatus.Complete, finalized.Record.Status);
        Assert.True(File.Exists(Path.Combine(opened.Directory, "vmcore")));
        // the rename to vmcore is in the dump directory, whose fsync the reports would have made
        Assert.Contains("dir " + opened.Directory, disk.Fsyncs);
        Sys.Stop(writer);
    }

    [Fact]
    public async Task A_final_report_still_unwritten_when_the_server_stops_leaves_a_mark_the_recovery_scan_finds()
    {
        var (writer, opened) = await WholeDumpBeforeAnyFlush(CoreDisk.Real);
        var reserve = Path.Combine(opened.Directory, DumpReport.ReservedName(DumpReport.JsonFileName));
        var blocker = Path.Combine(opened.Directory, DumpReport.JsonFileName);
        Directory.CreateDirectory(Path.Combine(blocker, "x")); // dump.json cannot be renamed into place

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();
        Assert.True(File.Exists(reserve), "the reserved file stays as the mark of an unfinished dump");
        Watch(writer);
        await EventFilter.Error(contains: "were never written").ExpectOneAsync(async () =>
        {
            Sys.Stop(writer); // as the server stops: a last try, refused too
            await ExpectTerminatedAsync(writer);
        });
        Directory.Delete(blocker, recursive: true);
        var recovered = Assert.Single(RecoveryScan.Run(_dumpDir, DateTimeOffset.UtcNow));
        // its core was named vmcore, which only a complete, fsynced core is: complete, as its end said
        Assert.Equal(new RecoveredDump(opened.Directory, null, DumpStatus.Complete), recovered);
        Assert.Equal("complete", ReadJson(opened.Directory).GetProperty("status").GetString());
        Assert.Equal("vmcore", ReadJson(opened.Directory).GetProperty("vmcore").GetString());
        // the KDH was kept in memory only, and no receiving report had it: the info says so
        Assert.Contains("  Kernel Dump Header: unknown (kept in memory only, and the server stopped before the reports were written)",
            File.ReadAllLines(Path.Combine(opened.Directory, DumpReport.InfoFileName)));
    }
}
