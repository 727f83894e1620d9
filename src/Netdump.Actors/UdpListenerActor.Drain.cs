using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;

namespace Netdump.Actors;

/// <summary>The drain at server shutdown: no more HERALDs, every session told to end, <see cref="Drained"/> once all have stopped.</summary>
public sealed partial class UdpListenerActor
{
    /// <summary>
    /// Server shutdown: stop taking HERALDs, tell every session <see cref="ClientSessionActor.ServerShuttingDown"/>
    /// and answer <see cref="Drained"/> once they have all stopped.
    /// </summary>
    public sealed class Drain
    {
        public static readonly Drain Instance = new();
        private Drain() { }
    }

    public sealed class Drained
    {
        public static readonly Drained Instance = new();
        private Drained() { }
    }

    private void StartDrain()
    {
        var requester = Sender;
        _receiver?.Dispose();
        _receiver = null;
        foreach (var session in SessionChildren())
        {
            session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        }

        Become(Draining(requester));
        ReplyIfDrained(requester);
    }

    /// <summary>
    /// No new dump starts (a HERALD that still comes, on the Linux port, goes only to a session of
    /// its client that is ending, and a session's <see cref="Supersede"/> is refused);
    /// <paramref name="requester"/> hears <see cref="Drained"/> once
    /// the last session has stopped. Everything else is handled as before.
    /// </summary>
    private UntypedReceive Draining(IActorRef requester) => message =>
    {
        switch (message)
        {
            case Herald herald:
                if (_receiving.TryGetValue(herald.Client.Address, out var session))
                {
                    session.Tell(herald);
                }

                break;
            case Supersede supersede:
                // a session that heard its client's new HERALD just before it was told to end:
                // no new dump either (one started now would never hear of the shutdown)
                _log.Info("Client {Client}: new HERALD while the server stops: no new dump", supersede.Herald.Client.Address);
                break;
            case Terminated t:
                SessionStopped(t.ActorRef);
                ReplyIfDrained(requester);
                break;
            default:
                OnReceive(message);
                break;
        }
    };

    private void ReplyIfDrained(IActorRef requester)
    {
        if (!SessionChildren().Any())
        {
            requester.Tell(Drained.Instance);
        }
    }

    /// <summary>A session stopped: its client may start a new dump, and the gauge counts one fewer.</summary>
    private void SessionStopped(IActorRef stopped)
    {
        foreach (var (client, session) in _receiving.Where(kv => kv.Value.Equals(stopped)).ToList())
        {
            Forget(client, session);
        }

        _metrics.Sessions.Set(SessionChildren().Count(child => !child.Equals(stopped)));
    }
}
