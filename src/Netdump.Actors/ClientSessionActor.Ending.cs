using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// How a session ends. A dump that got nothing is discarded (<c>Discarding</c>) and, when
/// netdump-crash refused it, the refusal episode is waited out (<c>Refused</c>). Any other dump is
/// finalized by the writer (<c>Finishing</c>), then the session acks FINISHED, runs netdump-reboot
/// and waits for the linger time and for its writer's own stop (after a complete dump's hash, or
/// reports that waited for room) before it stops (<c>Closing</c>).
/// </summary>
public sealed partial class ClientSessionActor
{
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

    /// <summary>The empty dump is being removed; then the slot goes back and the session stops, or waits out a refusal.</summary>
    private UntypedReceive Discarding(bool thenRefuse) => message =>
    {
        switch (message)
        {
            case DumpWriterActor.Discarded:
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

                break;
            case Terminated terminated:
                OnTerminated(terminated);
                break;
            default:
                KeepSlot(message); // and whatever else comes is dropped
                break;
        }
    };

    /// <summary>
    /// netdump-crash refused the dump: the client's retransmitted HERALDs come here and are
    /// ignored, so the script runs once per refusal episode, not once per retry. The episode
    /// ends <c>refusal_episode</c> after the last HERALD; a HERALD after that is a new dump.
    /// </summary>
    private void Refused(object message)
    {
        switch (message)
        {
            case Herald:
                Timers.StartSingleTimer(RefusalTimer, RefusalOver.Instance, _settings.RefusalEpisode);
                break;
            case RefusalOver:
                Context.Stop(Self);
                break;
            case ServerShuttingDown:
                Context.Stop(Self);
                break;
            case Terminated:
                break;
            default:
                KeepSlot(message); // and whatever else comes is dropped
                break;
        }
    }

    /// <summary>The pump has stopped: nothing writes into the core any more.</summary>
    private sealed class PumpStopped
    {
        public static readonly PumpStopped Instance = new();
        private PumpStopped() { }
    }

    /// <summary>The dump ends before FINISHED: the pump stops acking, and the writer finishes the dump once the pump has left.</summary>
    private void EndIncomplete(EndReason reason, string? supersededBy = null) => StopPumpThen(new DumpWriterActor.EndNow(reason, supersededBy));

    /// <summary>
    /// The server stops while a Linux client sends its console text after its last page: the
    /// pull stops, and the dump ends as its data decides (a core with every page is complete,
    /// SPEC §7); only the console text still to come is lost.
    /// </summary>
    private void FinishWithoutConsole() => StopPumpThen(DumpWriterActor.ClientFinished.Instance, stopping: true);

    private void StopPumpThen(DumpWriterActor.IEnding end, bool stopping = false)
    {
        CancelReceivingTimers();
        var self = Self;
        _channel!.Stop(() => self.Tell(PumpStopped.Instance));
        Become(StoppingPump(end, stopping));
    }

    /// <summary>
    /// Waits for the pump to leave (at once, unless it is inside a write), so that no write races
    /// the writer's final fsync; the actor's thread is not held meanwhile. <paramref name="end"/>:
    /// what the writer is told then (<see cref="DumpWriterActor.EndNow"/>, or
    /// <see cref="DumpWriterActor.ClientFinished"/> when the data decides). <paramref name="stopping"/>:
    /// the server is stopping (see <see cref="Finishing"/>).
    /// </summary>
    private UntypedReceive StoppingPump(DumpWriterActor.IEnding end, bool stopping = false) => message =>
    {
        switch (message)
        {
            case PumpStopped:
                TellReservedFrames();
                _writer.Tell(end);
                Become(Finishing(stopping));
                break;
            case ServerShuttingDown:
                Become(StoppingPump(end, stopping: true));
                break;
            case Terminated terminated:
                OnTerminated(terminated);
                break;
            default:
                KeepSlot(message); // retransmits wait for the final answer; the pump's last events are dropped
                break;
        }
    };

    /// <summary>
    /// Waits for the writer's end of the dump. When the server is stopping (<paramref name="stopping"/>,
    /// told now or before), the session stops as soon as the dump is final and its FINISHED acked:
    /// not after the linger time nor the writer's hash, which the drain does not wait for
    /// (<c>shutdown_timeout</c>), as a session told in <see cref="Closing"/> does not.
    /// </summary>
    private UntypedReceive Finishing(bool stopping = false) => message =>
    {
        switch (message)
        {
            case DumpWriterActor.Finalized f:
                var r = f.Record;
                ReleaseSlot();
                Context.Parent.Tell(new UdpListenerActor.ReceivingEnded(_herald.Client.Address));
                // the writer stops itself once the dump needs nothing more of it (a hash, reports
                // waiting for room): stopping it sooner would abandon them
                var awaited = AckFinishedAndLinger() ? Awaited.Linger | Awaited.Writer : Awaited.Writer;
                // after the ack: the client waits for that, not for the line and the metrics
                LogEnd(r);
                _metrics.Finished(r.Status, r.Reason, DateTimeOffset.UtcNow - r.ReceivedAt);

                if (r.SupersededBy is null)
                {
                    // the client is about to reboot (a superseded client is not: it is dumping again)
                    TryRunScript(Script.Reboot, r.Status, r.Reason, r, _settings.ScriptTimeout);
                }

                Become(Closing(stopping ? Awaited.Nothing : awaited, f.Reported));
                break;
            case DumpWriterActor.Stored stored:
                _channel?.SendAck(stored.Sequence);
                break;
            case PumpEvent.Dropped d:
                LogDropped(d);
                break;
            case ServerShuttingDown:
                Become(Finishing(stopping: true));
                break;
            case Terminated terminated:
                OnTerminated(terminated);
                break;
            default:
                KeepSlot(message); // retransmits wait for the final answer
                break;
        }
    };

    /// <summary>What a closing session still waits for, besides netdump-reboot (<see cref="_pendingScripts"/>).</summary>
    [Flags]
    private enum Awaited
    {
        Nothing = 0,

        /// <summary>The linger time after FINISHED's ack, in which a client that missed the ack sends FINISHED again.</summary>
        Linger = 1,

        /// <summary>
        /// The writer's own stop, once the dump needs nothing more of it: a complete dump's hash,
        /// reports that found no room yet.
        /// </summary>
        Writer = 2,

        Everything = Linger | Writer,
    }

    /// <summary>
    /// After the dump: re-ack FINISHED while it lingers, and wait for netdump-reboot and for the
    /// writer's own stop, after its checksum and reports (stopping the writer sooner would
    /// abandon them). What is still awaited lives in this state alone; with nothing to
    /// wait for the session stops at once.
    /// </summary>
    private UntypedReceive Closing(Awaited awaited, bool reported)
    {
        void StopWhenDone(Awaited over = Awaited.Nothing)
        {
            awaited &= ~over;
            if (_pendingScripts.Contains(Script.Reboot))
            {
                return;
            }

            if (reported)
            {
                // final, reported, and netdump-reboot has run (SPEC §7: fsync, reports, then the
                // reboot): a Linux client, frozen in netdump mode, is told to reboot now, not once
                // the writer's hash of a large core is over; reports that wait for room wait for
                // the writer's stop, as the session's does (PostStop)
                _channel?.LetGo();
            }

            if (awaited == Awaited.Nothing)
            {
                Context.Stop(Self);
            }
        }

        StopWhenDone();
        return message =>
        {
            switch (message)
            {
                case PumpEvent.ControlPacket p when p.Type == MessageType.Finished:
                    _channel!.SendAck(p.Sequence);
                    break;
                case ScriptResult r when r.Script == Script.Reboot:
                    StopWhenDone();
                    break;
                case LingerOver:
                    StopWhenDone(Awaited.Linger);
                    break;
                case PumpEvent.Dropped d:
                    LogDropped(d);
                    break;
                case ServerShuttingDown:
                    // shutdown does not wait for a hash, which may take minutes: the dump keeps its
                    // final reports without one (docs/operations.md); nor for room for reports that
                    // have none (the writer tries once more as it stops)
                    StopWhenDone(Awaited.Everything);
                    break;
                case Terminated t when t.ActorRef.Equals(_writer):
                    StopWhenDone(Awaited.Writer);
                    break;
                case Terminated t when t.ActorRef.Equals(_scripts):
                    ScriptsLost();
                    break;
                default:
                    KeepSlot(message); // and whatever else comes is dropped
                    break;
            }
        };
    }

    private void LogEnd(DumpRecord r)
    {
        var seconds = Math.Max((DateTimeOffset.UtcNow - r.ReceivedAt).TotalSeconds, 0.001);
        var status = r.Reason is { } why ? $"{DumpJson.StatusName(r.Status)} ({why.Text})" : DumpJson.StatusName(r.Status);
        var counters = _channel?.Counters ?? default;
        // a small core's hash came before the ack (DumpWriterActor.ChecksumBeforeAckBytes): said
        // here, not on a line of its own as a larger core's is once computed
        var transfer = $"{r.BytesReceived} bytes ({ByteUnits.Size(r.BytesReceived)}) in {seconds:F1} s ({ByteUnits.Rate(r.BytesReceived / seconds)}), "
            + $"{counters.Packets} packets, {counters.Dropped} dropped datagrams{(r.Sha256 is { } sha256 ? $", SHA-256 {sha256}" : "")}";
        if (r.Header is { } header)
        {
            // a FreeBSD client sends its KDH after all its data, just before FINISHED: its host and
            // panic are said here, not on a line of their own a few milliseconds earlier (each
            // line costs every dump about 0.1 ms; docs/performance.md). The strings are the
            // client's: one line each, so they cannot forge log lines.
            _log.Info("Client {Client}: dump {Status} in {Dir}: {Host}, panic \"{Panic}\", {Transfer}; {Start}",
                [ClientText, status, r.Directory, DumpReport.OneLine(header.Hostname), DumpReport.OneLine(header.PanicString), transfer, StartFacts()]);
            return;
        }

        _log.Info("Client {Client}: dump {Status} in {Dir}: {Transfer}; {Start}", ClientText, status, r.Directory, transfer, StartFacts());
    }
}
