using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// The states before the HERALD's ack: a slot is asked for (<c>AwaitingSlot</c>), the session
/// socket and the dump are made (<c>Opening</c>), and <c>netdump-crash</c> may refuse the dump
/// (<c>CrashGate</c>); the client's retransmitted HERALDs wait meanwhile.
/// </summary>
public sealed partial class ClientSessionActor
{
    private void AwaitingSlot(object message)
    {
        switch (message)
        {
            case ConcurrencyGuardActor.SlotGranted:
                // the socket first: a client refused for want of a port leaves no directory, runs no script
                try
                {
                    _channel = _channels(_herald.LocalAddress, _herald.Client);
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
                {
                    _guard.Tell(new ConcurrencyGuardActor.SlotUnusable(_herald.Client.Address, Metrics.RefusalReason.NoSessionPort,
                        $"cannot open a session socket on {_herald.LocalAddress}: {e.Message}"));
                    Context.Stop(Self);
                    return;
                }

                // the writer exists only for an admitted dump: a refused HERALD costs one short-lived
                // actor; the script runner comes with the first script installed (TryRunScript)
                _slotHeld = true;
                _writer = Context.Watch(_writers(Context, _settings, _herald, _space));
                _writer.Tell(DumpWriterActor.Open.Instance);
                Become(Opening);
                break;
            case ConcurrencyGuardActor.SlotRefused:
                // the guard logged it; a FreeBSD client gets silence and reboots, a Linux one is
                // rebooted by the listener, which keeps its console text
                if (_herald.Dialect == Dialect.Linux)
                {
                    Context.Parent.Tell(new UdpListenerActor.LinuxRefused(_herald));
                }

                Context.Stop(Self);
                break;
            case ConcurrencyGuardActor.ConfirmSlot:
                // a restarted guard forgot the waiting line: answer, and ask again
                Sender.Tell(ConcurrencyGuardActor.NoSlot.Instance);
                Sender.Tell(new ConcurrencyGuardActor.RequestSlot(_herald.Client.Address, _supersedes));
                break;
            case ServerShuttingDown:
                Context.Stop(Self);
                break;
            case Herald:
                break;
            default:
                UnhandledUnless(KeepSlot(message), message);
                break;
        }
    }

    private void Opening(object message)
    {
        switch (message)
        {
            case DumpWriterActor.Opened opened:
                _directory = opened.Directory;
                if (TryRunScript(Script.Crash, DumpStatus.Receiving, null, null, _settings.CrashScriptTimeout))
                {
                    Become(CrashGate(opened.Core));
                }
                else
                {
                    StartReceiving(opened.Core, earlyLowSpace: null); // no netdump-crash: nothing can refuse the dump
                }

                break;
            case DumpWriterActor.OpenFailed failed:
                _log.Error("Client {Client}: cannot create the dump in {DumpDir}: {Error}; dump refused",
                    ClientText, _settings.DumpDirectory, failed.Reason);
                _metrics.Refused(Metrics.RefusalReason.CannotCreate).Inc();
                ReleaseSlot();
                Context.Stop(Self);
                break;
            default:
                UnhandledUnless(BeforeReceiving(message), message);
                break;
        }
    }

    /// <summary>netdump-crash runs before the HERALD is acked; only its non-zero exit refuses the dump.</summary>
    private UntypedReceive CrashGate(CoreFile core)
    {
        DumpWriterActor.LowSpace? earlyLowSpace = null; // told to the receiving state, which decides
        return message =>
        {
            switch (message)
            {
                case ScriptResult result when result.Script == Script.Crash:
                    if (result.Outcome == ScriptOutcome.Exited && result.ExitCode != 0)
                    {
                        _log.Warning("Client {Client}: netdump-crash exited {Code}: dump refused, the client will reboot; its HERALDs are ignored for {Episode}",
                            ClientText, result.ExitCode, _settings.RefusalEpisode);
                        _metrics.Refused(Metrics.RefusalReason.CrashScript).Inc();
                        _channel!.Dispose();
                        _channel.LetGo();
                        _writer.Tell(DumpWriterActor.Discard.Instance);
                        Become(Discarding(thenRefuse: true));
                        return;
                    }

                    StartReceiving(core, earlyLowSpace);
                    break;
                case DumpWriterActor.LowSpace low:
                    earlyLowSpace = low;
                    break;
                default:
                    UnhandledUnless(BeforeReceiving(message), message);
                    break;
            }
        };
    }

    /// <summary>What every state before the first ack shares, after its own cases; true when the message was one of these.</summary>
    private bool BeforeReceiving(object message)
    {
        switch (message)
        {
            case Herald:
                return true; // acked once the dump exists; the client retries meanwhile
            case ServerShuttingDown:
                EndIncomplete(EndReason.ServerShutDown);
                return true;
            case Terminated terminated:
                OnTerminated(terminated);
                return true;
            default:
                return KeepSlot(message);
        }
    }
}
