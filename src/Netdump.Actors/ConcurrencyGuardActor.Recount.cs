using System.Net;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;

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

    private void Recounting()
    {
        Receive<UdpListenerActor.Sessions>(sessions =>
        {
            foreach (var session in sessions.Refs)
            {
                _unconfirmed.Add(session);
                Context.Watch(session);
                session.Tell(ConfirmSlot.Instance);
            }

            FinishRecountIfDone();
        });
        Receive<SlotHeld>(held =>
        {
            if (_unconfirmed.Remove(Sender))
            {
                // an acked session's silence is counted from the recount: the conservative choice
                _holders[Sender] = new Holder(held.Client, held.Active, held.Acked ? Environment.TickCount64 : null);
            }

            FinishRecountIfDone();
        });
        Receive<NoSlot>(_ =>
        {
            if (_unconfirmed.Remove(Sender))
            {
                Context.Unwatch(Sender);
            }

            FinishRecountIfDone();
        });
        Receive<ReleaseSlot>(_ => Release(Sender));
        Receive<SlotActive>(_ => Update(Sender, h => h with { Active = true }));
        Receive<Terminated>(t =>
        {
            _unconfirmed.Remove(t.ActorRef);
            Release(t.ActorRef);
            FinishRecountIfDone();
        });
        ReceiveAny(_ => Stash.Stash());
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
