using System.Net;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;
using static Netdump.Actors.Catalog.CatalogProtocol;

namespace Netdump.Tests.Cluster;

/// <summary>
/// The fleet catalog (SPEC §8) on three in-process nodes: every node lists every node's dumps
/// with their node, an unreachable node's dumps stay marked, and a node that returns
/// republishes what its disk holds (and no longer lists what retention took meanwhile).
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class FleetCatalogSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const int PerNode = 40;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly List<FleetNode> _nodes = [];
    private readonly Dictionary<string, object?> _keys = new() { ["max_concurrent_dumps"] = 4 };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static List<CatalogEntry> Disk(string root, int node, int count, int skip = -1) =>
        Enumerable.Range(0, count).Where(i => i != skip).Select(i => new CatalogEntry
        {
            Id = $"192.0.2.{node}-{i:D4}",
            Directory = Path.Combine(root, $"192.0.2.{node}-{i:D4}"),
            Status = DumpStatus.Complete,
            ClientIp = $"192.0.2.{node}",
            Hostname = $"host{node}-{i}",
            PanicString = "page fault",
            ReceivedAt = DateTimeOffset.UnixEpoch.AddMinutes(node * 1000 + i),
            Vmcore = "vmcore",
            BytesReceived = 4096,
        }).ToList();

    private async Task<(FleetNode Node, IActorRef Catalog)> StartAsync(int index, string seed, int port, int skip = -1, string? name = null)
    {
        var node = await FleetNode.StartAsync(index, seed, port, _keys, name: name);
        var catalog = node.System.ActorOf(CatalogActor.Props(node.Settings, new CatalogSeed(Disk(node.Settings.DumpDirectory, index, PerNode, skip), new StringPool())), "catalog");
        return (node, catalog);
    }

    private async Task<List<CatalogEntry>> ListAsync(IActorRef catalog) =>
        (await catalog.Ask<DumpPage>(new QueryDumps(DumpFilter.All, 0, 1000), TimeSpan.FromSeconds(2))).Items.ToList();

    [Fact]
    public async Task Catalog_should_converge_mark_an_unreachable_node_and_take_back_a_returning_node()
    {
        var ports = Enumerable.Range(1, 3).Select(i => FleetNode.FreePort(IPAddress.Parse($"127.0.0.{10 + i}"))).ToArray();
        var seed = FleetNode.Seed(1, ports[0]);
        var catalogs = new List<IActorRef>();
        for (var i = 1; i <= 3; i++)
        {
            var (node, catalog) = await StartAsync(i, seed, ports[i - 1]);
            _nodes.Add(node);
            catalogs.Add(catalog);
        }

        // converges: every node lists every dump once, with its node
        foreach (var catalog in catalogs)
        {
            await AwaitAssertAsync(async () =>
            {
                var all = await ListAsync(catalog);
                Assert.Equal(3 * PerNode, all.Count);
                Assert.Equal(3 * PerNode, all.Select(e => e.Id).Distinct().Count());
                Assert.All(all, e => Assert.Equal($"node{e.ClientIp[^1]}", e.Node));
                Assert.All(all, e => Assert.StartsWith(e.Node + "~~", e.Id));
                Assert.DoesNotContain(all, e => e.Unreachable);
            }, Wait, TimeSpan.FromMilliseconds(200));
        }

        // each node's metrics count its own dumps: a sum over the fleet counts each dump once
        Assert.All(_nodes, node => Assert.Equal(PerNode, MetricsExtension.For(node.System).CatalogDumps.Value));

        // node3 crashes: its dumps stay on the others, marked unreachable
        await _nodes[2].CrashAsync();
        await AwaitAssertAsync(async () =>
        {
            var all = await ListAsync(catalogs[0]);
            Assert.Equal(3 * PerNode, all.Count);
            Assert.All(all, e => Assert.Equal(e.Node == "node3", e.Unreachable));
        }, Wait, TimeSpan.FromMilliseconds(200));

        // it returns, its disk one dump shorter (retention ran): it republishes, the rest follow
        await AwaitAssertAsync(() => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(_nodes[0].System).State.Members, m => m.Address == _nodes[2].Address),
            Wait, TimeSpan.FromMilliseconds(200));
        var (back, backCatalog) = await StartAsync(3, seed, ports[2], skip: 7);
        _nodes[2] = back;
        foreach (var catalog in new[] { catalogs[0], catalogs[1], backCatalog })
        {
            await AwaitAssertAsync(async () =>
            {
                var all = await ListAsync(catalog);
                Assert.Equal(3 * PerNode - 1, all.Count);
                Assert.DoesNotContain(all, e => e.Unreachable);
                Assert.DoesNotContain(all, e => e.Id == "node3~~192.0.2.3-0007");
            }, Wait, TimeSpan.FromMilliseconds(200));
        }
    }

    [Fact]
    public async Task An_id_without_its_node_names_the_asked_nodes_own_dump()
    {
        // `show DIR` turns a directory under dumpdir into an id, without the node's name
        var ports = Enumerable.Range(1, 2).Select(i => FleetNode.FreePort(IPAddress.Parse($"127.0.0.{10 + i}"))).ToArray();
        var catalogs = await StartTwoAsync(FleetNode.Seed(1, ports[0]), ports);

        var own = await catalogs[0].Ask<object>(new GetDump("192.0.2.1-0003"), TimeSpan.FromSeconds(2));
        Assert.Equal("node1~~192.0.2.1-0003", Assert.IsType<DumpFound>(own).Entry.Id);
        // node2 lists that dump too, but it is not node2's own: no guess at another node's
        Assert.IsType<DumpNotFound>(await catalogs[1].Ask<object>(new GetDump("192.0.2.1-0003"), TimeSpan.FromSeconds(2)));
        Assert.IsType<DumpFound>(await catalogs[1].Ask<object>(new GetDump("node1~~192.0.2.1-0003"), TimeSpan.FromSeconds(2)));
    }

    private async Task<List<IActorRef>> StartTwoAsync(string seed, int[] ports)
    {
        var catalogs = new List<IActorRef>();
        for (var i = 1; i <= 2; i++)
        {
            var (node, catalog) = await StartAsync(i, seed, ports[i - 1]);
            _nodes.Add(node);
            catalogs.Add(catalog);
        }

        foreach (var catalog in catalogs)
        {
            await AwaitAssertAsync(async () => Assert.Equal(2 * PerNode, (await ListAsync(catalog)).Count), Wait, TimeSpan.FromMilliseconds(200));
        }

        return catalogs;
    }

    [Fact]
    public async Task A_node_joining_under_a_name_in_use_stops_and_takes_none_of_the_first_ones_dumps()
    {
        var ports = new[] { 1, 2, 4 }.Select(i => FleetNode.FreePort(IPAddress.Parse($"127.0.0.{10 + i}"))).ToArray();
        var seed = FleetNode.Seed(1, ports[0]);
        var catalogs = await StartTwoAsync(seed, ports);

        // a third process started with node2's name (a unit file copied with its --node-name)
        var (impostor, _) = await StartAsync(4, seed, ports[2], name: "node2");
        _nodes.Add(impostor);

        await impostor.System.WhenTerminated.WaitAsync(Wait);
        var reason = Assert.IsType<FleetCatalogActor.NodeNameInUse>(Akka.Actor.CoordinatedShutdown.Get(impostor.System).ShutdownReason);
        Assert.Equal($"node_name \"node2\" is already the name of the fleet's node at 127.0.0.12:{ports[1]}; each node needs its own name (--node-name): this node stops",
            reason.Message);
        Assert.Equal(1, reason.ExitCode);

        // the first node2's dumps stay listed everywhere, and none of the impostor's came
        await AwaitAssertAsync(() => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(_nodes[0].System).State.Members, m => m.Address == impostor.Address),
            Wait, TimeSpan.FromMilliseconds(200));
        foreach (var catalog in catalogs)
        {
            var all = await ListAsync(catalog);
            Assert.Equal(2 * PerNode, all.Count);
            Assert.DoesNotContain(all, e => e.ClientIp == "192.0.2.4");
        }

        // and the impostor's going says nothing of the real node2: its dumps stay reachable
        await Task.Delay(TimeSpan.FromSeconds(1)); // the removal's event reaches every node's catalog within a gossip round
        foreach (var catalog in catalogs)
        {
            Assert.DoesNotContain(await ListAsync(catalog), e => e.Unreachable);
        }
    }

    [Fact]
    public async Task A_node_whose_dumps_another_node_removes_publishes_them_again()
    {
        var ports = new[] { 1, 2 }.Select(i => FleetNode.FreePort(IPAddress.Parse($"127.0.0.{10 + i}"))).ToArray();
        var catalogs = await StartTwoAsync(FleetNode.Seed(1, ports[0]), ports);
        var warnings = CreateTestProbe(_nodes[1].System);
        _nodes[1].System.EventStream.Subscribe(warnings.Ref, typeof(Akka.Event.Warning));

        // node1 removes one of node2's entries (a node that broke the rule of one writer per entry)
        const string id = "node2~~192.0.2.2-0005";
        var replicator = Akka.DistributedData.DistributedData.Get(_nodes[0].System).Replicator;
        var node1 = Akka.Cluster.Cluster.Get(_nodes[0].System);
        replicator.Tell(Akka.DistributedData.Dsl.Update(FleetCatalogActor.KeyOf(id), Akka.DistributedData.LWWDictionary<string, string>.Empty,
            Akka.DistributedData.WriteLocal.Instance, d => d.Remove(node1, id)));

        var warning = warnings.FishForMessage<Akka.Event.Warning>(w => w.Message.ToString()!.Contains("removed from the fleet catalog by another node"), Wait);
        Assert.Contains("1 of this node's dumps", warning.Message.ToString());
        foreach (var catalog in catalogs)
        {
            await AwaitAssertAsync(async () => Assert.Contains(await ListAsync(catalog), e => e.Id == id), Wait, TimeSpan.FromMilliseconds(200));
        }
    }
}
