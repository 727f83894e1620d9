using Akka.Actor;

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
        _drainRequester = Sender;
        _receiver?.Dispose();
        _receiver = null;
        foreach (var session in SessionChildren())
        {
            session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        }

        ReplyIfDrained();
    }

    private void ReplyIfDrained()
    {
        if (_drainRequester is not null && !SessionChildren().Any())
        {
            _drainRequester.Tell(Drained.Instance);
        }
    }
}
