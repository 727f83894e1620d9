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
/// session's receive pump does. This file holds the setup, the helpers, the open and the end
/// (complete or not, the name, the HERALD path, the limits); the tests by concern are in
/// <c>DumpWriterActorSpec.Reports/.Durability/.Headers/.Aftercare/.Linux.cs</c>.
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
    public async Task A_writer_stopped_mid_dump_refuses_every_later_write_so_nothing_is_acked_past_its_last_fsync()
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings, HeraldFor("")), SupervisorStrategy.StoppingStrategy);
        Watch(writer);
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(4096), 1024);

        // stopped as a failed session's children are, while its pump still runs
        Sys.Stop(writer);
        await ExpectTerminatedAsync(writer);

        // the pump's next write is refused, so never acked: the reports and the last fsync hold all that was
        Assert.Equal(CoreWriteResult.Failed, opened.Core.Write(4096, Pattern(1024)));
        Assert.Equal("the dump has ended", opened.Core.LastError);
        var json = ReadJson(opened.Directory);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal(4096UL, json.GetProperty("bytes_received").GetUInt64());
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
