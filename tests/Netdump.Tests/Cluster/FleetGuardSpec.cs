using System.Net;
using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using static Netdump.Actors.ConcurrencyGuardActor;

namespace Netdump.Tests.Cluster;

/// <summary>
/// The fleet-wide limit (SPEC §8) across three in-process nodes on loopback: exact while the
/// fleet guard answers, handed over without a leaked or double-counted slot, and never costing
/// a dump when the guard's node is gone. Sessions are probes on each node's own actor system,
/// so their refs travel between nodes as a real session's do.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class FleetGuardSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly List<FleetNode> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private async Task StartFleetAsync(int fleetLimit, TimeSpan guardTimeout)
    {
        var keys = new Dictionary<string, object?>
        {
            ["max_concurrent_dumps"] = 4,
            ["fleet_max_concurrent_dumps"] = fleetLimit,
            ["fleet_guard_timeout"] = $"{(int)guardTimeout.TotalMilliseconds}ms",
        };
        var ports = Enumerable.Range(1, 3).Select(i => FleetNode.FreePort(IPAddress.Parse($"127.0.0.{10 + i}"))).ToArray();
        var seed = FleetNode.Seed(1, ports[0]);
        _nodes.Add(await FleetNode.StartAsync(1, seed, ports[0], keys));
        await AwaitMembersAsync(1);
        for (var i = 2; i <= 3; i++)
        {
            _nodes.Add(await FleetNode.StartAsync(i, seed, ports[i - 1], keys));
        }

        await AwaitMembersAsync(3);
        foreach (var node in _nodes)
        {
            // every proxy has found the singleton
            await AwaitProxyAsync(node);
        }

        // and its recount is over
        await AwaitCountAsync(0);
    }

    /// <summary>Waits until <paramref name="node"/>'s proxy reaches the fleet guard: an <c>Acquire</c> answered (and a granted slot given back).</summary>
    private async Task AwaitProxyAsync(FleetNode node)
    {
        var session = Session(node);
        var answer = await node.FleetGuard.Ask(new FleetGuardActor.Acquire(session.Ref), Wait);
        if (answer is FleetGuardActor.Granted)
        {
            node.FleetGuard.Tell(new FleetGuardActor.Release(session.Ref));
        }
    }

    private async Task AwaitMembersAsync(int count) => await AwaitConditionAsync(() => Task.FromResult(_nodes.All(n =>
        Akka.Cluster.Cluster.Get(n.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == count)), Wait, TimeSpan.FromMilliseconds(100));

    /// <summary>The node that hosts the fleet guard shows its count (netdump_fleet_slots*), the others 0.</summary>
    private async Task AwaitCountAsync(int slots) => await AwaitAssertAsync(() =>
    {
        var alive = _nodes.Where(n => !n.System.WhenTerminated.IsCompleted).ToList();
        var host = Assert.Single(alive, n => MetricsExtension.For(n.System).FleetSlotsMax.Value > 0);
        Assert.Equal(slots, MetricsExtension.For(host.System).FleetSlotsInUse.Value);
        Assert.All(alive.Where(n => n != host), n => Assert.Equal(0, MetricsExtension.For(n.System).FleetSlotsInUse.Value));
    }, Wait, TimeSpan.FromMilliseconds(200));

    private TestProbe Session(FleetNode node) => CreateTestProbe(node.System);

    private static void Ask(FleetNode node, TestProbe session, int client) =>
        node.Guard.Tell(new RequestSlot(IPAddress.Parse($"192.0.2.{client}")), session.Ref);

    [Fact]
    public async Task The_fleet_guards_recount_ends_once_every_node_has_reported_its_own_included()
    {
        // a fleet_guard_timeout far beyond this test's wait: a recount that waited for a node's
        // report that never counts (its own node's, from a local actor) would end only at it,
        // holding every HERALD of the fleet that long
        await StartFleetAsync(fleetLimit: 3, TimeSpan.FromMinutes(5));

        await AwaitAssertAsync(() =>
        {
            var host = Assert.Single(_nodes, n => MetricsExtension.For(n.System).FleetSlotsMax.Value == 3);
            Assert.Equal(0, MetricsExtension.For(host.System).FleetRecounting.Value);
        }, Wait, TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Fleet_limit_should_hold_exactly_across_three_nodes()
    {
        await StartFleetAsync(fleetLimit: 3, TimeSpan.FromSeconds(10));
        var sessions = new List<(FleetNode Node, TestProbe Probe)>();
        var client = 1;
        for (var round = 0; round < 3; round++)
        {
            foreach (var node in _nodes)
            {
                var probe = Session(node);
                Ask(node, probe, client++);
                sessions.Add((node, probe));
            }
        }

        var granted = new List<(FleetNode Node, TestProbe Probe)>();
        foreach (var (node, probe) in sessions)
        {
            var answer = await probe.ExpectMsgAsync<object>(Wait);
            if (answer is SlotGranted)
            {
                granted.Add((node, probe));
            }
            else
            {
                Assert.IsType<SlotRefused>(answer);
            }
        }

        Assert.Equal(3, granted.Count);
        await AwaitCountAsync(3);

        // one dump ends: exactly one more may start, on any node
        _nodes.Find(n => n == granted[0].Node)!.Guard.Tell(ReleaseSlot.Instance, granted[0].Probe.Ref);
        // the release reaches the fleet guard from its node, the next request from another: nothing
        // orders the two, so the next one asks once the fleet guard has counted the release
        await AwaitCountAsync(2);
        var next = Session(_nodes[2]);
        Ask(_nodes[2], next, 200);
        await next.ExpectMsgAsync<SlotGranted>(Wait);
        var refused = Session(_nodes[0]);
        Ask(_nodes[0], refused, 201);
        await refused.ExpectMsgAsync<SlotRefused>(Wait);
        await AwaitCountAsync(3);
    }

    [Fact]
    public async Task Fleet_guard_should_hand_over_without_a_leaked_or_double_counted_slot()
    {
        await StartFleetAsync(fleetLimit: 3, TimeSpan.FromSeconds(10));
        var probes = new List<TestProbe>();
        for (var i = 0; i < 3; i++)
        {
            var probe = Session(_nodes[i]);
            Ask(_nodes[i], probe, i + 1);
            await probe.ExpectMsgAsync<SlotGranted>(Wait);
            probes.Add(probe);
        }

        // the singleton's node (the oldest: node1) leaves mid-run with its dump
        await _nodes[0].LeaveAsync();
        _nodes[0].System.Stop(probes[0].Ref);

        // the new singleton recounted from the nodes: two dumps, not three, not four
        await AwaitCountAsync(2);
        await AwaitProxyAsync(_nodes[1]);
        await AwaitProxyAsync(_nodes[2]);
        await AwaitCountAsync(2);
        var third = Session(_nodes[1]);
        Ask(_nodes[1], third, 10);
        await third.ExpectMsgAsync<SlotGranted>(Wait);
        var fourth = Session(_nodes[2]);
        Ask(_nodes[2], fourth, 11);
        await fourth.ExpectMsgAsync<SlotRefused>(Wait);
    }

    [Fact]
    public async Task Nodes_should_decide_alone_within_the_timeout_when_the_guard_node_is_unreachable_and_keep_taking_dumps()
    {
        var timeout = TimeSpan.FromMilliseconds(800);
        await StartFleetAsync(fleetLimit: 2, timeout);
        var first = Session(_nodes[1]);
        Ask(_nodes[1], first, 1);
        await first.ExpectMsgAsync<SlotGranted>(Wait);

        // the singleton's node crashes: it never leaves, the others only stop hearing it
        await _nodes[0].CrashAsync();

        // each node's own limit (4) now decides: three more dumps although the fleet's limit is 2
        var taken = new List<TestProbe>();
        for (var i = 0; i < 3; i++)
        {
            var node = _nodes[1 + (i % 2)];
            var probe = Session(node);
            Ask(node, probe, 20 + i);
            await probe.ExpectMsgAsync<SlotGranted>(Wait);
            taken.Add(probe);
        }

        // once the crashed node is downed (keep-majority: two of three) the guard moves and
        // counts what the nodes took alone
        await AwaitCountAsync(4);
        // and the node that asks next reaches it too: its proxy finds the moved guard on its own
        // time, and a request before that is decided alone (it failed once so in a full run)
        await AwaitProxyAsync(_nodes[2]);
        await AwaitCountAsync(4);
        var refused = Session(_nodes[2]);
        Ask(_nodes[2], refused, 40);
        await refused.ExpectMsgAsync<SlotRefused>(Wait);
    }
}
