using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>
/// Holds <c>fleet_max_concurrent_dumps</c> for a cluster of collectors (SPEC §8): one instance,
/// a cluster singleton on the oldest node, reached through a proxy on every node
/// (<see cref="ProxyPath"/>). A node's <see cref="ConcurrencyGuardActor"/> applies its own limit
/// first, then sends <see cref="Acquire"/> for the session it would let in; the fleet guard
/// answers <see cref="Granted"/> or <see cref="Refused"/>, one request at a time, so the limit is
/// exact while it answers. A node that decided alone (no answer in time) tells it
/// <see cref="Adopt"/>: that dump is counted whatever the limit, since it is receiving.
/// <see cref="Release"/> frees a slot; so do the session's end (watched across the network) and
/// its node's removal from the cluster (left or downed).
/// <para>
/// A new instance (the first, or after a hand-over) recounts before it answers: it asks every
/// member's local guard (<see cref="ReportSlots"/>) for the sessions holding slots and stashes
/// requests until each has answered or <c>fleet_guard_timeout</c> has passed (a node that had
/// not answered reports its dumps by <see cref="Adopt"/> or ends them by their sessions' end).
/// </para>
/// </summary>
public sealed class FleetGuardActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>The singleton manager's name under <c>/user</c>.</summary>
    public const string ManagerName = "fleet-guard";

    /// <summary>Where each node's proxy to the singleton lives.</summary>
    public const string ProxyPath = "/user/fleet-guard-proxy";

    private const string RecountTimer = "recount";

    private readonly int _limit;
    private readonly string _guardPath;
    private readonly TimeSpan _recountTimeout;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, Address> _slots = [];
    private readonly HashSet<Address> _unanswered = [];
    private readonly Metrics.NetdumpMetrics _metrics = MetricsExtension.For(Context.System);

    public FleetGuardActor(int limit, string guardPath, TimeSpan recountTimeout)
    {
        _limit = limit;
        _guardPath = guardPath;
        _recountTimeout = recountTimeout;
        _metrics.FleetSlotsMax.Set(limit);
        _metrics.FleetSlotsInUse.Set(0);
        _metrics.FleetRecounting.Set(1);
        Recounting();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>From a node's guard: may <paramref name="Session"/> take a slot of the fleet? Answered to the sender.</summary>
    public sealed record Acquire(IActorRef Session);

    /// <summary>From a node's guard: <paramref name="Session"/> took a slot without the fleet's answer; count it.</summary>
    public sealed record Adopt(IActorRef Session);

    /// <summary>From a node's guard: <paramref name="Session"/>'s dump stopped receiving.</summary>
    public sealed record Release(IActorRef Session);

    public sealed record Granted(IActorRef Session);

    /// <summary>The fleet is full: <paramref name="Limit"/> dumps are being received.</summary>
    public sealed record Refused(IActorRef Session, int Limit);

    /// <summary>To a node's guard: answer <see cref="SlotsReport"/> with the sessions holding its slots.</summary>
    public sealed record ReportSlots;

    public sealed record SlotsReport(IReadOnlyList<IActorRef> Sessions);

    private sealed record RecountOver;

    public static Props Props(int limit, string guardPath, TimeSpan recountTimeout) =>
        ActorProps.Of(() => new FleetGuardActor(limit, guardPath, recountTimeout));

    protected override void PreStart()
    {
        var cluster = Cluster.Get(Context.System);
        cluster.Subscribe(Self, ClusterEvent.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
        foreach (var member in cluster.State.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving))
        {
            if (!cluster.State.Unreachable.Contains(member))
            {
                _unanswered.Add(member.Address);
                Context.ActorSelection(new RootActorPath(member.Address) / _guardPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
                    .Tell(new ReportSlots());
            }
        }

        Timers.StartSingleTimer(RecountTimer, new RecountOver(), _recountTimeout);
        FinishRecountIfDone();
    }

    protected override void PostStop()
    {
        Cluster.Get(Context.System).Unsubscribe(Self);

        // handed over (or the node stops): the fleet's count is the next host's to show
        _metrics.FleetSlotsInUse.Set(0);
        _metrics.FleetSlotsMax.Set(0);
        _metrics.FleetRecounting.Set(0);
    }

    private void Recounting()
    {
        Receive<SlotsReport>(report =>
        {
            foreach (var session in report.Sessions)
            {
                Hold(session);
            }

            // this node's guard answers as a local actor, whose address has no host: it is this node
            _unanswered.Remove(NodeOf(Sender));
            FinishRecountIfDone();
        });
        Receive<RecountOver>(_ =>
        {
            _log.Warning("Fleet guard: {Count} nodes did not report their slots within {Timeout}; counting {Slots} slots without them",
                _unanswered.Count, _recountTimeout, _slots.Count);
            _unanswered.Clear();
            FinishRecountIfDone();
        });
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            NodeLeft(removed);
            FinishRecountIfDone(); // it will not report now
        });
        Common();
        ReceiveAny(_ => Stash.Stash());
    }

    private void FinishRecountIfDone()
    {
        if (_unanswered.Count > 0)
        {
            return;
        }

        Timers.Cancel(RecountTimer);
        _log.Info("Fleet guard on {Node}: {Slots} dumps in progress in the fleet (limit {Limit})",
            Cluster.Get(Context.System).SelfAddress, _slots.Count, _limit);
        _metrics.FleetRecounting.Set(0);
        Become(Ready);
        Stash.UnstashAll();
    }

    private void Ready()
    {
        Receive<Acquire>(acquire =>
        {
            if (_slots.ContainsKey(acquire.Session) || _slots.Count < _limit)
            {
                Hold(acquire.Session);
                Sender.Tell(new Granted(acquire.Session));
            }
            else
            {
                Sender.Tell(new Refused(acquire.Session, _limit));
            }
        });
        Receive<SlotsReport>(report =>
        {
            // a late report of the recount: its sessions may hold slots still
            foreach (var session in report.Sessions)
            {
                Hold(session);
            }
        });
        Receive<RecountOver>(_ => { });
        Receive<ClusterEvent.MemberRemoved>(NodeLeft);
        Common();
    }

    /// <summary>What frees or adds a slot, in either state.</summary>
    private void Common()
    {
        Receive<Adopt>(adopt => Hold(adopt.Session));
        Receive<Release>(release => Free(release.Session));
        Receive<Terminated>(t => Free(t.ActorRef));
    }

    /// <summary>A node left the cluster: its slots are free, and it is not waited for.</summary>
    private void NodeLeft(ClusterEvent.MemberRemoved removed)
    {
        _unanswered.Remove(removed.Member.Address);
        var gone = _slots.Where(s => s.Value == removed.Member.Address).Select(s => s.Key).ToList();
        foreach (var session in gone)
        {
            Free(session);
        }

        if (gone.Count > 0)
        {
            _log.Warning("Fleet guard: node {Node} left the cluster ({Status}); its {Count} slots are free",
                removed.Member.Address, removed.PreviousStatus, gone.Count);
        }
    }

    private void Hold(IActorRef session)
    {
        if (_slots.TryAdd(session, NodeOf(session)))
        {
            // a session on a node that is gone, or that has ended, is freed at once by the watch
            Context.Watch(session);
            _metrics.FleetSlotsInUse.Set(_slots.Count);
        }
    }

    /// <summary>The cluster address of the node <paramref name="actor"/> lives on (a local ref's address has no host).</summary>
    private Address NodeOf(IActorRef actor) =>
        actor.Path.Address.HasGlobalScope ? actor.Path.Address : Cluster.Get(Context.System).SelfAddress;

    private void Free(IActorRef session)
    {
        if (_slots.Remove(session))
        {
            Context.Unwatch(session);
            _metrics.FleetSlotsInUse.Set(_slots.Count);
        }
    }
}
