using System.Net;
using Akka.Actor;

namespace Netdump.Actors;

/// <summary>What the guard knows of a slot's holder and of a request waiting in line.</summary>
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
    private sealed record Holder(IPAddress Client, Stage Stage, long AckedAt = 0, (IActorRef Session, Holder Holder)? Inherited = null)
    {
        /// <summary>Acked, nothing since: a candidate to yield its slot.</summary>
        public bool Quiet => Stage == Stage.Acked;
    }

    private sealed record Waiting(IActorRef Session, IPAddress Client, long Since);
}
