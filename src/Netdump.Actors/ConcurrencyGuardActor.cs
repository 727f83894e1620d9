using System.Net;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;

namespace Netdump.Actors;

/// <summary>
/// Counts the dumps being received and refuses a client beyond <c>max_concurrent_dumps</c>
/// (SPEC §4). A session asks for a slot (<see cref="RequestSlot"/>) before its dump directory
/// and <c>netdump-crash</c>; the guard answers <see cref="SlotGranted"/> or
/// <see cref="SlotRefused"/>. The limit is exact because the guard alone grants, one request
/// at a time. Slots are freed by <see cref="ReleaseSlot"/> or when the holder stops (watched).
/// A refusal is logged once per episode: a client refused again within <c>refusal_episode</c>
/// of its last refusal (its HERALD retransmissions) is not logged again.
/// <para>
/// Silent sessions, acked at least <c>silent_grace</c> ago with nothing else received
/// (<see cref="SlotActive"/> not told), are capped at <c>max_silent_sessions</c> and never keep a client that sends data from
/// dumping: when no slot is free and some holder is silent, a request waits in line (one
/// entry per session, so a client's rate of HERALDs buys no place) and the silent holder
/// acked longest ago, once <c>silent_grace</c> has passed since its ack, is asked to
/// <see cref="YieldSlot"/>. It gives its slot up only if still nothing has arrived (the check
/// and the end of its pump are one atomic step), so a real client, whose first data follows
/// its ack at once, keeps its dump. The line moves about <c>max_silent_sessions</c> places per
/// <c>silent_grace</c>, so a flood from more addresses than that in <c>silent_timeout</c>
/// still delays clients (docs/reliability.md: the defence then is <c>secure</c>).
/// </para>
/// The listener is its parent and restarts it when it crashes; after a restart the guard
/// recounts the slots from the live sessions (<see cref="UdpListenerActor.ListSessions"/>,
/// then <see cref="ConfirmSlot"/> to each), holding new requests until the count is known.
/// <para>
/// In a cluster with <c>fleet_max_concurrent_dumps</c> (SPEC §8), a request this node's limit
/// lets in is then put to the fleet guard (<see cref="FleetGuardActor"/>, through its proxy): the
/// slot is held here meanwhile, so the local limit stays exact, and the session is told only
/// once the fleet answers. No answer within <c>fleet_guard_timeout</c>: the node decides alone
/// (granted; logged once until the fleet answers again) and tells the fleet guard to count the
/// dump when it can (<see cref="FleetGuardActor.Adopt"/>): a partition never costs a dump.
/// </para>
/// <para>
/// This file holds the slots (request, grant) and the actor's life; a holder and its release are in
/// <c>ConcurrencyGuardActor.Holders.cs</c>, its messages are
/// in <c>ConcurrencyGuardActor.Messages.cs</c>, the waiting line and refusals in <c>.Line.cs</c>,
/// the recount after a restart in <c>.Recount.cs</c>, the fleet guard's round trip in <c>.Fleet.cs</c>.
/// </para>
/// </summary>
public sealed partial class ConcurrencyGuardActor : UntypedActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>
    /// Most requests waiting in line. Each is a session actor and nothing else (no socket, no
    /// file); beyond this a flood's requests are refused at once.
    /// </summary>
    internal const int MaxWaiting = 256;

    private const string ServeTimer = "serve";
    private const string RefusalSummaryTimer = "refusal-summary";

    private readonly NetdumpSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, Holder> _holders = [];
    private readonly LinkedList<Waiting> _waiting = [];
    private readonly RefusalEpisodes _refusals;
    private readonly HashSet<IActorRef> _unconfirmed = [];
    private IActorRef? _askedToYield;
    private int _publishedSlots;

    // the fleet guard's proxy; null without a fleet limit
    private readonly ActorSelection? _fleet;
    private bool _fleetSilent;

    public ConcurrencyGuardActor(NetdumpSettings settings)
    {
        _settings = settings;
        _refusals = new RefusalEpisodes(settings.RefusalEpisode);
        _metrics = MetricsExtension.For(Context.System);
        _metrics.SlotsMax.Set(settings.MaxConcurrentDumps);
        _fleet = settings.Cluster is { HasFleetLimit: true } ? Context.ActorSelection(FleetGuardActor.ProxyPath) : null;
    }

    private readonly Metrics.NetdumpMetrics _metrics;

    /// <summary>The slots in use, to the metrics after every message (one gauge write).</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        _metrics.SlotsInUse.Set(_holders.Count);
        return handled;
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Holders acked at least <c>silent_grace</c> ago that have sent nothing since. A session
    /// not yet acked, or acked within its grace, is starting, not silent: in a crash storm
    /// every client's HERALD comes at once and each one's first data follows its ack, so
    /// counting them as silent let only <c>max_silent_sessions</c> start at a time, and a storm's
    /// HERALDs waited for their slots in groups (docs/performance.md, "Where a storm's time went").
    /// </summary>
    private int SilentHolders
    {
        get
        {
            var overdue = Environment.TickCount64 - (long)_settings.SilentGrace.TotalMilliseconds;
            return _holders.Values.Count(h => h.Quiet && h.AckedAt <= overdue);
        }
    }

    public static Props Props(NetdumpSettings settings) =>
        ActorProps.Of(() => new ConcurrencyGuardActor(settings));

    /// <summary>
    /// The first state, <c>Ready</c> (<c>Recounting</c> after a restart). Every state is a <c>switch</c>
    /// tried top to bottom (the first case whose type matches wins): a <c>ReceiveActor</c> compiled its
    /// matcher the first time a state handled a message, and every session of a crash storm waited
    /// behind the guard's first request for that.
    /// </summary>
    protected override void OnReceive(object message) => Ready(message);

    private void Ready(object message)
    {
        switch (message)
        {
            case RequestSlot request:
                HandleRequest(request);
                break;
            // everything that frees a slot or makes a holder one that could yield serves the line
            case ReleaseSlot:
                Release(Sender);
                ServeWaiting();
                break;
            case SlotUnusable unusable:
                Release(Sender);
                LogRefusal(unusable.Client, unusable.Reason, "Client {Client}: dump refused: " + unusable.Why.Replace("{", "{{").Replace("}", "}}"));
                ServeWaiting();
                break;
            case SlotAcked:
                // let in: a later refusal starts a new episode (not at the grant: a slot granted but
                // unusable is a refusal of the same episode)
                Update(Sender, h =>
                {
                    _refusals.Forget(h.Client);
                    return h.Stage == Stage.Active ? h : h with { Stage = Stage.Acked, AckedAt = Environment.TickCount64 };
                });
                ServeWaiting();
                break;
            case SlotActive:
                Update(Sender, h => h with { Stage = Stage.Active });
                ServeWaiting();
                break;
            case SlotYielded:
                Release(Sender);
                ServeWaiting();
                break;
            case SlotKept:
                Update(Sender, h => h with { Stage = Stage.Active });
                if (Equals(_askedToYield, Sender))
                {
                    _askedToYield = null;
                }

                ServeWaiting();
                break;
            case Serve:
                ServeWaiting();
                break;
            case RefusalSummary:
                SummarizeRefusals();
                break;
            case Terminated t:
                Release(t.ActorRef);
                ServeWaiting();
                break;
            case GetSlots:
                Sender.Tell(new Slots(_holders.Values.Select(h => h.Client).ToList(), SilentHolders, _waiting.Count));
                break;
            default:
                if (!FleetAnswers(message))
                {
                    Unhandled(message);
                }

                break;
        }
    }

    private void HandleRequest(RequestSlot request)
    {
        if (_holders.TryGetValue(Sender, out var held))
        {
            if (held.Stage != Stage.AskingFleet)
            {
                Sender.Tell(SlotGranted.Instance);
            }

            return;
        }

        if (_waiting.Any(w => w.Session.Equals(Sender)))
        {
            return; // asked again after a recount: already in line again
        }

        if (request.Supersedes is { } replaced && _holders.TryGetValue(replaced, out var old))
        {
            // a second panic of a client that is dumping: the new dump inherits the old one's slot
            Release(replaced);
            _holders[Sender] = new Holder(request.Client, Stage.Granted, Inherited: (replaced, old));
            Context.Watch(Sender);
            _fleet?.Tell(new FleetGuardActor.Adopt(Sender));
            PublishSlotsInUse();
            Sender.Tell(SlotGranted.Instance);
            return;
        }

        if (_waiting.Count == 0 && Free())
        {
            Grant(Sender, request.Client);
        }
        else if (_waiting.Count < MaxWaiting && (_waiting.Count > 0 || _holders.Values.Any(h => h.Quiet)))
        {
            // a silent holder may yield: the request waits its turn; the waiting session watched,
            // so a session that stops while it waits leaves the line
            Context.Watch(Sender);
            _waiting.AddLast(new Waiting(Sender, request.Client, Environment.TickCount64));
            ServeWaiting();
        }
        else
        {
            Refuse(Sender, request.Client);
        }
    }

    /// <summary>Is there a slot for one more silent session (every new one starts silent)?</summary>
    private bool Free() => _holders.Count < _settings.MaxConcurrentDumps && SilentHolders < _settings.MaxSilentSessions;

    private void Update(IActorRef session, Func<Holder, Holder> change)
    {
        if (_holders.TryGetValue(session, out var holder))
        {
            _holders[session] = change(holder);
        }
    }

    private void Grant(IActorRef session, IPAddress client)
    {
        _holders[session] = new Holder(client, _fleet is null ? Stage.Granted : Stage.AskingFleet);
        Context.Watch(session);
        PublishSlotsInUse();
        if (_fleet is null)
        {
            session.Tell(SlotGranted.Instance);
        }
        else
        {
            AskFleet(session);
        }
    }

    /// <summary>
    /// Tells the event stream how many dumps are being received, when that changes: background
    /// disk work (<see cref="StorageCareActor"/>) steps aside while any is.
    /// </summary>
    private void PublishSlotsInUse()
    {
        if (_holders.Count != _publishedSlots)
        {
            _publishedSlots = _holders.Count;
            Context.System.EventStream.Publish(new SlotsInUse(_publishedSlots));
        }
    }
}
