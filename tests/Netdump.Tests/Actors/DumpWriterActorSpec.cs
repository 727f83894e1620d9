using System.Net;
using System.Runtime.InteropServices;
using System.Text.Json;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;
using Xunit.Abstractions;
using TestKit = Akka.TestKit.Xunit2.TestKit;

namespace Netdump.Tests.Actors;

/// <summary>
/// The real writer on its disk dispatcher, in a temporary dump directory; the TestActor plays
/// the session, and the test writes dump data through the <see cref="CoreFile"/> the way the
/// session's receive pump does.
/// </summary>
public sealed partial class DumpWriterActorSpec : TestKit, IAsyncLifetime
{
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0700 = Mode0600 | UnixFileMode.UserExecute;

    private static readonly IPEndPoint Client = new(IPAddress.Parse("127.0.0.9"), 20024);
    private static readonly DateTimeOffset ReceivedAt = new(2024, 3, 9, 13, 5, 7, 250, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly string _dumpDir;
    private readonly NetdumpSettings _settings;
    private uint _sequence = 100;

    public DumpWriterActorSpec(ITestOutputHelper output)
        : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _dumpDir = _temp.Combine("crash");
        Directory.CreateDirectory(_dumpDir);
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            DumpDirectory = _dumpDir,
            MaxDumpSize = 1 << 20,
            MaxKeySize = 4096,
        };
    }

    private string ExpectedDirectoryName =>
        $"127.0.0.9-{ReceivedAt.LocalDateTime:yyyy-MM-dd-HH:mm:ss}";

    [Fact]
    public async Task Open_creates_the_dump_directory_and_an_empty_incomplete_core_and_nothing_else_before_a_flush_tick()
    {
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = TimeSpan.FromHours(1) });

        Assert.Equal(Path.Combine(_dumpDir, ExpectedDirectoryName), opened.Directory);
        Assert.Equal(Mode0700, File.GetUnixFileMode(opened.Directory));
        var core = Path.Combine(opened.Directory, "vmcore-incomplete");
        Assert.Equal(core, opened.Core.Path);
        Assert.Equal(0, new FileInfo(core).Length);
        Assert.Equal(Mode0600, File.GetUnixFileMode(core));

        // the writer has done all it does after Opened once it answers the next message: in a
        // crash storm the disk threads have the next dumps' starts to do first
        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        await ExpectMsgAsync<object>(); // SpaceOk or LowSpace: either way, answered
        Assert.Equal([core], Directory.GetFileSystemEntries(opened.Directory));
    }

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

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();

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
    public async Task A_complete_dump_is_renamed_to_vmcore_byte_for_byte_and_described_as_complete()
    {
        var (writer, opened) = await OpenDump();
        var data = Pattern(3000);
        WriteData(opened.Core, data, chunk: 1448);

        TellHeader(writer, Kdh(dumpLength: 3000));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.Null(record.Reason);
        Assert.Equal("vmcore", record.Vmcore);
        Assert.False(File.Exists(Path.Combine(opened.Directory, "vmcore-incomplete")));
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(opened.Directory, "vmcore")));
        Assert.Equal("Dump complete", LastInfoLine(opened.Directory));
        var json = ReadJson(opened.Directory);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("reason").ValueKind);
        Assert.Equal("crashy.example.org", json.GetProperty("hostname").GetString());
        Assert.Equal("page fault while in kernel mode", json.GetProperty("panic_string").GetString());
        Assert.True(json.GetProperty("parity_ok").GetBoolean());
        Assert.Equal(3000UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal("vmcore", json.GetProperty("vmcore").GetString());
    }

    [Theory]
    [InlineData(DumpCompression.Gzip, "vmcore.gz")]
    [InlineData(DumpCompression.Zstd, "vmcore.zst")]
    public async Task A_compressed_dump_is_truncated_to_its_length_and_named_for_its_compression(DumpCompression compression, string name)
    {
        var (writer, opened) = await OpenDump();
        var data = Pattern(1536); // the last 512-byte block is padding past dumplength
        WriteData(opened.Core, data, chunk: 512);

        TellHeader(writer, Kdh(dumpLength: 1100, compression: compression));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.Equal(name, record.Vmcore);
        Assert.Equal(data[..1100], File.ReadAllBytes(Path.Combine(opened.Directory, name)));
    }

    [Fact]
    public async Task An_encrypted_dump_keeps_its_key_beside_vmcore_encrypted()
    {
        var (writer, opened) = await OpenDump();
        var key = Pattern(2000, seed: 7);
        var data = Pattern(1024);

        await StoreKeyAndExpectAck(writer, 0, key[..1448]);
        await StoreKeyAndExpectAck(writer, 1448, key[1448..]);
        WriteData(opened.Core, data, chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 1024, dumpKeySize: 2000));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.True(record.Encrypted);
        Assert.Equal("vmcore_encrypted", record.Vmcore);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(opened.Directory, "vmcore_encrypted")));
        var keyFile = Path.Combine(opened.Directory, "key");
        Assert.Equal(key, File.ReadAllBytes(keyFile));
        Assert.Equal(Mode0600, File.GetUnixFileMode(keyFile));
        var json = ReadJson(opened.Directory);
        Assert.True(json.GetProperty("encrypted").GetBoolean());
        Assert.Equal(2000UL, record.KeyBytesReceived);
        Assert.Equal(2000UL, json.GetProperty("key_bytes_received").GetUInt64());
        Assert.Equal(1024UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Contains("  Key: 2000 of 2000 bytes received, in key", File.ReadAllLines(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_key_whose_first_packet_never_arrived_is_incomplete_and_so_is_the_dump()
    {
        var (writer, opened) = await OpenDump();
        var data = Pattern(1024);

        await StoreKeyAndExpectAck(writer, 1448, Pattern(4096 - 1448, seed: 7)); // bytes 0-1447 lost
        WriteData(opened.Core, data, chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 1024, dumpKeySize: 4096));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("encryption key incomplete: 2648 of 4096 bytes received, bytes 0-1447 missing", record.Reason?.Text);
        Assert.Equal(CoreFileNames.Incomplete, record.Vmcore);
    }

    [Fact]
    public async Task An_encrypted_compressed_dump_is_named_vmcore_encrypted_with_the_compression_suffix()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        await StoreKeyAndExpectAck(writer, 0, Pattern(64, seed: 7));
        TellHeader(writer, Kdh(dumpLength: 1000, compression: DumpCompression.Zstd, dumpKeySize: 64));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.Equal("vmcore_encrypted.zst", record.Vmcore);
        Assert.Equal(1000, new FileInfo(Path.Combine(opened.Directory, "vmcore_encrypted.zst")).Length);
    }

    [Fact]
    public async Task A_key_beyond_max_key_size_is_not_acknowledged()
    {
        var (writer, opened) = await OpenDump();

        writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 4096, Pattern(16))));
        writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 4000, Pattern(200))));

        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.False(File.Exists(Path.Combine(opened.Directory, "key")));
    }

    [Fact]
    public async Task A_dump_with_a_hole_stays_incomplete_and_lists_the_hole()
    {
        var (writer, opened) = await OpenDump();
        Assert.Equal(CoreWriteResult.Written, opened.Core.Write(0, Pattern(100)));
        Assert.Equal(CoreWriteResult.Written, opened.Core.Write(200, Pattern(100)));

        TellHeader(writer, Kdh(dumpLength: 300));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Contains("holes", record.Reason?.Text);
        Assert.Equal([new ByteRange(100, 200)], record.Holes);
        Assert.Equal("vmcore-incomplete", record.Vmcore);
        Assert.True(File.Exists(Path.Combine(opened.Directory, "vmcore-incomplete")));
        Assert.False(File.Exists(Path.Combine(opened.Directory, "vmcore")));
        var json = ReadJson(opened.Directory);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        var hole = Assert.Single(json.GetProperty("holes").EnumerateArray());
        Assert.Equal([100UL, 200UL], hole.EnumerateArray().Select(e => e.GetUInt64()));
        Assert.Equal($"Dump incomplete: {record.Reason}", LastInfoLine(opened.Directory));
    }

    [Fact]
    public async Task A_dump_without_a_kernel_dump_header_is_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("no kernel dump header", record.Reason?.Text);
        Assert.Equal("vmcore-incomplete", record.Vmcore);
        Assert.Equal("Dump incomplete: no kernel dump header", LastInfoLine(opened.Directory));
    }

    [Fact]
    public async Task A_bad_kernel_dump_header_is_acknowledged_but_leaves_the_dump_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        TellHeader(writer, Kdh(dumpLength: 1024, magic: "Linux Kernel Dump"));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.StartsWith("bad kernel dump header", record.Reason?.Text);
        Assert.Null(record.Header);
        Assert.True(File.Exists(Path.Combine(opened.Directory, "vmcore-incomplete")));
    }

    [Fact]
    public async Task A_dump_the_client_abandoned_is_incomplete_with_that_reason()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 1024));

        var record = await FinishDump(writer, reason: "client timed out");

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("client timed out", record.Reason?.Text);
        Assert.Equal("vmcore-incomplete", record.Vmcore);
        Assert.Equal("client timed out", ReadJson(opened.Directory).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_superseded_dump_names_the_dump_that_replaced_it()
    {
        var (writer, opened) = await OpenDump();

        writer.Tell(new DumpWriterActor.EndNow(EndReason.Parse("superseded"), "/some/dir"));
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("/some/dir", record.SupersededBy);
        var json = ReadJson(opened.Directory);
        Assert.Equal("superseded", json.GetProperty("reason").GetString());
        Assert.Equal("/some/dir", json.GetProperty("superseded_by").GetString());
    }

    [Fact]
    public async Task An_existing_herald_path_under_the_dump_directory_is_used()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet", "web"));

        var (writer, opened) = await OpenDump(heraldPath: "fleet/web");
        await FinishDump(writer, "client timed out");

        Assert.Equal(Path.Combine(_dumpDir, "fleet", "web", ExpectedDirectoryName), opened.Directory);
        Assert.Equal("fleet/web", ReadJson(opened.Directory).GetProperty("herald_path").GetString());
    }

    [Theory]
    [InlineData("/tmp")]
    [InlineData("fleet/../fleet")]
    [InlineData("../outside")]
    public async Task A_herald_path_that_is_absolute_or_climbs_out_falls_back_to_the_dump_directory(string heraldPath)
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet"));
        Directory.CreateDirectory(_temp.Combine("outside"));

        var (writer, opened) = await OpenDump(heraldPath: heraldPath);
        var record = await FinishDump(writer, "client timed out");

        Assert.Equal(Path.Combine(_dumpDir, ExpectedDirectoryName), opened.Directory);
        Assert.Equal(heraldPath, record.HeraldPath);
        Assert.Contains(heraldPath.StartsWith('/') ? "is absolute" : "..", record.HeraldPathFallback);
        Assert.Equal(record.HeraldPathFallback, ReadJson(opened.Directory).GetProperty("herald_path_fallback").GetString());
        Assert.Contains(
            $"  Herald Path: {heraldPath}, not used: {record.HeraldPathFallback}; the dump went to the dump directory instead",
            File.ReadAllLines(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_write_beyond_max_dump_size_is_refused_without_creating_a_sparse_file()
    {
        var (_, opened) = await OpenDump(_settings with { MaxDumpSize = 4096 });

        Assert.Equal(4096UL, opened.Core.MaxSize);
        Assert.Equal(CoreWriteResult.BeyondLimit, opened.Core.Write(1UL << 40, Pattern(512)));
        Assert.Equal(CoreWriteResult.BeyondLimit, opened.Core.Write(4000, Pattern(200)));
        Assert.Equal(0, new FileInfo(opened.Core.Path).Length);
        Assert.Equal(0UL, opened.Core.BytesReceived);

        Assert.Equal(CoreWriteResult.Written, opened.Core.Write(0, Pattern(4096)));
        Assert.Equal(4096, new FileInfo(opened.Core.Path).Length);
    }

    [Fact]
    public async Task A_writer_that_fails_marks_its_dump_incomplete()
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings, HeraldFor("")), SupervisorStrategy.StoppingStrategy);
        Watch(writer);
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();

        // the writer stores only key messages as a key: anything else makes it throw, and its
        // parent stops it, as a session does with a writer that fails
        writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.Vmcore, 0, Pattern(16))));
        await ExpectTerminatedAsync(writer);

        var json = ReadJson(opened.Directory);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task A_writer_tells_its_session_once_when_free_space_falls_below_the_reserve_and_answers_checks()
    {
        ulong free = 10UL << 30;
        var settings = _settings with { MaxDumpSize = null, MinFreeSpace = 1UL << 30, FlushInterval = TimeSpan.FromMilliseconds(50) };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(settings, HeraldFor(""), _ => Volatile.Read(ref free)));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        // the default cap: free space at the HERALD, less the reports' room made just after the ack
        Assert.Equal((10UL << 30) - DumpReport.ReservedBytes, opened.Core.MaxSize);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(150));

        Volatile.Write(ref free, 100UL << 20);
        var low = await ExpectMsgAsync<DumpWriterActor.LowSpace>();
        Assert.Equal((100UL << 20, 1UL << 30), (low.Available, low.Needed));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200)); // once, not at every flush

        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        await ExpectMsgAsync<DumpWriterActor.LowSpace>();
        Volatile.Write(ref free, 2UL << 30);
        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        await ExpectMsgAsync<DumpWriterActor.SpaceOk>();
    }

    [Fact]
    public async Task Once_the_header_gives_the_length_the_rest_of_the_dump_counts_against_free_space()
    {
        ulong free = 3UL << 30;
        var settings = _settings with { MinFreeSpace = 1UL << 30 };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(settings, HeraldFor(""), _ => free));
        writer.Tell(DumpWriterActor.Open.Instance);
        await ExpectMsgAsync<DumpWriterActor.Opened>();

        TellHeader(writer, Kdh(dumpLength: 4UL << 30));
        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        var low = await ExpectMsgAsync<DumpWriterActor.LowSpace>();
        Assert.Equal((1UL << 30) + (4UL << 30), low.Needed);
    }

    [Fact]
    public async Task After_its_end_a_writer_takes_no_header_and_stopping_it_leaves_the_final_reports_as_they_are()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(3000), chunk: 1448);
        TellHeader(writer, Kdh(dumpLength: 3000));
        await FinishDump(writer, reason: null);
        // the hash comes from the shared background lane, at a low priority: a loaded machine may take a while
        await AwaitAssertAsync(() => Assert.Equal(JsonValueKind.String, ReadJson(opened.Directory).GetProperty("sha256").ValueKind), TimeSpan.FromSeconds(30));
        var final = File.ReadAllText(Path.Combine(opened.Directory, DumpReport.JsonFileName));

        // a KDH that came too late (the pump is sealed at the end, so only a confused session sends one)
        writer.Tell(new DumpWriterActor.KeepHeader(Control(MessageType.Kdh, 0, Kdh(dumpLength: 9000))));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        var watcher = CreateTestProbe();
        watcher.Watch(writer);
        Sys.Stop(writer);
        await watcher.ExpectTerminatedAsync(writer);

        Assert.Equal(final, File.ReadAllText(Path.Combine(opened.Directory, DumpReport.JsonFileName)));
        Assert.Equal("complete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_writer_whose_open_failed_stops_when_its_session_ends_the_dump_anyway()
    {
        // a session that moved on before it heard OpenFailed (the server shutting down) sends
        // Finish: with no dump to end, the writer stops, and the session learns it from that
        var blocker = _temp.Combine("a-file");
        File.WriteAllText(blocker, "");
        var writer = Sys.ActorOf(DumpWriterActor.Props(_settings with { DumpDirectory = Path.Combine(blocker, "crash") }, HeraldFor("")));
        writer.Tell(DumpWriterActor.Open.Instance);
        await ExpectMsgAsync<DumpWriterActor.OpenFailed>();

        var watcher = CreateTestProbe();
        watcher.Watch(writer);
        writer.Tell(new DumpWriterActor.EndNow(EndReason.ServerShutDown));
        await watcher.ExpectTerminatedAsync(writer);
    }

    [Fact]
    public async Task A_discarded_dump_leaves_no_directory()
    {
        var (writer, opened) = await OpenDump();
        writer.Tell(DumpWriterActor.Discard.Instance);
        await ExpectMsgAsync<DumpWriterActor.Discarded>();
        Assert.False(Directory.Exists(opened.Directory));
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

    [Fact]
    public async Task A_background_fsync_failure_is_reported_to_the_session_and_ends_the_dump_incomplete()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await OpenFlushingOften(disk);

        disk.FailFsync = true;
        WriteData(opened.Core, Pattern(4096), 1024);
        var failed = await ExpectMsgAsync<DumpWriterActor.DiskFailed>();
        Assert.Equal("fsync failed: Input/output error", failed.Reason.Text);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // told once, though every flush fails

        writer.Tell(new DumpWriterActor.EndNow(failed.Reason));
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("fsync failed: Input/output error", record.Reason?.Text);
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_dump_directory_and_its_own_entry_become_durable_with_the_first_background_flush_and_only_once()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await OpenFlushingOften(disk);
        Assert.Empty(disk.Fsyncs); // opening fsyncs nothing (it held up the HERALD's ack)

        WriteData(opened.Core, Pattern(4096), 1024);
        await AwaitConditionAsync(() => Task.FromResult(disk.Fsyncs.Count >= 3));
        Assert.Equal(["core", "dir " + opened.Directory, "dir " + _dumpDir], disk.Fsyncs.Take(3));

        WriteData(opened.Core, Pattern(8192, seed: 2), 1024);
        await AwaitConditionAsync(() => Task.FromResult(disk.Fsyncs.Count(f => f == "core") >= 2));
        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();
        Assert.Equal(2, disk.Fsyncs.Count(f => f.StartsWith("dir ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_dump_that_ends_before_its_first_flush_makes_its_directory_entry_durable_before_it_answers()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeDumpBeforeAnyFlush(disk);

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;

        Assert.Equal(DumpStatus.Complete, record.Status);
        // the core, then the dump directory's entry in its parent (the final report fsyncs the dump directory itself)
        Assert.Equal(["core", "dir " + _dumpDir], disk.Fsyncs);
    }

    [Fact]
    public async Task A_failing_directory_fsync_is_a_disk_failure_like_a_failing_core_fsync()
    {
        var disk = new FaultyDisk { FailDirectoryFsync = true };
        var (_, opened) = await OpenFlushingOften(disk);

        WriteData(opened.Core, Pattern(4096), 1024);
        var failed = await ExpectMsgAsync<DumpWriterActor.DiskFailed>();
        Assert.Equal("fsync failed: Input/output error", failed.Reason?.Text);
    }

    /// <summary>The core's final fsync, or the fsync of the dump directory's entry at the end, fails.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failing_fsync_at_the_end_makes_a_finished_dump_incomplete(bool directory)
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeDumpBeforeAnyFlush(disk);

        disk.FailFsync = !directory;
        disk.FailDirectoryFsync = directory;
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("fsync failed: Input/output error", record.Reason?.Text);
        Assert.Equal(CoreFileNames.Incomplete, record.Vmcore);
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
    public async Task A_final_dumps_core_is_closed_at_once_not_held_while_its_session_lingers()
    {
        var (writer, opened) = await WholeDumpBeforeAnyFlush(CoreDisk.Real);
        Assert.Null(RecoveryScan.OpenExclusive(opened.Directory, CoreFileNames.Incomplete, out var receiving));
        Assert.Contains("is in use", receiving); // the writer holds it while it receives

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();

        // the file is let go as the dump is final, whether its writer still hashes it or has
        // stopped: a compression that replaces it frees its blocks at once
        using var free = RecoveryScan.OpenExclusive(opened.Directory, CoreFileNames.Plain, out var problem);
        Assert.Null(problem);
        Assert.NotNull(free);
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
        Assert.Equal(new RecoveredDump(opened.Directory, null), recovered);
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
        Assert.Equal("vmcore", ReadJson(opened.Directory).GetProperty("vmcore").GetString());
    }

    [Fact]
    public async Task A_header_of_another_version_is_logged_with_the_client_and_makes_the_dump_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(4096), 1024);
        var header = Kdh(dumpLength: 4096);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(32), 5);

        await EventFilter.Warning(contains: "127.0.0.9: bad kernel dump header: kernel dump header version 5, expected 4")
            .ExpectOneAsync(() => { TellHeader(writer, header); return Task.CompletedTask; });
        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("bad kernel dump header: kernel dump header version 5, expected 4", record.Reason?.Text);
    }

    [Fact]
    public async Task A_header_with_bad_parity_is_recorded_and_logged_but_the_data_still_decides()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(4096), 1024);
        var header = Kdh(dumpLength: 4096);
        header[508] ^= 0xff;

        await EventFilter.Warning(contains: "127.0.0.9: kernel dump header parity check failed")
            .ExpectOneAsync(() => { TellHeader(writer, header); return Task.CompletedTask; });
        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.False(record.Header!.ParityOk);
        Assert.False(ReadJson(opened.Directory).GetProperty("parity_ok").GetBoolean());
        Assert.Contains("Header Parity Check: Fail", File.ReadAllText(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_header_that_claims_an_enormous_length_leaves_the_dump_incomplete_with_its_hole()
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings, HeraldFor(""), _ => 10UL << 30));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(4096), 1024);

        TellHeader(writer, Kdh(dumpLength: ulong.MaxValue - 7));
        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        Assert.Equal(ulong.MaxValue, (await ExpectMsgAsync<DumpWriterActor.LowSpace>()).Needed); // saturated, not wrapped

        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal([new ByteRange(4096, ulong.MaxValue - 7)], record.Holes);
        Assert.Equal(4096, new FileInfo(opened.Core.Path).Length); // no sparse giant
    }

    [Fact]
    public async Task An_over_large_key_is_not_acked_and_is_logged_with_the_client()
    {
        var (writer, _) = await OpenDump(_settings with { MaxKeySize = 8192 });
        await EventFilter.Warning(contains: "127.0.0.9: encryption key bytes 8000-12096 exceed max_key_size 8192")
            .ExpectOneAsync(async () =>
            {
                writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 8000, Pattern(4096))));
                await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
            });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// Stops the actor system without blocking a pool thread: on a small machine the TestKit's
    /// blocking shutdown in Dispose can wait most of a second for the thread pool to grow.
    /// </summary>
    public async Task DisposeAsync() => await ShutdownAsync();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            // a hash the lane computed before its writer stopped is still written into the
            // reports: the lane runs its jobs in order, so once this one ran, that write is over
            BackgroundLane.Shared.Run(() => true).Wait(TimeSpan.FromSeconds(30));
            _temp.Dispose();
        }
    }

    private async Task<(IActorRef Writer, DumpWriterActor.Opened Opened)> OpenDump(NetdumpSettings? settings = null, string heraldPath = "")
    {
        var writer = Sys.ActorOf(DumpWriterActor.Props(settings ?? _settings, HeraldFor(heraldPath)));
        writer.Tell(DumpWriterActor.Open.Instance);
        return (writer, await ExpectMsgAsync<DumpWriterActor.Opened>());
    }

    /// <summary>A writer (this test's child, so it hears DiskFailed) on <paramref name="disk"/> that flushes every 50 ms.</summary>
    private async Task<(IActorRef Writer, DumpWriterActor.Opened Opened)> OpenFlushingOften(CoreDisk disk)
    {
        var settings = _settings with { FlushInterval = TimeSpan.FromMilliseconds(50) };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(settings, HeraldFor(""), disk: disk));
        writer.Tell(DumpWriterActor.Open.Instance);
        return (writer, await ExpectMsgAsync<DumpWriterActor.Opened>());
    }

    /// <summary>A writer on <paramref name="disk"/> whose background flush never comes (unless <paramref name="settings"/> say), holding a whole 4 KiB dump and its KDH.</summary>
    /// <remarks>A child of the test actor, which hears what the writer tells its session.</remarks>
    private async Task<(IActorRef Writer, DumpWriterActor.Opened Opened)> WholeDumpBeforeAnyFlush(CoreDisk disk, NetdumpSettings? settings = null)
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(settings ?? _settings with { FlushInterval = TimeSpan.FromHours(1) }, HeraldFor(""), disk: disk));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(4096), 1024);
        TellHeader(writer, Kdh(dumpLength: 4096));
        return (writer, opened);
    }

    private static Herald HeraldFor(string heraldPath) =>
        new(Sequence: 1, Client, IPAddress.Loopback, heraldPath, PathProblem: null, ReceivedAt);

    /// <summary>
    /// Writes 1 KiB after 1 KiB from <paramref name="offset"/> at a client's pace (the pause is
    /// the client's, not a wait for the writer) until the receiving report satisfies <paramref name="until"/>.
    /// </summary>
    private static async Task<JsonElement> WriteUntil(DumpWriterActor.Opened opened, ulong offset, Func<JsonElement, bool> until)
    {
        const int chunk = 1024;
        for (var i = 0; i < 400; i++)
        {
            Assert.Equal(CoreWriteResult.Written, opened.Core.Write(offset + (ulong)(i * chunk), Pattern(chunk, seed: i)));
            await Task.Delay(10);
            if (File.Exists(Path.Combine(opened.Directory, "dump.json")) && ReadJson(opened.Directory) is var json && until(json))
            {
                return json;
            }
        }

        throw new TimeoutException("no receiving report as awaited while data arrived");
    }

    /// <summary>Writes data as the receive pump does, one payload at a time, from <paramref name="at"/> in the core.</summary>
    private static void WriteData(CoreFile core, byte[] data, int chunk, ulong at = 0)
    {
        for (var offset = 0; offset < data.Length; offset += chunk)
        {
            var length = Math.Min(chunk, data.Length - offset);
            Assert.Equal(CoreWriteResult.Written, core.Write(at + (ulong)offset, data.AsSpan(offset, length)));
        }
    }

    private async Task StoreKeyAndExpectAck(IActorRef writer, ulong offset, byte[] payload)
    {
        var packet = Control(MessageType.EkcdKey, offset, payload);
        writer.Tell(new DumpWriterActor.StoreKey(packet));
        await ExpectMsgAsync(new DumpWriterActor.Stored(packet.Sequence));
    }

    /// <summary>A KDH for the writer to keep: not answered (the session acks it).</summary>
    private void TellHeader(IActorRef writer, byte[] payload) =>
        writer.Tell(new DumpWriterActor.KeepHeader(Control(MessageType.Kdh, 0, payload)));

    private async Task<DumpRecord> FinishDump(IActorRef writer, string? reason)
    {
        writer.Tell(reason is null ? DumpWriterActor.ClientFinished.Instance : new DumpWriterActor.EndNow(EndReason.Parse(reason)));
        return (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;
    }

    private PumpEvent.ControlPacket Control(MessageType type, ulong offset, byte[] payload) =>
        new(type, ++_sequence, offset, payload);

    private static byte[] Kdh(
        ulong dumpLength,
        DumpCompression compression = DumpCompression.None,
        uint dumpKeySize = 0,
        string magic = KernelDumpHeader.KernelDumpMagic)
    {
        var header = new KernelDumpHeader(
            magic,
            Architecture: "amd64",
            Version: KernelDumpHeader.SupportedVersion,
            ArchitectureVersion: 2,
            DumpLength: dumpLength,
            DumpTime: 1_709_989_507,
            DumpKeySize: dumpKeySize,
            BlockSize: 512,
            Hostname: "crashy.example.org",
            VersionString: "FreeBSD 14.1-RELEASE GENERIC",
            PanicString: "page fault while in kernel mode",
            Compression: compression,
            DumpExtent: dumpLength,
            Parity: 0);
        var bytes = new byte[KernelDumpHeader.Size];
        header.Write(bytes);
        return bytes;
    }

    private static byte[] Pattern(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static List<ulong[]> Pairs(JsonElement array) =>
        array.EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetUInt64()).ToArray()).ToList();

    private static string LastInfoLine(string directory) => File.ReadAllLines(Path.Combine(directory, "info"))[^1];

    private static JsonElement ReadJson(string directory)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "dump.json")));
        return document.RootElement.Clone();
    }

    private static ulong Inode(string path)
    {
        var stat = new byte[256]; // struct stat: st_dev, then st_ino (x86-64 and arm64)
        Assert.True(Stat(path, stat) == 0, $"stat {path}");
        return BitConverter.ToUInt64(stat, 8);
    }

    [DllImport("libc", EntryPoint = "stat")]
    private static extern int Stat(string path, byte[] buffer);
}
