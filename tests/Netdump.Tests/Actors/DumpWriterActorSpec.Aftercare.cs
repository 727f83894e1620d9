using System.Text.Json;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Actors;

/// <summary>The writer's aftercare of a finished dump: its SHA-256 (before or after the ack), its host's <c>.last</c> link, and what the catalog hears.</summary>
public sealed partial class DumpWriterActorSpec
{
    [Fact]
    public async Task A_dump_that_ends_before_its_first_flush_tick_is_told_to_the_catalog_at_its_end_only()
    {
        var (catalog, writer) = await DumpTheCatalogHears(TimeSpan.FromHours(1), dumpLength: 3000);

        await FinishDump(writer, reason: null);

        // neither its open nor its header: the first the catalog hears is the final record, hash and all
        var told = (await catalog.ExpectMsgAsync<Netdump.Actors.Catalog.CatalogProtocol.DumpChanged>()).Record;
        Assert.Equal(DumpStatus.Complete, told.Status);
        Assert.Equal("crashy.example.org", told.Header?.Hostname);
        Assert.NotNull(told.Sha256);
    }

    [Fact]
    public async Task A_receiving_dumps_header_reaches_the_catalog_with_the_next_flush_tick()
    {
        var (catalog, writer) = await DumpTheCatalogHears(TimeSpan.FromMilliseconds(50), dumpLength: 8192);

        var told = await catalog.FishForMessageAsync<Netdump.Actors.Catalog.CatalogProtocol.DumpChanged>(
            m => m.Record.Header?.Hostname == "crashy.example.org", TimeSpan.FromSeconds(10));
        Assert.Equal(DumpStatus.Receiving, told.Record.Status);
        Assert.Equal(3000UL, told.Record.BytesReceived);
        await FinishDump(writer, reason: "client timed out");
    }

    [Fact]
    public async Task A_small_complete_core_is_hashed_before_its_finished_ack_and_its_final_reports_carry_the_hash()
    {
        var (writer, opened, data) = await WholeDumpOfChild((int)DumpWriterActor.ChecksumBeforeAckBytes); // the largest core hashed before the ack
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));

        var record = await FinishDump(writer, reason: null);
        Assert.Equal(expected, record.Sha256);
        Assert.Equal(expected, record.StoredSha256);
        Assert.Equal((ulong)data.Length, record.StoredBytes);
        await ExpectTerminatedAsync(writer); // nothing more to do: no hash after the ack, no second report

        AssertReportsCarry(opened.Directory, expected); // as the ack found them: written once, with the hash
    }

    [Fact]
    public async Task A_small_core_ending_while_another_dump_is_received_gets_its_sha256_after_it_was_finalized()
    {
        var space = new DiskSpace(_dumpDir, reserve: 0, _ => 1UL << 40);
        using var other = space.Open(); // another client's dump, still arriving
        var (writer, opened, data) = await WholeDumpOfChild(3000, space);

        var record = await FinishDump(writer, reason: null);
        Assert.Null(record.Sha256); // the other dump's end may come in the same second: this one's hash holds no disk thread
        await ExpectTerminatedAsync(writer); // once the lane's hash is in the reports

        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        Assert.Equal(expected, ReadJson(opened.Directory).GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task A_larger_complete_core_gets_its_sha256_after_it_was_finalized_then_its_writer_stops()
    {
        var (writer, opened, data) = await WholeDumpOfChild((int)DumpWriterActor.ChecksumBeforeAckBytes + 1);

        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        DumpRecord record = null!;
        await EventFilter.Info(contains: $"SHA-256 of {opened.Directory}/vmcore is {expected}").ExpectOneAsync(async () =>
        {
            record = await FinishDump(writer, reason: null);
            Assert.Null(record.Sha256); // the FINISHED ack does not wait for the hash of a large core
            await ExpectTerminatedAsync(writer); // the session waits for this before it stops
        });

        AssertReportsCarry(opened.Directory, expected);
        Assert.Equal(record.FinishedAt!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"), ReadJson(opened.Directory).GetProperty("finished_at").GetString());
    }

    [Fact]
    public async Task A_hash_the_reports_cannot_take_is_logged_with_the_hash_and_the_writer_still_stops()
    {
        var (writer, opened, data) = await WholeDumpOfChild((int)DumpWriterActor.ChecksumBeforeAckBytes + 1); // hashed on the lane, after the ack

        // the lane that hashes and writes the reports waits until dump.json cannot be replaced
        // (a directory with something in it stands in its name)
        using var gate = new ManualResetEventSlim();
        _ = BackgroundLane.Shared.Run(() => gate.Wait(TimeSpan.FromSeconds(30)));
        try
        {
            await FinishDump(writer, reason: null);
            var json = Path.Combine(opened.Directory, DumpReport.JsonFileName);
            File.Delete(json);
            Directory.CreateDirectory(Path.Combine(json, "in-the-way"));
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
            await EventFilter.Error(contains: $"127.0.0.9: cannot write the SHA-256 {expected} into the reports of {opened.Directory}")
                .ExpectOneAsync(() =>
                {
                    gate.Set();
                    return Task.CompletedTask;
                });
        }
        finally
        {
            gate.Set();
        }

        await ExpectTerminatedAsync(writer);
    }

    [Fact]
    public async Task An_incomplete_dump_gets_neither_a_checksum_nor_a_last_link_and_its_writer_stops_at_once()
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings with { FlushInterval = TimeSpan.FromHours(1) }, HeraldFor("")));
        Watch(writer);
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(4096), chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 8192));

        Assert.Equal(DumpStatus.Incomplete, (await FinishDump(writer, reason: null)).Status);
        await ExpectTerminatedAsync(writer); // no hash to wait for

        Assert.Equal(JsonValueKind.Null, ReadJson(opened.Directory).GetProperty("sha256").ValueKind);
        Assert.DoesNotContain(File.ReadAllLines(Path.Combine(opened.Directory, DumpReport.InfoFileName)), l => l.Contains("SHA-256", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(_dumpDir, "*.last"));
    }

    [Fact]
    public async Task A_complete_dump_is_what_its_hosts_last_link_beside_it_points_to_when_its_session_hears_of_its_end()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "web"));
        var (writer, opened) = await OpenDump(heraldPath: "web");
        WriteData(opened.Core, Pattern(4096), chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 4096));
        await FinishDump(writer, reason: null);

        // at once: the session's netdump-reboot, which starts now, may read it
        var link = new FileInfo(Path.Combine(_dumpDir, "web", "crashy.example.org.last"));
        Assert.Equal(ExpectedDirectoryName, link.LinkTarget); // relative
        Assert.Equal(Path.Combine(_dumpDir, "web", ExpectedDirectoryName), link.ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        Assert.False(File.Exists(Path.Combine(_dumpDir, "crashy.example.org.last")));
    }

    /// <summary>
    /// A writer (this test's child, watched: it stops itself once its dump needs nothing more of it) whose flush tick never comes, on
    /// <paramref name="space"/> if given, holding a whole dump of <paramref name="bytes"/> and its KDH.
    /// </summary>
    private async Task<(IActorRef Writer, DumpWriterActor.Opened Opened, byte[] Data)> WholeDumpOfChild(int bytes, DiskSpace? space = null)
    {
        var settings = _settings with { FlushInterval = TimeSpan.FromHours(1), MaxDumpSize = 32 << 20 };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(settings, HeraldFor(""), space: space));
        Watch(writer);
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        var data = Pattern(bytes);
        WriteData(opened.Core, data, chunk: 64 * 1024);
        TellHeader(writer, Kdh(dumpLength: (ulong)data.Length));
        return (writer, opened, data);
    }

    /// <summary>A complete dump's final reports, with <paramref name="sha256"/>, and no temporary report left.</summary>
    private static void AssertReportsCarry(string directory, string sha256)
    {
        var json = ReadJson(directory);
        Assert.Equal(sha256, json.GetProperty("sha256").GetString());
        Assert.Equal("complete", json.GetProperty("status").GetString());
        var info = File.ReadAllLines(Path.Combine(directory, DumpReport.InfoFileName));
        Assert.Contains($"  SHA-256: {sha256} (vmcore)", info);
        Assert.Equal("Dump complete", info[^1]);
        Assert.Empty(Directory.GetFiles(directory, ".*"));
    }

    /// <summary>A probe hearing what writers tell the catalog, and a writer holding 3000 bytes and a KDH saying <paramref name="dumpLength"/>.</summary>
    private async Task<(Akka.TestKit.TestProbe Catalog, IActorRef Writer)> DumpTheCatalogHears(TimeSpan flushInterval, ulong dumpLength)
    {
        var catalog = CreateTestProbe();
        Sys.EventStream.Subscribe(catalog.Ref, typeof(Netdump.Actors.Catalog.CatalogProtocol.DumpChanged));
        var (writer, opened) = await OpenDump(_settings with { FlushInterval = flushInterval });
        WriteData(opened.Core, Pattern(3000), chunk: 1448);
        TellHeader(writer, Kdh(dumpLength));
        return (catalog, writer);
    }
}
