using System.Net;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// One client's dump, from its HERALD to the end of the linger time. Owns the session socket
/// and receive pump (<see cref="ISessionChannel"/>), which write and ack data inline, and a
/// <see cref="DumpWriterActor"/> child that owns the files. It hears only control events and
/// makes every decision: when to ack the HERALD, KDH, key and FINISHED, when the client has
/// timed out, when a new HERALD supersedes this dump, and when to stop.
/// States: opening → receiving → finishing → lingering (only after FINISHED) → stopped.
/// Tells its parent <see cref="UdpListenerActor.ReceivingEnded"/> and <see cref="UdpListenerActor.Supersede"/>.
/// </summary>
public sealed class ClientSessionActor : ReceiveActor, IWithTimers
{
    private const string IdleTimer = "idle";
    private const string LingerTimer = "linger";

    private readonly NetdumpSettings _settings;
    private readonly Herald _herald;
    private readonly SessionChannelFactory _channels;
    private readonly IActorRef? _supersedes;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _writer;
    private ISessionChannel? _channel;
    private string _directory = "";
    private bool _supersedeRequested;
    private PumpEvent.ControlPacket? _finished;

    public ClientSessionActor(NetdumpSettings settings, Herald herald, SessionChannelFactory channels, WriterFactory writers, IActorRef? supersedes)
    {
        _settings = settings;
        _herald = herald;
        _channels = channels;
        _supersedes = supersedes;
        _writer = writers(Context, settings, herald);
        Context.Watch(_writer);
        Opening();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates a session's writer child; tests pass one that answers from a probe.</summary>
    public delegate IActorRef WriterFactory(IActorContext context, NetdumpSettings settings, Herald herald);

    /// <summary>The dump this session replaced has been given a new directory: end this one as superseded.</summary>
    public sealed record SupersededBy(string Directory);

    private sealed class IdleCheck
    {
        public static readonly IdleCheck Instance = new();
        private IdleCheck() { }
    }

    private sealed class LingerOver
    {
        public static readonly LingerOver Instance = new();
        private LingerOver() { }
    }

    public static WriterFactory DefaultWriters { get; } =
        (context, settings, herald) => context.ActorOf(DumpWriterActor.Props(settings, herald), "writer");

    public static Props Props(NetdumpSettings settings, Herald herald, SessionChannelFactory channels, WriterFactory? writers = null, IActorRef? supersedes = null) =>
        Akka.Actor.Props.Create(() => new ClientSessionActor(settings, herald, channels, writers ?? DefaultWriters, supersedes));

    /// <summary>A writer that fails is stopped; the session then ends its dump (see <see cref="Terminated"/>).</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart() => _writer.Tell(DumpWriterActor.Open.Instance);

    private void Opening()
    {
        Receive<DumpWriterActor.Opened>(opened =>
        {
            _directory = opened.Directory;
            try
            {
                _channel = _channels(_herald.LocalAddress, _herald.Client.Address);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                _log.Error("Client {Client}: cannot open a session socket on {Local}: {Error}; dump refused",
                    _herald.Client.Address, _herald.LocalAddress, e.Message);
                _writer.Tell(new DumpWriterActor.Finish($"no session socket: {e.Message}"));
                Become(Finishing);
                return;
            }

            _channel.Start(opened.Core, Self);
            _channel.SendAck(_herald.Sequence, _herald.Client);
            _log.Info("Client {Client}: dump started in {Dir}, session port {Port}",
                _herald.Client.Address, _directory, _channel.LocalEndpoint.Port);
            _supersedes?.Tell(new SupersededBy(_directory));
            Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout);
            Become(Receiving);
        });
        Receive<DumpWriterActor.OpenFailed>(failed =>
        {
            _log.Error("Client {Client}: cannot create the dump in {DumpDir}: {Error}; dump refused",
                _herald.Client.Address, _settings.DumpDirectory, failed.Reason);
            Context.Stop(Self);
        });
        Receive<Herald>(_ => { }); // acked once the dump exists; the client retries meanwhile
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ => Context.Stop(Self));
    }

    private void Receiving()
    {
        Receive<Herald>(HandleHerald);
        Receive<PumpEvent.HeraldRetransmitted>(h => HandleHerald(_herald with { Sequence = h.Sequence, Client = h.From, ReceivedAt = DateTimeOffset.UtcNow }));
        Receive<PumpEvent.FirstData>(d => _log.Info("Client {Client}: first data at offset {Offset}", _herald.Client.Address, d.Offset));
        Receive<PumpEvent.ControlPacket>(HandleControl);
        Receive<DumpWriterActor.Stored>(stored => _channel!.SendAck(stored.Sequence, stored.From));
        Receive<PumpEvent.Dropped>(d => _log.Warning("Client {Client}: dropped a datagram from {From}: {Reason}", _herald.Client.Address, d.From, d.Reason));
        Receive<PumpEvent.WriteFailed>(f => EndIncomplete(f.Reason));
        Receive<PumpEvent.Faulted>(f => EndIncomplete($"receive error: {f.Reason}"));
        Receive<SupersededBy>(s =>
        {
            _log.Warning("Client {Client}: dump in {Dir} superseded by a new dump in {NewDir}", _herald.Client.Address, _directory, s.Directory);
            EndIncomplete("superseded", s.Directory);
        });
        Receive<IdleCheck>(_ =>
        {
            var idle = TimeSpan.FromMilliseconds(Environment.TickCount64 - _channel!.LastPacketTicks);
            if (idle >= _settings.SessionTimeout)
            {
                EndIncomplete("client timed out");
            }
            else
            {
                Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout - idle);
            }
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ => WriterLost());
    }

    private void HandleHerald(Herald herald)
    {
        if (!_channel!.HasData)
        {
            _log.Debug("Client {Client}: HERALD {Seq} retransmitted, re-acked", herald.Client.Address, herald.Sequence);
            _channel.SendAck(herald.Sequence, herald.Client);
        }
        else if (!_supersedeRequested)
        {
            // a second panic, a dump from ddb or a minidump retry: a new dump replaces this one
            _supersedeRequested = true;
            Context.Parent.Tell(new UdpListenerActor.Supersede(herald));
        }
    }

    private void HandleControl(PumpEvent.ControlPacket packet)
    {
        if (packet.Type == MessageType.Finished)
        {
            _finished = packet;
            Timers.Cancel(IdleTimer);
            _writer.Tell(new DumpWriterActor.Finish(null));
            Become(Finishing);
        }
        else
        {
            _writer.Tell(new DumpWriterActor.Store(packet));
        }
    }

    private void EndIncomplete(string reason, string? supersededBy = null)
    {
        Timers.Cancel(IdleTimer);
        _channel?.Dispose(); // no write may race the final fsync
        _writer.Tell(new DumpWriterActor.Finish(reason, supersededBy));
        Become(Finishing);
    }

    private void Finishing()
    {
        Receive<DumpWriterActor.Finalized>(f =>
        {
            var r = f.Record;
            var seconds = Math.Max((DateTimeOffset.UtcNow - r.ReceivedAt).TotalSeconds, 0.001);
            var status = r.Reason is null ? "complete" : $"incomplete ({r.Reason})";
            var counters = _channel?.Counters ?? default;
            var transfer = $"{r.BytesReceived} bytes in {seconds:F1} s ({r.BytesReceived / seconds / (1 << 20):F1} MiB/s)";
            _log.Info("Client {Client}: dump {Status} in {Dir}: {Transfer}, {Dropped} dropped and {Foreign} foreign datagrams",
                r.ClientIp, status, r.Directory, transfer, counters.Dropped, counters.Foreign);
            Context.Parent.Tell(new UdpListenerActor.ReceivingEnded(_herald.Client.Address));
            if (_finished is { } finished && _channel is not null)
            {
                _channel.SendAck(finished.Sequence, finished.From);
                Timers.StartSingleTimer(LingerTimer, LingerOver.Instance, _settings.Linger);
                Become(Lingering);
            }
            else
            {
                Context.Stop(Self);
            }
        });
        Receive<DumpWriterActor.Stored>(stored => _channel?.SendAck(stored.Sequence, stored.From));
        Receive<Terminated>(t => t.ActorRef.Equals(_writer), _ => WriterLost());
        ReceiveAny(_ => { }); // retransmits wait for the final answer
    }

    private void Lingering()
    {
        Receive<PumpEvent.ControlPacket>(p => p.Type == MessageType.Finished, p => _channel!.SendAck(p.Sequence, p.From));
        Receive<LingerOver>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private void WriterLost()
    {
        _log.Error("Client {Client}: the writer of {Dir} failed; the dump ends incomplete", _herald.Client.Address, _directory);
        Context.Parent.Tell(new UdpListenerActor.ReceivingEnded(_herald.Client.Address));
        Context.Stop(Self);
    }

    protected override void PostStop() => _channel?.Dispose();
}
