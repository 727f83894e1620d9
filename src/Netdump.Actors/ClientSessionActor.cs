using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Ingest.Linux;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// One client's dump, from its HERALD to the end of the linger time. Owns the session socket
/// and receive pump (<see cref="ISessionChannel"/>), which write and ack data inline, a
/// <see cref="DumpWriterActor"/> child that owns the files and a <see cref="ScriptRunnerActor"/>
/// child for the netdump scripts. It hears only control events and makes every decision.
/// <para>
/// Life: ask the <see cref="ConcurrencyGuardActor"/> for a slot (refused: silence, stop) →
/// the session socket is opened (no port: the slot goes back, nothing is made on disk) →
/// the writer creates the dump → <c>netdump-crash</c> (non-zero exit: the dump is removed,
/// silence, and the client's retransmitted HERALDs are ignored for the refusal episode) →
/// the HERALD is acked and data flows (a silent session may yield its slot to a waiting client) → FINISHED, timeout, failure, no space,
/// supersede or shutdown → the writer finalizes → the slot is released → the FINISHED ack →
/// <c>netdump-reboot</c> (not for a superseded dump) → linger (only after FINISHED) and, for a
/// complete dump, the writer's checksum (<see cref="DumpWriterActor.ChecksumDone"/>) → stop.
/// </para>
/// Tells its parent <see cref="UdpListenerActor.ReceivingEnded"/> and <see cref="UdpListenerActor.Supersede"/>.
/// <para>
/// This file is the session itself: the slot, the writer, the timeouts and the decisions every
/// dump shares. What a dialect's packets mean is in <c>ClientSessionActor.Dialects.cs</c> (a
/// FreeBSD client pushes and says FINISHED; a Linux client is pulled and rebooted), the free
/// space decision in <c>ClientSessionActor.Space.cs</c>, the scripts in <c>ClientSessionActor.Scripts.cs</c>.
/// </para>
/// </summary>
public sealed partial class ClientSessionActor : ReceiveActor, IWithTimers
{
    private const string IdleTimer = "idle";
    private const string LingerTimer = "linger";
    private const string SilentTimer = "silent";
    private const string RefusalTimer = "refusal";

    private readonly NetdumpSettings _settings;
    private readonly Herald _herald;
    private readonly IActorRef _guard;
    private readonly SessionChannelFactory _channels;
    private readonly DiskSpace _space;
    private readonly IActorRef? _supersedes;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WriterFactory _writers;
    private readonly ScriptRunnerFactory _scriptRunners;
    private IActorRef _writer = ActorRefs.Nobody;
    private IActorRef _scripts = ActorRefs.Nobody;
    private bool _active;
    private ISessionChannel? _channel;
    private string _directory = "";
    private bool _slotHeld;
    private bool _supersedeRequested;
    private bool _lingerOver;
    private bool _checksumPending; // a complete dump's writer is hashing its core: stopping now would abandon it
    private DumpWriterActor.LowSpace? _earlyLowSpace;
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
        AwaitingSlot();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates a session's writer child, its dump reserving room in <c>space</c>; tests pass one that answers from a probe.</summary>
    public delegate IActorRef WriterFactory(IActorContext context, NetdumpSettings settings, Herald herald, DiskSpace space);

    /// <summary>Creates a session's script runner child; tests pass one that answers from a probe.</summary>
    public delegate IActorRef ScriptRunnerFactory(IActorContext context, NetdumpSettings settings);

    /// <summary>The dump this session replaced has been given a new directory: end this one as superseded.</summary>
    public sealed record SupersededBy(string Directory);

    /// <summary>The server is stopping: end the dump ("server shut down"), run netdump-reboot, stop.</summary>
    public sealed class ServerShuttingDown
    {
        public static readonly ServerShuttingDown Instance = new();
        private ServerShuttingDown() { }
    }

    private sealed class IdleCheck
    {
        public static readonly IdleCheck Instance = new();
        private IdleCheck() { }
    }

    private sealed class SilenceOver
    {
        public static readonly SilenceOver Instance = new();
        private SilenceOver() { }
    }

    private sealed class LingerOver
    {
        public static readonly LingerOver Instance = new();
        private LingerOver() { }
    }

    private sealed class RefusalOver
    {
        public static readonly RefusalOver Instance = new();
        private RefusalOver() { }
    }

    public static WriterFactory DefaultWriters { get; } =
        (context, settings, herald, space) => context.ActorOf(DumpWriterActor.Props(settings, herald, space: space), "writer");

    public static ScriptRunnerFactory DefaultScripts { get; } =
        (context, settings) => context.ActorOf(ScriptRunnerActor.Props(settings.DumpDirectory), "scripts");

    /// <summary>
    /// The props of a session. Like every actor's props here they name the constructor's
    /// arguments (Akka creates the actor through its activator) instead of a <c>() => new ...</c>
    /// expression, which Akka compiles into new code for every actor: measured at about 10 ms
    /// of CPU per dump for a session, its writer and its script runner.
    /// </summary>
    public static Props Props(NetdumpSettings settings, Herald herald, IActorRef guard, SessionChannelFactory channels,
        DiskSpace space, WriterFactory? writers = null, ScriptRunnerFactory? scripts = null, IActorRef? supersedes = null) =>
        Akka.Actor.Props.Create<ClientSessionActor>(settings, herald, guard, channels, space,
            writers ?? DefaultWriters, scripts ?? DefaultScripts, supersedes);

    /// <summary>A writer or script runner that fails is stopped; the session then ends its dump (see <see cref="WriterLost"/>).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart() => _guard.Tell(new ConcurrencyGuardActor.RequestSlot(_herald.Client.Address, _supersedes));

    private void AwaitingSlot()
    {
        Receive<ConcurrencyGuardActor.SlotGranted>(_ =>
        {
            // the socket first: a client refused for want of a port leaves no directory, runs no script
            try
            {
                _channel = _channels(_herald.LocalAddress, _herald.Client);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                _guard.Tell(new ConcurrencyGuardActor.SlotUnusable(_herald.Client.Address,
                    $"cannot open a session socket on {_herald.LocalAddress}: {e.Message}"));
                _metrics.Refused(Metrics.RefusalReason.NoSessionPort).Inc();
                Context.Stop(Self);
                return;
            }

            // the children exist only for an admitted dump: a refused HERALD costs one short-lived actor
            _slotHeld = true;
            _writer = Context.Watch(_writers(Context, _settings, _herald, _space));
            _scripts = Context.Watch(_scriptRunners(Context, _settings));
            _writer.Tell(DumpWriterActor.Open.Instance);
            Become(Opening);
        });
        Receive<ConcurrencyGuardActor.SlotRefused>(_ =>
        {
            // the guard logged it; a FreeBSD client gets silence and reboots, a Linux one is
            // rebooted by the listener, which keeps its console text
            if (_herald.Dialect == Dialect.Linux)
            {
                Context.Parent.Tell(new UdpListenerActor.LinuxRefused(_herald));
            }

            Context.Stop(Self);
        });
        Receive<ConcurrencyGuardActor.ConfirmSlot>(_ =>
        {
            // a restarted guard forgot the waiting line: answer, and ask again
            Sender.Tell(ConcurrencyGuardActor.NoSlot.Instance);
            Sender.Tell(new ConcurrencyGuardActor.RequestSlot(_herald.Client.Address, _supersedes));
        });
        Receive<ServerShuttingDown>(_ => Context.Stop(Self));
        Receive<Herald>(_ => { });
        KeepSlot();
    }

    private void Opening()
    {
        Receive<DumpWriterActor.Opened>(opened =>
        {
            _directory = opened.Directory;
            RunScript(Script.Crash, "receiving", null, null, _settings.CrashScriptTimeout);
            Become(() => CrashGate(opened.Core));
        });
        Receive<DumpWriterActor.OpenFailed>(failed =>
        {
            _log.Error("Client {Client}: cannot create the dump in {DumpDir}: {Error}; dump refused",
                ClientText, _settings.DumpDirectory, failed.Reason);
            _metrics.Refused(Metrics.RefusalReason.CannotCreate).Inc();
            ReleaseSlot();
            Context.Stop(Self);
        });
        BeforeReceiving();
    }

    /// <summary>netdump-crash runs before the HERALD is acked; only its non-zero exit refuses the dump.</summary>
    private void CrashGate(CoreFile core)
    {
        Receive<ScriptResult>(r => r.Script == Script.Crash, result =>
        {
            if (result.Outcome == ScriptOutcome.Exited && result.ExitCode != 0)
            {
                _log.Warning("Client {Client}: netdump-crash exited {Code}: dump refused, the client will reboot; its HERALDs are ignored for {Episode}",
                    ClientText, result.ExitCode, _settings.RefusalEpisode);
                _metrics.Refused(Metrics.RefusalReason.CrashScript).Inc();
                _channel!.Dispose();
                _channel.LetGo();
                _writer.Tell(DumpWriterActor.Discard.Instance);
                Become(() => Discarding(thenRefuse: true));
                return;
            }

            StartReceiving(core);
        });
        Receive<DumpWriterActor.LowSpace>(low => _earlyLowSpace = low);
        BeforeReceiving();
    }

    /// <summary>What every state before the first ack shares.</summary>
    private void BeforeReceiving()
    {
        Receive<Herald>(_ => { }); // acked once the dump exists; the client retries meanwhile
        Receive<ServerShuttingDown>(_ => EndIncomplete(EndReason.ServerShutDown));
        Receive<Terminated>(OnTerminated);
        KeepSlot();
    }

    /// <summary>The slot messages every state answers: a recount, and a request to yield (refused: not a silent receiving session).</summary>
    private void KeepSlot()
    {
        Receive<ConcurrencyGuardActor.ConfirmSlot>(_ => AnswerRecount());
        Receive<ConcurrencyGuardActor.YieldSlot>(_ => Sender.Tell(ConcurrencyGuardActor.SlotKept.Instance));
    }

    /// <summary>The empty dump is being removed; then the slot goes back and the session stops, or waits out a refusal.</summary>
    private void Discarding(bool thenRefuse)
    {
        Receive<DumpWriterActor.Discarded>(_ =>
        {
            ReleaseSlot();
            if (thenRefuse)
            {
                Timers.StartSingleTimer(RefusalTimer, RefusalOver.Instance, _settings.RefusalEpisode);
                Become(Refused);
            }
            else
            {
                Context.Stop(Self);
            }
        });
        Receive<Terminated>(OnTerminated);
        KeepSlot();
        ReceiveAny(_ => { });
    }

    /// <summary>
    /// netdump-crash refused the dump: the client's retransmitted HERALDs come here and are
    /// ignored, so the script runs once per refusal episode, not once per retry. The episode
    /// ends <c>refusal_episode</c> after the last HERALD; a HERALD after that is a new dump.
    /// </summary>
    private void Refused()
    {
        Receive<Herald>(_ => Timers.StartSingleTimer(RefusalTimer, RefusalOver.Instance, _settings.RefusalEpisode));
        Receive<RefusalOver>(_ => Context.Stop(Self));
        Receive<ServerShuttingDown>(_ => Context.Stop(Self));
        Receive<Terminated>(_ => { });
        KeepSlot();
        ReceiveAny(_ => { });
    }

    private void StartReceiving(CoreFile core)
    {
        _channel!.Start(core, Self.Tell);
        _channel.SendAck(_herald.Sequence);
        _metrics.DumpsStarted.Inc();
        _metrics.HeraldToAck.Observe(Math.Max((DateTimeOffset.UtcNow - _herald.ReceivedAt).TotalSeconds, 0));
        _guard.Tell(ConcurrencyGuardActor.SlotAcked.Instance);
        // one line for the HERALD and the dump it started (the listener's own line is Debug):
        // each log line costs about 0.1 ms of CPU, a fixed cost of every dump
        if (_herald.Linux is { } start)
        {
            _log.Info("Client {Client}: Linux START (ELF machine {Machine}, protocol version {Version}): dump started in {Dir}",
                _herald.Client, start.Machine, Protocol.Linux.LinuxVersion.Effective(start.MaxVersion), _directory);
        }
        else
        {
            _log.Info("Client {Client}: HERALD {Seq} to {Local}, path \"{Path}\": dump started in {Dir}, session port {Port}",
                _herald.Client, _herald.Sequence, _herald.LocalAddress, _herald.RequestedPath, _directory, _channel.LocalEndpoint.Port);
        }
        _supersedes?.Tell(new SupersededBy(_directory));
        Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout);
        Timers.StartSingleTimer(SilentTimer, SilenceOver.Instance, _settings.SilentTimeout);
        Become(Receiving);
        if (_earlyLowSpace is { } low)
        {
            Self.Tell(low);
        }
    }

    private void Receiving()
    {
        Receive<Herald>(HandleHerald);
        Receive<PumpEvent.HeraldRetransmitted>(h => HandleHerald(_herald with { Sequence = h.Sequence, ReceivedAt = h.ReceivedAt }));
        Receive<PumpEvent.FirstData>(d =>
        {
            MarkActive();
            _log.Debug("Client {Client}: first data at offset {Offset}", ClientText, d.Offset);
        });
        Receive<SilenceOver>(_ =>
        {
            // a HERALD and nothing else (a flood, or a client that died at once): nothing was
            // received, so nothing is kept; the slot and the socket go back at once
            if (TryRetireEmpty())
            {
                _log.Warning("Client {Client}: nothing but a HERALD within {Timeout}; session dropped, nothing was received",
                    ClientText, _settings.SilentTimeout);
                ReleaseSlot();
                DiscardEmptyDump();
            }
        });
        Receive<ConcurrencyGuardActor.YieldSlot>(_ =>
        {
            if (TryRetireEmpty())
            {
                _slotHeld = false; // the guard takes it back with this answer
                Sender.Tell(ConcurrencyGuardActor.SlotYielded.Instance);
                _log.Warning("Client {Client}: nothing but a HERALD within {Grace} of its ack, and a client is waiting; session dropped, nothing was received",
                    ClientText, _settings.SilentGrace);
                DiscardEmptyDump();
            }
            else
            {
                Sender.Tell(ConcurrencyGuardActor.SlotKept.Instance);
            }
        });
        DialectEvents();
        Receive<PumpEvent.Dropped>(d => _log.Warning("Client {Client}: dropped a datagram: {Reason}", ClientText, d.Reason));
        Receive<PumpEvent.WriteFailed>(f => EndIncomplete(f.Reason));
        Receive<DumpWriterActor.DiskFailed>(f => EndIncomplete(f.Reason));
        Receive<PumpEvent.Faulted>(f => EndIncomplete(EndReason.ReceiveError(f.Reason)));
        Receive<SupersededBy>(s =>
        {
            if (TryRetireEmpty())
            {
                // the client started over from a new port before sending data: one dump, as a
                // HERALD before any data is a retransmission (SPEC §4); no empty dump is left
                _log.Info("Client {Client}: no data had come for {Dir}; removed, the dump goes on in {NewDir}", ClientText, _directory, s.Directory);
                DiscardEmptyDump();
                return;
            }

            _log.Warning("Client {Client}: dump in {Dir} superseded by a new dump in {NewDir}", ClientText, _directory, s.Directory);
            EndIncomplete(EndReason.Superseded, s.Directory);
        });
        Receive<IdleCheck>(_ =>
        {
            var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - _channel!.LastPacketTicks);
            if (_spaceState is SpaceState.ScriptRunning or SpaceState.Rechecking)
            {
                // the server is the one waiting (netdump-nospace decides): a pulled Linux client
                // is asked nothing meanwhile, and a pushing one is not acked; neither is idle
                Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout);
            }
            else if (idle >= _settings.SessionTimeout)
            {
                EndIncomplete(EndReason.ClientTimedOut);
            }
            else
            {
                Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout - idle);
            }
        });
        SpaceEvents();
        Receive<ServerShuttingDown>(_ => EndIncomplete(EndReason.ServerShutDown));
        Receive<Terminated>(OnTerminated);
        Receive<ConcurrencyGuardActor.ConfirmSlot>(_ => AnswerRecount(acked: true));
        KeepSlot();
    }

    /// <summary>
    /// If nothing but HERALDs has arrived, ends the pump so that nothing ever will be written
    /// or acked (one atomic step against the pump's first data) and closes the socket; true
    /// then. Otherwise the dump is under way: false.
    /// </summary>
    private bool TryRetireEmpty()
    {
        if (!_channel!.TryRetireIfEmpty())
        {
            MarkActive();
            return false;
        }

        _channel.Dispose();
        return true;
    }

    /// <summary>Nothing was received (the pump is retired): the directory and the slot go back at once.</summary>
    private void DiscardEmptyDump()
    {
        Timers.Cancel(IdleTimer);
        Timers.Cancel(SilentTimer);
        _writer.Tell(DumpWriterActor.Discard.Instance);
        Become(() => Discarding(thenRefuse: false));
    }

    private void HandleHerald(Herald herald)
    {
        if (herald.Dialect == Dialect.Linux && _channel!.FirstDataAt is not null)
        {
            // a Linux client that answers the pull is in its request loop and cannot send START;
            // one that does is a spoofer, or a client that rebooted and panicked again, which
            // the idle timeout frees (it repeats START every second until then)
            _log.Debug("Client {Client}: START from {Source} while its dump is being pulled; ignored", ClientText, herald.Client);
        }
        else if (!herald.Client.Equals(_herald.Client))
        {
            // from another port: the session socket, connected to the first HERALD's source,
            // could neither ack that port nor hear it; only a new session can serve it
            RequestSupersede(herald);
        }
        else if (_channel!.FirstDataAt is not { } firstData)
        {
            _log.Debug("Client {Client}: HERALD {Seq} retransmitted, re-acked", ClientText, herald.Sequence);
            _channel.SendAck(herald.Sequence);
        }
        else if (herald.ReceivedAt < firstData + _settings.HeraldRetransmitWindow)
        {
            // sent before the client had our ack and handled only now (the listener was busy);
            // a client abandons a dump only after about 12 s without acks (herald_retransmit_window)
            _log.Debug("Client {Client}: HERALD {Seq} received {Delay} ms after the first data is a late retransmission; ignored",
                ClientText, herald.Sequence, (long)(herald.ReceivedAt - firstData).TotalMilliseconds);
        }
        else
        {
            // a second panic, a dump from ddb or a minidump retry
            RequestSupersede(herald);
        }
    }

    /// <summary>A new dump replaces this one: asks the listener once.</summary>
    private void RequestSupersede(Herald herald)
    {
        if (!_supersedeRequested)
        {
            _supersedeRequested = true;
            Context.Parent.Tell(new UdpListenerActor.Supersede(herald));
        }
    }

    private void EndIncomplete(EndReason reason, string? supersededBy = null)
    {
        Timers.Cancel(IdleTimer);
        _channel?.Dispose(); // stops acking; no write may race the final fsync
        _writer.Tell(new DumpWriterActor.Finish(reason, supersededBy));
        Become(Finishing);
    }

    private void Finishing()
    {
        Receive<DumpWriterActor.Finalized>(f =>
        {
            var r = f.Record;
            LogEnd(r);
            _metrics.Finished(r.Status, r.Reason, DateTimeOffset.UtcNow - r.ReceivedAt);
            ReleaseSlot();
            Context.Parent.Tell(new UdpListenerActor.ReceivingEnded(_herald.Client.Address));
            _lingerOver = !AckFinishedAndLinger();
            _checksumPending = r.Status == DumpStatus.Complete;

            if (r.SupersededBy is null)
            {
                // the client is about to reboot (a superseded client is not: it is dumping again)
                RunScript(Script.Reboot, r.Status.ToString().ToLowerInvariant(), r.Reason?.Text, r, _settings.ScriptTimeout);
            }

            Become(Closing);
            StopWhenDone();
        });
        Receive<DumpWriterActor.Stored>(stored => _channel?.SendAck(stored.Sequence));
        Receive<Terminated>(OnTerminated);
        KeepSlot();
        ReceiveAny(_ => { }); // retransmits wait for the final answer
    }

    /// <summary>After the dump: re-ack FINISHED while lingering, and wait for netdump-reboot.</summary>
    private void Closing()
    {
        Receive<PumpEvent.ControlPacket>(p => p.Type == MessageType.Finished, p => _channel!.SendAck(p.Sequence));
        Receive<ScriptResult>(r => r.Script == Script.Reboot, _ => StopWhenDone());
        Receive<LingerOver>(_ =>
        {
            _lingerOver = true;
            StopWhenDone();
        });
        Receive<DumpWriterActor.ChecksumDone>(_ =>
        {
            _checksumPending = false;
            StopWhenDone();
        });
        Receive<ServerShuttingDown>(_ =>
        {
            // shutdown does not wait for a hash, which may take minutes: the dump keeps its
            // final reports without one (docs/operations.md)
            _lingerOver = true;
            _checksumPending = false;
            StopWhenDone();
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ =>
        {
            _checksumPending = false;
            StopWhenDone();
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_scripts), _ => ScriptsLost());
        KeepSlot();
        ReceiveAny(_ => { });
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

    private void StopWhenDone()
    {
        if (_lingerOver && !_checksumPending && !_pendingScripts.Contains(Script.Reboot))
        {
            Context.Stop(Self);
        }
    }

    private void LogEnd(DumpRecord r)
    {
        var seconds = Math.Max((DateTimeOffset.UtcNow - r.ReceivedAt).TotalSeconds, 0.001);
        var status = r.Reason is null ? "complete" : $"incomplete ({r.Reason.Text})";
        var counters = _channel?.Counters ?? default;
        var transfer = $"{r.BytesReceived} bytes ({ByteUnits.Size(r.BytesReceived)}) in {seconds:F1} s ({ByteUnits.Rate(r.BytesReceived / seconds)}), {counters.Packets} packets";
        _log.Info("Client {Client}: dump {Status} in {Dir}: {Transfer}, {Dropped} dropped datagrams",
            ClientText, status, r.Directory, transfer, counters.Dropped);
    }

    /// <summary>The guard is recounting after a restart: say whether this session holds a slot.</summary>
    private void AnswerRecount(bool acked = false) => Sender.Tell(_slotHeld
        ? new ConcurrencyGuardActor.SlotHeld(_herald.Client.Address, _active, acked)
        : ConcurrencyGuardActor.NoSlot.Instance);

    /// <summary>The client sent more than its HERALD: the dump is under way, not a silent session.</summary>
    private void MarkActive()
    {
        if (!_active)
        {
            _active = true;
            Timers.Cancel(SilentTimer);
            _guard.Tell(ConcurrencyGuardActor.SlotActive.Instance);
        }
    }

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

    protected override void PostStop()
    {
        _channel?.Dispose();
        _channel?.LetGo(); // netdump-reboot has run: a Linux client is told to reboot now
        ReleaseSlot();
    }
}
