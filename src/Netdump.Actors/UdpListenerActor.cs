using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Ingest.Linux;
using Netdump.Actors.Native;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// Owns the listen socket (addr:port, default 0.0.0.0:20023) through a <see cref="HeraldReceiver"/>
/// and routes HERALDs by client IP: a new client gets a <see cref="ClientSessionActor"/> child, a
/// retransmitted HERALD goes to the client's receiving session, which decides whether it is a
/// retransmission or a new dump (then it asks for <see cref="Supersede"/>). A session that
/// finished receiving (<see cref="ReceivingEnded"/>) keeps lingering but no longer gets HERALDs.
/// Before a session exists, the client must be known (<c>secure</c>, <see cref="KnownClients"/>):
/// an unknown client is logged once per episode and gets silence. The listener owns the
/// <see cref="ConcurrencyGuardActor"/> child, which the sessions ask for a slot; it restarts the
/// guard when it crashes and stops a session that crashes.
/// Answers <see cref="GetListenEndpoint"/> with <see cref="ListenEndpoint"/> or <see cref="BindFailed"/>,
/// <see cref="ListSessions"/> with <see cref="Sessions"/>, and <see cref="Drain"/> with
/// <see cref="Drained"/> once every session has closed (server shutdown).
/// <para>
/// This file holds the listener itself: its sockets, pumps and children, binding and stopping.
/// How a HERALD finds its session (or makes one) is in <c>UdpListenerActor.Routing.cs</c>; the
/// Linux clients refused (rebooted, their console text kept) and <c>netdump-start</c> in
/// <c>.Linux.cs</c>; the drain at server shutdown in <c>.Drain.cs</c>.
/// </para>
/// </summary>
public sealed partial class UdpListenerActor : UntypedActor, IWithTimers
{
    private readonly NetdumpSettings _settings;
    private readonly SessionPropsFactory _sessions;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IPAddress, IActorRef> _receiving = [];

    public ITimerScheduler Timers { get; set; } = null!;
    private readonly KnownClients _known;
    private readonly RefusalEpisodes _unknownRefusals;
    private readonly IActorRef _guard;
    private readonly EpollPumps? _pumps;
    private readonly PumpThreads? _pumpThreads;
    private readonly EpollPump? _lingerPump;
    private readonly SessionChannelFactory _channels;
    private readonly DiskSpace _space;
    private HeraldReceiver? _receiver;
    private LinuxPort? _linux;
    private IActorRef _startScripts = ActorRefs.Nobody;
    private readonly AddressClock _startScriptsRun = new(StartScriptInterval);
    private readonly AddressClock _refusedReboots = new(RebootRefusedEvery);
    private readonly RefusalEpisodes _linuxRefusals;
    private int _refusedKept;
    private string? _bindError;
    private long _sessionCount;
    private readonly Metrics.NetdumpMetrics _metrics;
    private readonly PacketMeter _meter;

    public UdpListenerActor(NetdumpSettings settings, SessionPropsFactory sessions)
    {
        _settings = settings;
        _sessions = sessions;
        _known = new KnownClients(settings);
        _unknownRefusals = new RefusalEpisodes(settings.RefusalEpisode);
        _linuxRefusals = new RefusalEpisodes(settings.RefusalEpisode);
        _guard = Context.ActorOf(ConcurrencyGuardActor.Props(settings), GuardName);
        _pumps = settings.IngestEngine != IngestEngine.Managed && BatchedReceiveEngine.Supported ? new EpollPumps(EpollPumps.PerCore) : null;
        if (settings.IngestEngine == IngestEngine.Batched && BatchedReceiveEngine.Supported)
        {
            _pumpThreads = new PumpThreads(IdlePumpThreadsKept(settings), IdlePumpThreadLifetime);
            _lingerPump = new EpollPump();
        }

        _space = new DiskSpace(settings.DumpDirectory, settings.MinFreeSpace);
        _metrics = MetricsExtension.For(Context.System);
        _meter = PacketMeter.Of(_metrics);
        _channels = UdpSessionChannel.FactoryFor(settings.IngestEngine, new SessionPorts(settings.SessionPorts), _pumps, _pumpThreads, _lingerPump, _meter);
    }

    /// <summary>
    /// The listener's one state: a <c>switch</c> tried top to bottom (the first case whose type
    /// matches wins), where a <c>ReceiveActor</c> compiled its matcher at the first HERALD of a
    /// fresh server, a cost every dump of a crash storm met on its way in.
    /// </summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case GetListenEndpoint:
                Sender.Tell(_receiver is null
                    ? new BindFailed(_bindError ?? "not bound")
                    : new ListenEndpoint(_receiver.LocalEndpoint));
                break;
            case Herald herald:
                HandleHerald(herald);
                break;
            case Supersede supersede:
                HandleSupersede(supersede);
                break;
            case ReceivingEnded ended:
                Forget(ended.Client, Sender);
                break;
            case StillReceiving still:
                HandleStillReceiving(still);
                break;
            case HeraldReceiver.Dropped d:
                _log.Warning("Dropped a datagram from {From} on the listen port: {Reason}", d.From, d.Reason);
                break;
            case LinuxPort.Dropped d:
                _log.Warning("Dropped a datagram from {From} on the Linux port: {Reason}", d.From, d.Reason);
                break;
            case LinuxPort.ConsoleStarted started:
                RunStartScript(started.Client);
                break;
            case LinuxRefused refused:
                KeepRefused(refused.Herald);
                break;
            case RefusalSummary:
                SummarizeRefusals();
                break;
            case RefusedNotKept notKept:
                ReportRefusedNotKept(notKept);
                break;
            case RefusedKept kept:
                ReportRefusedKept(kept);
                break;
            case ScriptResult:
                break; // netdump-start's outcome: the runner logged it
            case ListSessions:
                Sender.Tell(new Sessions(SessionChildren().ToList()));
                break;
            case Drain:
                StartDrain();
                break;
            case Terminated t:
                SessionStopped(t.ActorRef);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    public const string GuardName = "concurrency-guard";

    /// <summary>The guard's path on every node, where the fleet guard asks for the slots.</summary>
    public const string GuardPath = "/user/listener/" + GuardName;

    /// <summary>
    /// How many pump threads wait for the next dumps (batched engine): one per concurrent dump,
    /// up to 8. A waiting thread holds its receive engine: the pages its datagrams touched
    /// (256 KiB at MTU 1500, at most 4 MiB). Threads beyond that exit when their dump ends.
    /// </summary>
    internal static int IdlePumpThreadsKept(NetdumpSettings settings) => Math.Clamp(settings.MaxConcurrentDumps, 1, 8);

    /// <summary>A pump thread with no dump for this long exits.</summary>
    internal static readonly TimeSpan IdlePumpThreadLifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Makes the props of a session for a HERALD, given the guard, the session it supersedes (if
    /// any), the session sockets' factory and the room all dumps share.
    /// </summary>
    public delegate Props SessionPropsFactory(Herald herald, IActorRef guard, IActorRef? supersedes, SessionChannelFactory channels, DiskSpace space);

    public sealed class GetListenEndpoint
    {
        public static readonly GetListenEndpoint Instance = new();
        private GetListenEndpoint() { }
    }

    /// <summary>Where HERALDs are heard.</summary>
    public sealed record ListenEndpoint(IPEndPoint Endpoint);

    public sealed record BindFailed(string Reason);

    /// <summary>From the guard after a restart: which sessions are alive? Answered with <see cref="Sessions"/>.</summary>
    public sealed class ListSessions
    {
        public static readonly ListSessions Instance = new();
        private ListSessions() { }
    }

    public sealed record Sessions(IReadOnlyList<IActorRef> Refs);

    public static Props Props(NetdumpSettings settings, SessionPropsFactory sessions) =>
        ActorProps.Of(() => new UdpListenerActor(settings, sessions));

    /// <summary>The production wiring: real session sockets and writers.</summary>
    public static Props Props(NetdumpSettings settings) =>
        Props(settings, (herald, guard, supersedes, channels, space) =>
            ClientSessionActor.Props(settings, herald, guard, channels, space, supersedes: supersedes));

    protected override SupervisorStrategy SupervisorStrategy() => new ListenerSupervision(_guard);

    /// <summary>
    /// A session that throws is stopped, never restarted with a stale HERALD, and the others carry
    /// on; the guard is restarted and recounts its slots from the live sessions.
    /// </summary>
    private sealed class ListenerSupervision(IActorRef guard) : OneForOneStrategy(_ => Directive.Stop)
    {
        protected override Directive Handle(IActorRef child, Exception exception) =>
            child.Equals(guard) ? Directive.Restart : Directive.Stop;
    }

    protected override void PreStart()
    {
        ReserveDescriptors();
        try
        {
            _receiver = HeraldReceiver.Bind(_settings.Address, _settings.Port, _metrics.Dropped(Metrics.DropReason.ListenPort));
            _receiver.Start(Self.Tell);
            _log.Info("Listening for netdump HERALDs on {Endpoint}, dumps go to {DumpDir}", _receiver.LocalEndpoint, _settings.DumpDirectory);
            if (_known.OnlyLocalClientsWarning() is { } warning)
            {
                _log.Warning("{Warning}", warning);
            }

            if (_settings.LinuxPort is { } linuxPort)
            {
                _linux = LinuxPort.Bind(_settings.Address, linuxPort, _settings.DumpDirectory, _known.IsAllowed, _metrics.Dropped(Metrics.DropReason.LinuxPort));
                _linux.Start(Self.Tell);
                _startScripts = Context.ActorOf(ScriptRunnerActor.Props(_settings.DumpDirectory), "start-scripts");
                _log.Info("Listening for Linux netdump clients on {Endpoint}", _linux.LocalEndpoint);
            }
        }
        catch (SocketException e)
        {
            _bindError = _receiver is null
                ? $"cannot bind {_settings.Address}:{_settings.Port}: {e.Message}"
                : $"cannot bind linux_port {_settings.Address}:{_settings.LinuxPort}: {e.Message}";
            _receiver?.Dispose();
            _receiver = null;
            _log.Error("{Error}", _bindError);
        }
    }

    /// <summary>
    /// Descriptors a storm at <c>max_concurrent_dumps</c> may hold: a session socket and a core per
    /// dump received, the sockets of as many dumps lingering after their end, room for the reports
    /// being written, and what the server holds before any dump (about 250, most of them its
    /// assemblies).
    /// </summary>
    internal static int StormDescriptors(NetdumpSettings settings) => (int)Math.Min(512 + 4L * settings.MaxConcurrentDumps, int.MaxValue);

    /// <summary>The descriptor table grown now, not under a storm's first dumps (<see cref="DescriptorTable"/>).</summary>
    private void ReserveDescriptors()
    {
        var wanted = StormDescriptors(_settings);
        switch (DescriptorTable.Reserve(wanted))
        {
            case DescriptorTable.Reservation.Capped capped:
                _log.Warning("The open files limit allows {Reserved} descriptors; a storm of {Key} = {Concurrent} dumps may need {Wanted} (raise the limit: ulimit -n, or LimitNOFILE= under systemd)",
                    capped.Slots, ConfigKeys.MaxConcurrentDumps.Name, _settings.MaxConcurrentDumps, wanted);
                break;
            case DescriptorTable.Reservation.Failed failed:
                _log.Warning("Cannot make room for {Wanted} descriptors at start ({Why}); a crash storm's first dumps may wait while the kernel grows the table",
                    wanted, failed.Why);
                break;
        }
    }

    protected override void PostStop()
    {
        _receiver?.Dispose();
        _linux?.Dispose();
        _pumps?.Dispose(); // the sessions (children) have stopped and unregistered by now
        _lingerPump?.Dispose();
        _pumpThreads?.Dispose();
    }

    private IEnumerable<IActorRef> SessionChildren() => Context.GetChildren().Where(child => !child.Equals(_guard) && !child.Equals(_startScripts));
}
