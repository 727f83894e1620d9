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
/// Slots of sessions that were acked but have sent no data yet (<see cref="SlotActive"/> not
/// received) are also capped at <c>max_silent_sessions</c>, so a flood of HERALDs cannot hold
/// every slot, socket and thread with sessions that will never send anything.
/// The listener is its parent and restarts it when it crashes; after a restart the guard
/// recounts the slots from the live sessions (<see cref="UdpListenerActor.ListSessions"/>,
/// then <see cref="ConfirmSlot"/> to each), holding new requests until the count is known.
/// </summary>
public sealed class ConcurrencyGuardActor : ReceiveActor, IWithUnboundedStash
{
    private readonly NetdumpSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, Holder> _holders = [];
    private readonly RefusalEpisodes _refusals;
    private readonly HashSet<IActorRef> _unconfirmed = [];

    public ConcurrencyGuardActor(NetdumpSettings settings)
    {
        _settings = settings;
        _refusals = new RefusalEpisodes(settings.RefusalEpisode);
        Ready();
    }

    public IStash Stash { get; set; } = null!;

    private sealed record Holder(IPAddress Client, bool Active);

    private int SilentHolders => _holders.Values.Count(h => !h.Active);

    /// <summary>
    /// From a session: may its client dump? Answered with <see cref="SlotGranted"/> or
    /// <see cref="SlotRefused"/>. A session that supersedes another takes over its slot.
    /// </summary>
    public sealed record RequestSlot(IPAddress Client, IActorRef? Supersedes = null);

    public sealed class SlotGranted
    {
        public static readonly SlotGranted Instance = new();
        private SlotGranted() { }
    }

    public sealed class SlotRefused
    {
        public static readonly SlotRefused Instance = new();
        private SlotRefused() { }
    }

    /// <summary>From a session holding a slot: its client sent something besides the HERALD.</summary>
    public sealed class SlotActive
    {
        public static readonly SlotActive Instance = new();
        private SlotActive() { }
    }

    /// <summary>From a session: its dump stopped receiving (a lingering session holds no slot).</summary>
    public sealed class ReleaseSlot
    {
        public static readonly ReleaseSlot Instance = new();
        private ReleaseSlot() { }
    }

    /// <summary>To a session during a recount: answer <see cref="SlotHeld"/> or <see cref="NoSlot"/>.</summary>
    public sealed class ConfirmSlot
    {
        public static readonly ConfirmSlot Instance = new();
        private ConfirmSlot() { }
    }

    public sealed record SlotHeld(IPAddress Client, bool Active);

    public sealed class NoSlot
    {
        public static readonly NoSlot Instance = new();
        private NoSlot() { }
    }

    /// <summary>Asks for the clients holding slots, answered with <see cref="Slots"/>.</summary>
    public sealed class GetSlots
    {
        public static readonly GetSlots Instance = new();
        private GetSlots() { }
    }

    public sealed record Slots(IReadOnlyList<IPAddress> Clients, int Silent);

    public static Props Props(NetdumpSettings settings) =>
        Akka.Actor.Props.Create<ConcurrencyGuardActor>(settings);

    protected override void PostRestart(Exception reason)
    {
        _log.Warning("Concurrency guard restarted after {Error}; recounting slots from the live sessions", reason.Message);
        Become(Recounting);
        Context.Parent.Tell(UdpListenerActor.ListSessions.Instance);
    }

    private void Ready()
    {
        Receive<RequestSlot>(HandleRequest);
        Receive<ReleaseSlot>(_ => Release(Sender));
        Receive<SlotActive>(_ => MarkActive(Sender));
        Receive<Terminated>(t => Release(t.ActorRef));
        Receive<GetSlots>(_ => Sender.Tell(new Slots(_holders.Values.Select(h => h.Client).ToList(), SilentHolders)));
    }

    private void Recounting()
    {
        Receive<UdpListenerActor.Sessions>(sessions =>
        {
            foreach (var session in sessions.Refs)
            {
                _unconfirmed.Add(session);
                Context.Watch(session);
                session.Tell(ConfirmSlot.Instance);
            }

            FinishRecountIfDone();
        });
        Receive<SlotHeld>(held =>
        {
            if (_unconfirmed.Remove(Sender))
            {
                _holders[Sender] = new Holder(held.Client, held.Active);
            }

            FinishRecountIfDone();
        });
        Receive<NoSlot>(_ =>
        {
            if (_unconfirmed.Remove(Sender))
            {
                Context.Unwatch(Sender);
            }

            FinishRecountIfDone();
        });
        Receive<ReleaseSlot>(_ => Release(Sender));
        Receive<SlotActive>(_ => MarkActive(Sender));
        Receive<Terminated>(t =>
        {
            _unconfirmed.Remove(t.ActorRef);
            Release(t.ActorRef);
            FinishRecountIfDone();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void FinishRecountIfDone()
    {
        if (_unconfirmed.Count > 0)
        {
            return;
        }

        _log.Info("Concurrency guard recounted {Count} dumps in progress", _holders.Count);
        Become(Ready);
        Stash.UnstashAll();
    }

    private void HandleRequest(RequestSlot request)
    {
        if (_holders.ContainsKey(Sender))
        {
            Sender.Tell(SlotGranted.Instance);
            return;
        }

        if (request.Supersedes is { } replaced && _holders.ContainsKey(replaced))
        {
            // a second panic of a client that is dumping: the new dump inherits the old one's slot
            Release(replaced);
            Grant(request.Client);
            return;
        }

        if (_holders.Count >= _settings.MaxConcurrentDumps)
        {
            Refuse(request.Client, "Too many concurrent netdumps, ignoring dump from {Client}");
        }
        else if (SilentHolders >= _settings.MaxSilentSessions)
        {
            Refuse(request.Client, "Too many sessions that sent nothing after their HERALD, ignoring dump from {Client}");
        }
        else
        {
            Grant(request.Client);
        }
    }

    private void Refuse(IPAddress client, string template)
    {
        if (_refusals.Refuse(client))
        {
            _log.Warning(template, client);
            if (_refusals.TakeSuppressed() is > 0 and var more)
            {
                _log.Warning("{Count} more clients were refused without a log line of their own (flood)", more);
            }
        }

        Sender.Tell(SlotRefused.Instance);
    }

    private void MarkActive(IActorRef session)
    {
        if (_holders.TryGetValue(session, out var holder))
        {
            _holders[session] = holder with { Active = true };
        }
    }

    private void Grant(IPAddress client)
    {
        _holders[Sender] = new Holder(client, Active: false);
        _refusals.Forget(client);
        Context.Watch(Sender);
        Sender.Tell(SlotGranted.Instance);
    }

    private void Release(IActorRef session)
    {
        if (_holders.Remove(session))
        {
            Context.Unwatch(session);
        }
    }
}
