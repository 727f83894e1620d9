using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;

namespace Netdump.Actors;

/// <summary>
/// Owns the listen socket (addr:port, default 0.0.0.0:20023) through a <see cref="HeraldReceiver"/>
/// and routes HERALDs by client IP: a new client gets a <see cref="ClientSessionActor"/> child, a
/// retransmitted HERALD goes to the client's receiving session, which decides whether it is a
/// retransmission or a new dump (then it asks for <see cref="Supersede"/>). A session that
/// finished receiving (<see cref="ReceivingEnded"/>) keeps lingering but no longer gets HERALDs.
/// Answers <see cref="GetListenEndpoint"/> with <see cref="ListenEndpoint"/> or <see cref="BindFailed"/>.
/// </summary>
public sealed class UdpListenerActor : ReceiveActor
{
    private readonly NetdumpSettings _settings;
    private readonly SessionPropsFactory _sessions;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IPAddress, IActorRef> _receiving = [];
    private HeraldReceiver? _receiver;
    private string? _bindError;
    private long _sessionCount;

    public UdpListenerActor(NetdumpSettings settings, SessionPropsFactory sessions)
    {
        _settings = settings;
        _sessions = sessions;
        Receive<GetListenEndpoint>(_ => Sender.Tell(_receiver is null
            ? new BindFailed(_bindError ?? "not bound")
            : new ListenEndpoint(_receiver.LocalEndpoint)));
        Receive<Herald>(HandleHerald);
        Receive<Supersede>(HandleSupersede);
        Receive<ReceivingEnded>(ended => Forget(ended.Client, Sender));
        Receive<HeraldReceiver.Dropped>(d => _log.Warning("Dropped a datagram from {From} on the listen port: {Reason}", d.From, d.Reason));
        Receive<Terminated>(t =>
        {
            foreach (var (client, session) in _receiving.Where(kv => kv.Value.Equals(t.ActorRef)).ToList())
            {
                Forget(client, session);
            }
        });
    }

    /// <summary>Makes the props of a session for a HERALD, and the session it supersedes, if any.</summary>
    public delegate Props SessionPropsFactory(Herald herald, IActorRef? supersedes);

    public sealed class GetListenEndpoint
    {
        public static readonly GetListenEndpoint Instance = new();
        private GetListenEndpoint() { }
    }

    public sealed record ListenEndpoint(IPEndPoint Endpoint);

    public sealed record BindFailed(string Reason);

    /// <summary>From a session: its client sent a new HERALD while this dump was receiving.</summary>
    public sealed record Supersede(Herald Herald);

    /// <summary>From a session: it no longer receives (finished, failed or timed out).</summary>
    public sealed record ReceivingEnded(IPAddress Client);

    public static Props Props(NetdumpSettings settings, SessionPropsFactory sessions) =>
        Akka.Actor.Props.Create(() => new UdpListenerActor(settings, sessions));

    /// <summary>The production wiring: real session sockets and writers.</summary>
    public static Props Props(NetdumpSettings settings) =>
        Props(settings, (herald, supersedes) => ClientSessionActor.Props(settings, herald, UdpSessionChannel.Factory, supersedes: supersedes));

    /// <summary>A session that throws is stopped, never restarted with a stale HERALD; the others carry on.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        try
        {
            _receiver = HeraldReceiver.Bind(_settings.Address, _settings.Port);
            _receiver.Start(Self);
            _log.Info("Listening for netdump HERALDs on {Endpoint}, dumps go to {DumpDir}", _receiver.LocalEndpoint, _settings.DumpDirectory);
        }
        catch (SocketException e)
        {
            _bindError = $"cannot bind {_settings.Address}:{_settings.Port}: {e.Message}";
            _log.Error("{Error}", _bindError);
        }
    }

    protected override void PostStop() => _receiver?.Dispose();

    private void HandleHerald(Herald herald)
    {
        if (_receiving.TryGetValue(herald.Client.Address, out var session))
        {
            session.Tell(herald);
            return;
        }

        _log.Info("Client {Client}: HERALD {Seq} to {Local}, path \"{Path}\"", herald.Client, herald.Sequence, herald.LocalAddress, herald.RequestedPath);
        Spawn(herald, supersedes: null);
    }

    private void HandleSupersede(Supersede supersede)
    {
        var client = supersede.Herald.Client.Address;
        if (_receiving.TryGetValue(client, out var current) && current.Equals(Sender))
        {
            _log.Info("Client {Client}: new HERALD while a dump is receiving: starting a new dump", client);
            Spawn(supersede.Herald, Sender);
        }
    }

    private void Spawn(Herald herald, IActorRef? supersedes)
    {
        var name = $"session-{herald.Client.Address}-{++_sessionCount}";
        var session = Context.ActorOf(_sessions(herald, supersedes), name);
        Context.Watch(session);
        _receiving[herald.Client.Address] = session;
    }

    private void Forget(IPAddress client, IActorRef session)
    {
        if (_receiving.TryGetValue(client, out var current) && current.Equals(session))
        {
            _receiving.Remove(client);
        }
    }
}
