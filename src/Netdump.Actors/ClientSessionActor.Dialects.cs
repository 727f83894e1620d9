using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Ingest.Linux;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// What a dump's packets mean, by dialect. A FreeBSD client pushes: its KDH is acked once the
/// writer is told it, its key once the writer stored it; FINISHED ends the dump, is acked once
/// everything is final and re-acked while the session lingers. A Linux client is pulled: it describes its memory, the
/// writer writes the ELF header, the pull fetches the pages, SHOW_STATE's console text follows,
/// and the quiet console ends the dump; the client is then rebooted (<see cref="ISessionChannel.LetGo"/>).
/// </summary>
public sealed partial class ClientSessionActor
{
    private PumpEvent.ControlPacket? _finished;

    /// <summary>The receiving state's packets of this client's dialect; true when the message was one of them.</summary>
    private bool DialectEvents(object message)
    {
        if (_herald.Dialect == Dialect.Linux)
        {
            return LinuxEvents(message);
        }

        switch (message)
        {
            case PumpEvent.ControlPacket packet:
                HandleControl(packet);
                return true;
            case DumpWriterActor.Stored stored:
                _channel!.SendAck(stored.Sequence);
                return true;
            default:
                return false;
        }
    }

    private bool LinuxEvents(object message)
    {
        switch (message)
        {
            case LinuxPull.Described d:
                if (d.RegistersProblem is { } problem)
                {
                    _log.Warning("Client {Client}: {Problem}; the core has no registers", ClientText, problem);
                }

                _writer.Tell(new DumpWriterActor.DescribeLinux(_herald.Linux!, d.Pages, d.PageSize, d.Registers));
                return true;
            case DumpWriterActor.LinuxDescribed d:
                // SPEC §7: the free-space check, then SEND_MEM. While netdump-nospace decides, the
                // pull waits as it does for a page that found no room: asked nothing until there is
                // room again (SpaceOk resumes it), and never if the dump is given up
                ((LinuxSessionChannel)_channel!).PullMemory(d.DataOffset, roomAwaited: _spaceState is SpaceState.ScriptRunning or SpaceState.Rechecking);
                return true;
            case LinuxPull.MemoryDone done:
                _writer.Tell(new DumpWriterActor.LinuxReserved(done.Reserved));
                ((LinuxSessionChannel)_channel!).ShowState();
                return true;
            case LinuxPull.ConsoleDone:
                FinishDump(); // what FINISHED is to a FreeBSD dump
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// The pump has stopped: a Linux dump's reserved frames as the pull has them go to the writer
    /// before its end, so that a dump ended before every page is in (the client gone, the disk
    /// full) lists those it met as reserved, not as received memory nor holes (SPEC §7). None
    /// before the pull (a dump that ended before its ack has a writer that never opened it).
    /// </summary>
    private void TellReservedFrames()
    {
        if (_channel is LinuxSessionChannel linux && linux.ReservedFrames is { Count: > 0 } frames)
        {
            _writer.Tell(new DumpWriterActor.LinuxReserved(frames));
        }
    }

    private void HandleControl(PumpEvent.ControlPacket packet)
    {
        if (packet.Type == MessageType.Finished)
        {
            _finished = packet;
            FinishDump();
        }
        else if (packet.Type == MessageType.Kdh)
        {
            _writer.Tell(new DumpWriterActor.KeepHeader(packet));
            _channel!.SendAck(packet.Sequence);
        }
        else
        {
            _writer.Tell(new DumpWriterActor.StoreKey(packet));
        }
    }

    /// <summary>The client says its dump is all there: the writer decides complete or incomplete.</summary>
    /// <summary>A Linux dump with every page in, waiting only for the console text SHOW_STATE prints.</summary>
    private bool LinuxMemoryIn => _channel is LinuxSessionChannel { MemoryIn: true };

    private void FinishDump()
    {
        CancelReceivingTimers();
        _writer.Tell(DumpWriterActor.ClientFinished.Instance);
        Become(Finishing());
    }

    /// <summary>
    /// The dump is final: a FreeBSD client that sent FINISHED gets its ack, and the session
    /// lingers to re-ack a retransmitted one; true then. Otherwise there is nothing to linger for.
    /// </summary>
    private bool AckFinishedAndLinger()
    {
        if (_finished is not { } finished || _channel is null)
        {
            return false;
        }

        _channel.SendAck(finished.Sequence);
        _channel.Lingering();
        Timers.StartSingleTimer(LingerTimer, LingerOver.Instance, _settings.Linger);
        return true;
    }
}
