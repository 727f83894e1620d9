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
        DumpWriterActor.LowSpace? earlyLowSpace = null; // told to the receiving state, which decides
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

            StartReceiving(core, earlyLowSpace);
        });
        Receive<DumpWriterActor.LowSpace>(low => earlyLowSpace = low);
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
}
