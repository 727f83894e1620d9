using Akka.Actor;
using Akka.Event;
using Netdump.Actors;
using Netdump.Actors.Catalog;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using Netdump.Tests.Scripts;
using Xunit.Abstractions;
using static Netdump.Actors.Catalog.CatalogProtocol;

namespace Netdump.Tests.Catalog;

/// <summary>The catalog actor fed on the event stream, its clock in the test's hand: storms, progress, removals.</summary>
public sealed class CatalogActorSpec : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private readonly ScriptFolder _folder = new();
    private readonly NetdumpSettings _settings;
    private readonly ManualClock _clock = new(CatalogTree.Start);

    public CatalogActorSpec(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            DumpDirectory = _folder.DumpDirectory,
            Storm = new StormSettings(3, TimeSpan.FromMinutes(10)),
        };
    }

    [Fact]
    public async Task Three_hosts_joining_one_group_in_the_window_log_one_storm_and_run_netdump_storm()
    {
        var argsFile = _folder.InDump("storm-args");
        _folder.Write(ScriptNames.Storm, $"echo \"$1 $2 $NETDUMP_HOSTS $NETDUMP_PANIC\" >> {argsFile}");
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var catalog = Sys.ActorOf(CatalogActor.Props(_settings, new CatalogSeed([], new StringPool()), _clock));
        await AwaitCatalogAsync(catalog, 0);

        for (var i = 1; i <= 3; i++)
        {
            _clock.Now = CatalogTree.Start.AddMinutes(3 * i);
            Publish(CatalogTree.Record(_folder.DumpDirectory, $"192.0.2.{i}", _clock.Now, $"web{i}", $"fault at 0x{i}0 pid {i}"));
        }

        var storm = await warnings.FishForMessageAsync<Warning>(w => w.ToString()!.Contains("Panic storm", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        var group = PanicGroupKey.Of("fault at 0x10 pid 1", "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8")!;
        Assert.Contains($"Panic storm: 3 hosts in 10 minutes in group {group.Id}: \"fault at 0x# pid #\" on FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8 (hosts web1, web2, web3)", storm.ToString());
        await AwaitConditionAsync(async () => await Task.FromResult(File.Exists(argsFile) && File.ReadAllText(argsFile).Length > 0), TimeSpan.FromSeconds(10));
        Assert.Equal($"{group.Id} 3 web1,web2,web3 fault at 0x# pid #\n", File.ReadAllText(argsFile));

        // a fourth host in the same window is the same storm; the group remembers it
        Publish(CatalogTree.Record(_folder.DumpDirectory, "192.0.2.4", _clock.Now, "web4", "fault at 0x40 pid 4"));
        var groups = await catalog.Ask<Groups>(new GetGroups(0, 10, 3), TimeSpan.FromSeconds(3));
        Assert.Equal(1, groups.Total);
        var summary = Assert.Single(groups.Items);
        Assert.Equal(4, summary.HostCount);
        Assert.Equal(["web1", "web2", "web3"], summary.Hosts); // the first three by name, as asked
        Assert.Equal(CatalogTree.Start.AddMinutes(9), summary.StormAt);
        await warnings.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.Single(File.ReadAllLines(argsFile));
        Assert.Equal(1, MetricsExtension.For(Sys).Storms.Value);
    }

    [Fact]
    public async Task A_storm_line_names_its_hosts_on_one_line_whatever_their_names_hold()
    {
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var catalog = Sys.ActorOf(CatalogActor.Props(_settings, new CatalogSeed([], new StringPool()), _clock));
        await AwaitCatalogAsync(catalog, 0);

        // a host name is the client's word: this one would forge a log line of its own
        var hosts = new[] { "web1", "web2\n2026-12-07 04:20:00.000 [ERR] FORGED\u001b[2J", "web3" };
        for (var i = 1; i <= 3; i++)
        {
            Publish(CatalogTree.Record(_folder.DumpDirectory, $"192.0.2.{i}", _clock.Now, hosts[i - 1], "fault at 0x10 pid 1"));
        }

        var storm = (await warnings.FishForMessageAsync<Warning>(w => w.ToString()!.Contains("Panic storm", StringComparison.Ordinal), TimeSpan.FromSeconds(5))).Message.ToString()!;
        Assert.DoesNotContain('\n', storm);
        Assert.DoesNotContain('\u001b', storm);
        Assert.EndsWith("(hosts web1, web2 2026-12-07 04:20:00.000 [ERR] FORGED [2J, web3)", storm);
    }

    [Fact]
    public async Task Dumps_found_at_start_and_a_dump_that_only_ends_do_not_make_a_storm()
    {
        var initial = Enumerable.Range(1, 5)
            .Select(i => CatalogEntries.FromRecord(_settings.DumpDirectory, CatalogTree.Record(_settings.DumpDirectory, $"192.0.2.{i}", CatalogTree.Start, $"web{i}", "fault")))
            .ToList();
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var catalog = Sys.ActorOf(CatalogActor.Props(_settings, new CatalogSeed(initial, new StringPool()), _clock));
        await AwaitCatalogAsync(catalog, 5);

        // the same dumps reported again (ended, checksummed): not new hosts in the group
        foreach (var i in Enumerable.Range(1, 5))
        {
            Publish(CatalogTree.Record(_settings.DumpDirectory, $"192.0.2.{i}", CatalogTree.Start, $"web{i}", "fault"));
        }

        await AwaitCatalogAsync(catalog, 5);
        await warnings.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_receiving_dump_shows_its_progress_until_it_ends_and_goes_when_removed()
    {
        var catalog = Sys.ActorOf(CatalogActor.Props(_settings, new CatalogSeed([], new StringPool()), _clock));
        await AwaitCatalogAsync(catalog, 0);
        var record = CatalogTree.Record(_settings.DumpDirectory, "192.0.2.9", CatalogTree.Start, "web9", "fault", DumpStatus.Receiving) with { Header = null };
        Publish(record);
        Sys.EventStream.Publish(new DumpProgress(record.Directory, 1000, 4000, new ReceiveRate(500, 400)));

        await AwaitAssertAsync(async () =>
        {
            var live = Assert.Single((await catalog.Ask<Sessions>(GetSessions.Instance, TimeSpan.FromSeconds(3))).Items);
            Assert.Equal(1000UL, live.BytesReceived);
            Assert.Equal(4000UL, live.DumpLength);
            Assert.Equal(6UL, live.EtaSeconds);
        }, TimeSpan.FromSeconds(5));

        Publish(record with { Status = DumpStatus.Complete, BytesReceived = 4000 });
        Sys.EventStream.Publish(new DumpProgress(record.Directory, 2000, 4000, new ReceiveRate(500, 400))); // late: ignored
        await AwaitAssertAsync(async () => Assert.Empty((await catalog.Ask<Sessions>(GetSessions.Instance, TimeSpan.FromSeconds(3))).Items), TimeSpan.FromSeconds(5));
        var entry = Assert.IsType<DumpFound>(await catalog.Ask<object>(new GetDump(DumpId.Of(_settings.DumpDirectory, record.Directory)), TimeSpan.FromSeconds(3))).Entry;
        Assert.Equal(DumpStatus.Complete, entry.Status);
        Assert.Equal(4000UL, entry.BytesReceived);

        Sys.EventStream.Publish(new DumpsRemoved([record.Directory]));
        await AwaitCatalogAsync(catalog, 0);
    }

    private void Publish(DumpRecord record) => Sys.EventStream.Publish(new DumpChanged(record));

    private Task AwaitCatalogAsync(IActorRef catalog, int dumps) => AwaitAssertAsync(
        async () => Assert.Equal(dumps, (await catalog.Ask<DumpPage>(new QueryDumps(DumpFilter.All, 0, 0), TimeSpan.FromSeconds(3))).Total),
        TimeSpan.FromSeconds(5));

    void IDisposable.Dispose()
    {
        Shutdown();
        _folder.Dispose();
    }
}
