using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// One client's dump, from its HERALD to the end of the linger time. Owns the session socket
/// and receive pump (<see cref="ISessionChannel"/>), which write and ack data inline, a
/// <see cref="DumpWriterActor"/> child that owns the files and a <see cref="ScriptRunnerActor"/>
/// child for the netdump scripts (made the first time one is installed). It hears only control
/// events and makes every decision.
/// <para>
/// Life: ask the <see cref="ConcurrencyGuardActor"/> for a slot (refused: silence, stop) →
/// the session socket is opened (no port: the slot goes back, nothing is made on disk) →
/// the writer creates the dump → <c>netdump-crash</c> (non-zero exit: the dump is removed,
/// silence, and the client's retransmitted HERALDs are ignored for the refusal episode) →
/// the HERALD is acked and data flows (a silent session may yield its slot to a waiting client) → FINISHED, timeout, failure, no space,
/// supersede or shutdown → the writer finalizes → the slot is released → the FINISHED ack →
/// <c>netdump-reboot</c> (not for a superseded dump) → linger (only after FINISHED) and the
/// writer's own stop, once its dump needs nothing more of it (a complete dump's hash, reports
/// waiting for room) → stop.
/// </para>
/// Tells its parent <see cref="UdpListenerActor.ReceivingEnded"/> and <see cref="UdpListenerActor.Supersede"/>.
/// <para>
/// This file is the session itself: its children, its messages and what every state shares (the
/// slot, a lost writer, the stop). Its states, in the order a dump meets them, are in their own
/// files: before the HERALD's ack (<c>AwaitingSlot</c>, <c>Opening</c>, <c>CrashGate</c>) in
/// <c>ClientSessionActor.BeforeAck.cs</c>; <c>Receiving</c> (HERALDs again, silence, idleness,
/// supersede) in <c>.Receiving.cs</c>; the ends (<c>Discarding</c> and <c>Refused</c> for a dump
/// that got nothing, <c>Finishing</c> and <c>Closing</c>, with the linger and the checksum, for
/// one that did) in <c>.Ending.cs</c>. What a dialect's packets mean is in <c>.Dialects.cs</c> (a
/// FreeBSD client pushes and says FINISHED; a Linux client is pulled and rebooted), the free
/// space decision in <c>.Space.cs</c>, the scripts in <c>.Scripts.cs</c>.
/// </para>
/// </summary>
public sealed partial class ClientSessionActor : UntypedActor, IWithTimers
{
    private const string IdleTimer = "idle";
    private const string LingerTimer = "linger";
    private const string SilentTimer = "silent";
    private const string RefusalTimer = "refusal";
    private const string StartLineTimer = "start-line";

    private readonly NetdumpSettings _settings;
    private readonly Herald _herald;
    private readonly IActorRef _guard;
    private readonly SessionChannelFactory _channels;
    private readonly DiskSpace _space;
    /// <summary>
    /// The session of the dump this one replaces, until that dump is told (at this one's ack). Still
    /// set when this session stops, it was never told: it receives on (<see cref="PostStop"/>).
    /// </summary>
    private IActorRef? _supersedes;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WriterFactory _writers;
    private readonly ScriptRunnerFactory _scriptRunners;
    private IActorRef _writer = ActorRefs.Nobody;
    private IActorRef _scripts = ActorRefs.Nobody;
    private ISessionChannel? _channel;
    private string _directory = "";
    private bool _slotHeld;
    private bool _supersedeRequested;
    private readonly Metrics.NetdumpMetrics _metrics = MetricsExtension.For(Context.System);

    public ClientSessionActor(NetdumpSettings settings, Herald herald, IActorRef guard, SessionChannelFactory channels,
        DiskSpace space, WriterFactory writers, ScriptRunnerFactory scripts, IActorRef? supersedes)
    {
        _space = space;
        _settings = settings;
        _herald = herald;
        _guard = guard;
        _channels = channels;
        _supersedes = supersedes;
        _writers = writers;
        _scriptRunners = scripts;
    }

    /// <summary>
    /// The first state, <c>AwaitingSlot</c>. Every state is a <c>switch</c> tried top to bottom (the
    /// first case whose type and condition match wins) and <see cref="UntypedActor.Become(UntypedReceive)"/>
    /// moves between them: a <c>ReceiveActor</c> rebuilt its matcher on every change of state, and
    /// compiled it the first time, a cost every one of a crash storm's sessions paid before its ack.
    /// </summary>
    protected override void OnReceive(object message) => AwaitingSlot(message);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates a session's writer child, its dump reserving room in <c>space</c>; tests pass one that answers from a probe.</summary>
    public delegate IActorRef WriterFactory(IActorContext context, NetdumpSettings settings, Herald herald, DiskSpace space);

    /// <summary>Creates a session's script runner child; tests pass one that answers from a probe.</summary>
    public delegate IActorRef ScriptRunnerFactory(IActorContext context, NetdumpSettings settings);

    /// <summary>The dump this session replaced has been given a new directory: end this one as superseded.</summary>
    public sealed record SupersededBy(string Directory);

    /// <summary>
    /// From the session (<paramref name="By"/>) that was to replace this dump and ended before its
    /// HERALD's ack (its <c>netdump-crash</c> refused, no session port, no directory): this dump is
    /// still its client's, and a later HERALD may replace it again.
    /// </summary>
    public sealed record SupersedeAbandoned(IActorRef By);

    /// <summary>The server is stopping: end the dump ("server shut down"), run netdump-reboot, stop.</summary>
    public sealed class ServerShuttingDown
    {
        public static readonly ServerShuttingDown Instance = new();
        private ServerShuttingDown() { }
    }

    public static WriterFactory DefaultWriters { get; } =
        (context, settings, herald, space) => context.ActorOf(DumpWriterActor.Props(settings, herald, space: space), "writer");

    public static ScriptRunnerFactory DefaultScripts { get; } =
        (context, settings) => context.ActorOf(ScriptRunnerActor.Props(settings.DumpDirectory), "scripts");

    /// <summary>The props of a session (made as every actor here is: <see cref="ActorProps"/> says why).</summary>
    public static Props Props(NetdumpSettings settings, Herald herald, IActorRef guard, SessionChannelFactory channels,
        DiskSpace space, WriterFactory? writers = null, ScriptRunnerFactory? scripts = null, IActorRef? supersedes = null) =>
        ActorProps.Of(() => new ClientSessionActor(settings, herald, guard, channels, space,
            writers ?? DefaultWriters, scripts ?? DefaultScripts, supersedes));

    /// <summary>A writer or script runner that fails is stopped; the session then ends its dump (see <see cref="WriterLost"/>).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart() => _guard.Tell(new ConcurrencyGuardActor.RequestSlot(_herald.Client.Address, _supersedes));

    /// <summary>
    /// The slot messages every state answers, after its own cases: a recount, and a request to yield
    /// (refused: not a silent receiving session). True when the message was one of them.
    /// </summary>
    private bool KeepSlot(object message)
    {
        switch (message)
        {
            case ConcurrencyGuardActor.ConfirmSlot:
                AnswerRecount();
                return true;
            case ConcurrencyGuardActor.YieldSlot:
                Sender.Tell(ConcurrencyGuardActor.SlotKept.Instance);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The end of every state: what neither its cases nor the shared ones took is unhandled, as Akka has it.</summary>
    private void UnhandledUnless(bool handled, object message)
    {
        if (!handled)
        {
            Unhandled(message);
        }
    }

    private void OnTerminated(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_writer))
        {
            WriterLost();
        }
        else if (terminated.ActorRef.Equals(_scripts))
        {
            ScriptsLost();
        }
    }

    /// <summary>The guard is recounting after a restart: say whether this session holds a slot.</summary>
    private void AnswerRecount(bool acked = false) => Sender.Tell(_slotHeld
        ? new ConcurrencyGuardActor.SlotHeld(_herald.Client.Address, Active: _channel?.FirstDataAt is not null, acked)
        : ConcurrencyGuardActor.NoSlot.Instance);

    private void ReleaseSlot()
    {
        if (_slotHeld)
        {
            _slotHeld = false;
            _guard.Tell(ConcurrencyGuardActor.ReleaseSlot.Instance);
        }
    }

    private void WriterLost()
    {
        _log.Error("Client {Client}: the writer of {Dir} failed; the dump ends incomplete", ClientText, _directory);
        _metrics.Finished(DumpStatus.Incomplete, EndReason.WriterFailed, DateTimeOffset.UtcNow - _herald.ReceivedAt);
        ReleaseSlot();
        Context.Parent.Tell(new UdpListenerActor.ReceivingEnded(_herald.Client.Address));
        Context.Stop(Self);
    }

    private string ClientText => _herald.Client.Address.ToString();

    /// <summary>A datagram the pump dropped (it reports a few a second at most), in any state while the socket is open.</summary>
    private void LogDropped(PumpEvent.Dropped d) => _log.Warning("Client {Client}: dropped a datagram: {Reason}", ClientText, d.Reason);

    protected override void PostStop()
    {
        _channel?.Dispose();
        _channel?.LetGo(); // netdump-reboot has run: a Linux client is told to reboot now
        ReleaseSlot();
        _supersedes?.Tell(new SupersedeAbandoned(Self));
    }
}
