using Akka.Actor;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>After a restart: the slots counted again from the live sessions before any request is served.</summary>
public sealed partial class ConcurrencyGuardActor
{
    protected override void PostRestart(Exception reason)
    {
        _log.Warning("Concurrency guard restarted after {Error}; recounting slots from the live sessions", reason.Message);
        Become(Recounting);
        Context.Parent.Tell(UdpListenerActor.ListSessions.Instance);
    }

    private void Recounting(object message)
    {
        switch (message)
        {
            case UdpListenerActor.Sessions sessions:
                foreach (var session in sessions.Refs)
                {
                    _unconfirmed.Add(session);
                    Context.Watch(session);
                    session.Tell(ConfirmSlot.Instance);
                }

                FinishRecountIfDone();
                break;
            case SlotHeld held:
                if (_unconfirmed.Remove(Sender))
                {
                    // an acked session's silence is counted from the recount: the conservative choice
                    _holders[Sender] = held.Active ? new Holder(held.Client, Stage.Active)
                        : held.Acked ? new Holder(held.Client, Stage.Acked, Environment.TickCount64)
                        : new Holder(held.Client, Stage.Granted);
                }

                FinishRecountIfDone();
                break;
            case NoSlot:
                if (_unconfirmed.Remove(Sender))
                {
                    Context.Unwatch(Sender);
                }

                FinishRecountIfDone();
                break;
            case ReleaseSlot:
                Release(Sender);
                break;
            case SlotActive when _unconfirmed.Contains(Sender):
                // the pump's word, sent from its own thread, can overtake the session's answer,
                // read just before the first data came: kept for when the session is a holder again
                Stash.Stash();
                break;
            case SlotActive:
                Update(Sender, h => h with { Stage = Stage.Active });
                break;
            case Terminated t:
                _unconfirmed.Remove(t.ActorRef);
                Release(t.ActorRef);
                FinishRecountIfDone();
                break;
            default:
                Stash.Stash();
                break;
        }
    }

    private void FinishRecountIfDone()
    {
        if (_unconfirmed.Count > 0)
        {
            return;
        }

        _log.Info("Concurrency guard recounted {Count} dumps in progress", _holders.Count);
        PublishSlotsInUse();
        Become(Ready);
        Stash.UnstashAll();
    }
}
