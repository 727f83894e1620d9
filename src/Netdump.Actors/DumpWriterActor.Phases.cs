using Akka.Actor;

namespace Netdump.Actors;

/// <summary>The writer's phases and which messages each takes.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>Where the writer is in its dump's life; each phase takes its own messages.</summary>
    private enum Phase
    {
        /// <summary>Waiting for <see cref="Open"/> (a failed open stays here until the session stops the writer).</summary>
        Opening,

        /// <summary>The core is open and the pump writes it: headers, flush ticks, space, until the end.</summary>
        Receiving,

        /// <summary>The final reports are written (<see cref="DumpWriterActor.Finalized"/> answered); a complete dump's checksum is on its way, and the writer stops once it is in them.</summary>
        Final,

        /// <summary>
        /// The dump is final (<see cref="DumpWriterActor.Finalized"/> answered) but its reports found no
        /// room: written again at each flush interval, then <see cref="Final"/>.
        /// </summary>
        Unreported,

        /// <summary>A refused dump's directory is gone (<see cref="DumpWriterActor.Discarded"/> answered).</summary>
        Discarded,
    }

    // switches, not ReceiveActor's handlers: those are built again for every writer, and a crash
    // storm makes hundreds of writers at once, each before its dump's HERALD is acked
    protected override void OnReceive(object message)
    {
        switch (_phase)
        {
            case Phase.Opening when message is Open:
                HandleOpen();
                break;
            case Phase.Opening when message is ClientFinished or EndNow or Discard:
                // the open failed (or never came): there is no dump to end, and a session that
                // moved on before it heard OpenFailed (a shutdown) learns it from the stop
                Context.Stop(Self);
                break;
            case Phase.Receiving:
                Receiving(message);
                break;
            case Phase.Final when message is ChecksumComputed computed:
                HandleChecksum(computed);
                break;
            case Phase.Final when message is ChecksumNotWritten notWritten:
                HandleChecksumNotWritten(notWritten);
                break;
            case Phase.Final when message is ChecksumFailed failed:
                HandleChecksumFailure(failed);
                break;
            case Phase.Unreported when message is RetryReports:
                RetryFinalReports();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Receiving(object message)
    {
        switch (message)
        {
            case KeepHeader header:
                KeepKernelDumpHeader(header.Packet);
                break;
            case StoreKey key:
                HandleStoreKey(key.Packet);
                break;
            case FlushTick:
                HandleFlushTick();
                break;
            case CheckSpace:
                Sender.Tell(MeasureSpace() ?? MeasureSharedRoom() ?? (object)SpaceOk.Instance);
                break;
            case ClientFinished:
                HandleFinish(imposed: null, supersededBy: null);
                break;
            case EndNow end:
                HandleFinish(end.Reason, end.SupersededBy);
                break;
            case DescribeLinux describe:
                HandleDescribeLinux(describe);
                break;
            case LinuxReserved reserved:
                // none is met before the memory is described (no pull yet)
                _linux = _linux is null ? null : _linux with { Reserved = reserved.Frames };
                break;
            case Discard:
                HandleDiscard();
                break;
            default:
                Unhandled(message);
                break;
        }
    }
}
