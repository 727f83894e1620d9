using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// The free-space decision of a receiving dump (SPEC §5): low space, or a write that found no
/// room, runs netdump-nospace once; a non-zero exit checks once more and goes on if there is
/// room; exit 0, or still no room, gives the dump up as "no space".
/// </summary>
public sealed partial class ClientSessionActor
{
    private enum SpaceState
    {
        /// <summary>No shortage yet: the next one runs netdump-nospace.</summary>
        Untried,

        /// <summary>netdump-nospace is running; shortages meanwhile wait for its answer.</summary>
        ScriptRunning,

        /// <summary>It exited non-zero: the writer measures once more.</summary>
        Rechecking,

        /// <summary>It ran and there was room after it: the next shortage gives up.</summary>
        ScriptSpent,
    }

    private SpaceState _spaceState = SpaceState.Untried;

    /// <summary>The receiving state's free-space events; true when the message was one of them.</summary>
    private bool SpaceEvents(object message)
    {
        switch (message)
        {
            case DumpWriterActor.LowSpace low:
                HandleLowSpace(low);
                return true;
            case PumpEvent.OutOfRoom room:
                // the pump waits (takes and acks nothing) while netdump-nospace or the check after it decides
                if (_spaceState is SpaceState.Untried or SpaceState.ScriptSpent)
                {
                    HandleLowSpace(new DumpWriterActor.LowSpace(_space.Available, _settings.MinFreeSpace + room.Length));
                }

                return true;
            case DumpWriterActor.SpaceOk:
                _spaceState = SpaceState.ScriptSpent;
                _channel!.ResumeWrites();
                _log.Info("Client {Client}: there is room again after netdump-nospace; the dump goes on", ClientText);
                return true;
            case ScriptResult result when result.Script == Script.Nospace:
                if (result.ExitedZero)
                {
                    GiveUpForSpace("netdump-nospace exited 0");
                }
                else
                {
                    _spaceState = SpaceState.Rechecking;
                    _writer.Tell(DumpWriterActor.CheckSpace.Instance);
                }

                return true;
            default:
                return false;
        }
    }

    private void HandleLowSpace(DumpWriterActor.LowSpace low)
    {
        switch (_spaceState)
        {
            case SpaceState.ScriptRunning:
                return; // netdump-nospace is deciding; its answer (and the check after it) decides
            case SpaceState.Rechecking or SpaceState.ScriptSpent:
                GiveUpForSpace($"{low.Available} bytes ({ByteUnits.Size(low.Available)}) free, {low.Needed} bytes ({ByteUnits.Size(low.Needed)}) needed");
                return;
        }

        _spaceState = SpaceState.ScriptRunning;
        _log.Warning("Client {Client}: {Available} bytes ({AvailableSize}) free on the dump file system, {Needed} bytes ({NeededSize}) needed; running netdump-nospace",
            ClientText, low.Available, ByteUnits.Size(low.Available), low.Needed, ByteUnits.Size(low.Needed));
        if (!TryRunScript(Script.Nospace, DumpStatus.Receiving, null, null, _settings.ScriptTimeout))
        {
            // absent: told as its answer, so that one handler decides what follows either way
            Self.Tell(ScriptResult.NotInstalled(Script.Nospace));
        }
    }

    private void GiveUpForSpace(string why)
    {
        _log.Warning("Client {Client}: no space for the dump, even after netdump-nospace ({Why}); giving up", ClientText, why);
        EndIncomplete(EndReason.NoSpace);
    }
}
