using System.Net;
using Akka.Actor;

namespace Netdump.Actors;

/// <summary>What the guard knows of a slot's holder and of a request waiting in line, and how a slot is freed.</summary>
public sealed partial class ConcurrencyGuardActor
{
    /// <summary>Where a slot's holder stands, in the order it goes.</summary>
    private enum Stage
    {
        /// <summary>The fleet guard has not answered yet: the session was not told.</summary>
        AskingFleet,

        /// <summary>Told; its HERALD not acked yet (starting: never silent).</summary>
        Granted,

        /// <summary>Its HERALD acked, nothing since: silent once its grace is over.</summary>
        Acked,

        /// <summary>Data came (or is on its way): a dump under way.</summary>
        Active,
    }

    /// <summary>A slot's holder: its client, its stage, and when its HERALD was acked (ticks; from <see cref="Stage.Acked"/> on).</summary>
    /// <param name="Inherited">
    /// The session whose slot this one took over (a second panic of a client that is dumping),
    /// and its holder as it was: the old dump is told it was superseded only once the new one's
    /// HERALD is acked, and receives until then, so a new dump that ends before its ack gives the
    /// slot back to it.
    /// </param>
    /// <param name="Unreported">
    /// Still asking the fleet when a new fleet guard's recount asked for this node's slots, so left
    /// out: granted by the old guard after all, it is put to the new one.
    /// </param>
    private sealed record Holder(IPAddress Client, Stage Stage, long AckedAt = 0, (IActorRef Session, Holder Holder)? Inherited = null, bool Unreported = false)
    {
        /// <summary>Acked, nothing since: a candidate to yield its slot.</summary>
        public bool Quiet => Stage == Stage.Acked;
    }

    private sealed record Waiting(IActorRef Session, IPAddress Client, long Since);

    /// <summary>Frees <paramref name="session"/>'s slot (or its place in line); a superseding holder that ends before its ack gives the slot back to the dump it was to replace.</summary>
    private void Release(IActorRef session)
    {
        if (Equals(_askedToYield, session))
        {
            _askedToYield = null;
        }

        if (_holders.Remove(session, out var holder))
        {
            Context.Unwatch(session);
            ReleaseInFleet(session);
            if (holder is { Stage: Stage.Granted or Stage.AskingFleet, Inherited: var (old, oldHolder) })
            {
                // a new dump that ended before its HERALD's ack (its netdump-crash refused, no
                // session port, no directory): the dump it was to replace was never told and is
                // still receiving, so it holds the slot again. Watched again: one that has stopped
                // meanwhile is a Terminated at once, which frees the slot.
                _holders[old] = oldHolder;
                Context.Watch(old);
                _fleet?.Tell(new FleetGuardActor.Adopt(old));
            }

            PublishSlotsInUse();
        }
        else if (_waiting.FirstOrDefault(w => w.Session.Equals(session)) is { } waiting)
        {
            _waiting.Remove(waiting);
            Context.Unwatch(session);
        }
        else if (_holders.FirstOrDefault(h => h.Value.Inherited?.Session.Equals(session) == true) is { Key: { } heir, Value: var inheriting })
        {
            // a superseded dump that ended while the dump replacing it was still before its ack:
            // its slot is not to come back to it
            _holders[heir] = inheriting with { Inherited = null };
        }
    }
}
