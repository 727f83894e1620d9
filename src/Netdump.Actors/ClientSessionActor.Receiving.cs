using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// The receiving state, from the HERALD's ack: data flows through the pump; a session that hears
/// nothing but its HERALD gives its slot and directory back; a HERALD again is a retransmission,
/// late, or a new dump that supersedes this one; an idle client ends the dump.
/// </summary>
public sealed partial class ClientSessionActor
{
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

    /// <summary>The dump is still being received <c>flush_interval</c> after its ack (at <paramref name="AckedAt"/>): time for its start line.</summary>
    private sealed record StartLineDue(DateTimeOffset AckedAt);

    private void StartReceiving(CoreFile core, DumpWriterActor.LowSpace? earlyLowSpace)
    {
        _channel!.Start(core, PumpEvents());
        _channel.SendAck(_herald.Sequence);
        _metrics.DumpsStarted.Inc();
        _metrics.HeraldToAck.Observe(Math.Max((DateTimeOffset.UtcNow - _herald.ReceivedAt).TotalSeconds, 0));
        _guard.Tell(ConcurrencyGuardActor.SlotAcked.Instance);
        // the HERALD and the dump it started get their line once the dump has lasted flush_interval
        // (its first receiving report is written then too); a dump that ends sooner is told in one
        // line, at its end (LogEnd). Each line is part of every dump's fixed cost, and in a crash
        // storm a line per HERALD took the threads the next HERALDs' acks needed (docs/performance.md)
        Timers.StartSingleTimer(StartLineTimer, new StartLineDue(DateTimeOffset.UtcNow), _settings.FlushInterval);
        _supersedes?.Tell(new SupersededBy(_directory));
        _supersedes = null;
        Timers.StartSingleTimer(IdleTimer, IdleCheck.Instance, _settings.SessionTimeout);
        Timers.StartSingleTimer(SilentTimer, SilenceOver.Instance, _settings.SilentTimeout);
        Become(Receiving);
        if (earlyLowSpace is { } low)
        {
            Self.Tell(low);
        }
    }

    private void Receiving(object message)
    {
        switch (message)
        {
            case Herald herald:
                HandleHerald(herald);
                break;
            case PumpEvent.HeraldRetransmitted h:
                HandleHerald(_herald with { Sequence = h.Sequence, ReceivedAt = h.ReceivedAt });
                break;
            case StartLineDue due:
                LogStart(due.AckedAt);
                break;
            case SilenceOver:
                // a HERALD and nothing else (a flood, or a client that died at once): nothing was
                // received, so nothing is kept; the slot and the socket go back at once
                if (TryRetireEmpty())
                {
                    _log.Warning("Client {Client}: nothing but a HERALD within {Timeout}; session dropped, nothing was received",
                        ClientText, _settings.SilentTimeout);
                    ReleaseSlot();
                    DiscardEmptyDump();
                }

                break;
            case ConcurrencyGuardActor.YieldSlot:
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

                break;
            case PumpEvent.Dropped d:
                LogDropped(d);
                break;
            case PumpEvent.WriteFailed f:
                EndIncomplete(f.Reason);
                break;
            case DumpWriterActor.DiskFailed f:
                EndIncomplete(f.Reason);
                break;
            case PumpEvent.Faulted f:
                EndIncomplete(EndReason.ReceiveError(f.Reason));
                break;
            case SupersedeAbandoned abandoned:
                // the listener had given the client's address to the new session: it is this one's again
                _supersedeRequested = false;
                Context.Parent.Tell(new UdpListenerActor.StillReceiving(_herald.Client.Address, abandoned.By));
                break;
            case SupersededBy s:
                _channel!.Superseded(); // the client is dumping again: it is not to be rebooted
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
                break;
            case IdleCheck:
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

                break;
            case ServerShuttingDown when LinuxMemoryIn:
                FinishWithoutConsole();
                break;
            case ServerShuttingDown:
                EndIncomplete(EndReason.ServerShutDown);
                break;
            case Terminated terminated:
                OnTerminated(terminated);
                break;
            case ConcurrencyGuardActor.ConfirmSlot:
                AnswerRecount(acked: true);
                break;
            default:
                // the dialect's and the space's events share no type with the cases above, so that they
                // are tried after them changes nothing; the slot's come last, after this state's own
                UnhandledUnless(DialectEvents(message) || SpaceEvents(message) || KeepSlot(message), message);
                break;
        }
    }

    /// <summary>
    /// If nothing but HERALDs has arrived, ends the pump so that nothing ever will be written
    /// or acked (one atomic step against the pump's first data) and closes the socket; true
    /// then. Otherwise the dump is under way: false (the pump that took its first data told the
    /// guard, <see cref="PumpEvents"/>).
    /// </summary>
    private bool TryRetireEmpty()
    {
        if (!_channel!.TryRetireIfEmpty())
        {
            return false;
        }

        _channel.Dispose();
        return true;
    }

    /// <summary>Nothing was received (the pump is retired): the directory and the slot go back at once.</summary>
    private void DiscardEmptyDump()
    {
        CancelReceivingTimers();
        _writer.Tell(DumpWriterActor.Discard.Instance);
        Become(Discarding(thenRefuse: false));
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

    /// <summary>
    /// The line of a session still going <c>flush_interval</c> after its ack (receiving, or still
    /// waiting for its first data): where the dump goes and how it started.
    /// </summary>
    private void LogStart(DateTimeOffset ackedAt) =>
        _log.Info("Client {Client}: dump started in {Dir}: {Start}, acked {Ago:F1} s before this line",
            ClientText, _directory, StartFacts(), Math.Max((DateTimeOffset.UtcNow - ackedAt).TotalSeconds, 0));

    /// <summary>
    /// How the dump started, for its start and end lines: the HERALD (or START) and the client's
    /// port it came from (a HERALD from another port is a new dump), and the session port.
    /// </summary>
    private string StartFacts() => _herald.Linux is { } start
        ? $"Linux START from port {_herald.Client.Port} (ELF machine {start.Machine}, protocol version {Protocol.Linux.LinuxVersion.Effective(start.MaxVersion)})"
        : $"HERALD {_herald.Sequence} from port {_herald.Client.Port} to {_herald.LocalAddress}, path \"{DumpReport.OneLine(_herald.RequestedPath)}\", session port {_channel?.LocalEndpoint.Port}";

    /// <summary>The receiving state's timers end with it (the end line tells how the dump started).</summary>
    private void CancelReceivingTimers()
    {
        Timers.Cancel(IdleTimer);
        Timers.Cancel(SilentTimer);
        Timers.Cancel(StartLineTimer);
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

    /// <summary>
    /// Where the pump's events go: the first data straight to the guard, as this session's
    /// <see cref="ConcurrencyGuardActor.SlotActive"/> (the dump is under way, not a silent
    /// session), everything else to the session. The session has nothing to decide on it, and a
    /// turn of the session is part of every dump's fixed cost (docs/performance.md). The silent
    /// timer is not cancelled then: when it fires while the dump is still received, the pump says
    /// data came (<see cref="TryRetireEmpty"/>). Exactly one first data is told: the pump's own,
    /// or none when the session retired the pump first.
    /// </summary>
    private ControlEvents PumpEvents()
    {
        var self = Self;
        var guard = _guard;
        return message =>
        {
            if (message is PumpEvent.FirstData)
            {
                guard.Tell(ConcurrencyGuardActor.SlotActive.Instance, self);
            }
            else
            {
                self.Tell(message);
            }
        };
    }
}
