using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Configuration;

namespace Netdump.Actors.Ingest;

/// <summary>
/// Binds session sockets: to an ephemeral port, or to a free port of <c>session_ports</c>.
/// A lingering session (its dump over, its socket kept only to re-ack a retransmitted
/// FINISHED) holds a port that a new dump needs more: when every port of the range is taken,
/// the port of the session that has lingered longest is taken back (its socket closed) and the
/// new dump gets it. One per listener; used from the sessions' actor threads.
/// </summary>
internal sealed class SessionPorts(PortRange? range)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<UdpSessionChannel> _lingering = [];

    /// <summary>Binds <paramref name="socket"/> on <paramref name="local"/>; throws <see cref="SocketException"/> when no port is free.</summary>
    public void Bind(Socket socket, IPAddress local)
    {
        if (range is null)
        {
            socket.Bind(new IPEndPoint(local, 0));
            return;
        }

        while (!TryBindInRange(socket, local))
        {
            if (TakeLongestLingering(local) is not { } lingering)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse,
                    $"no free session port in {range}: every port is held by a dump being received");
            }

            lingering.Dispose(); // its port is free once this returns
        }
    }

    /// <summary>Tries each port of the range once, from a random one.</summary>
    private bool TryBindInRange(Socket socket, IPAddress local)
    {
        var start = Random.Shared.Next(range!.Count);
        for (var i = 0; i < range.Count; i++)
        {
            try
            {
                socket.Bind(new IPEndPoint(local, range.First + (start + i) % range.Count));
                return true;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
            }
        }

        return false;
    }

    /// <summary>The channel's dump is over: its port may be taken back.</summary>
    public void Lingers(UdpSessionChannel channel)
    {
        if (range is not null)
        {
            lock (_lock) _lingering.AddLast(channel);
        }
    }

    /// <summary>The channel closed: its port is free and no longer lingers.</summary>
    public void Closed(UdpSessionChannel channel)
    {
        if (range is not null)
        {
            lock (_lock) _lingering.Remove(channel);
        }
    }

    /// <summary>The session lingering longest on <paramref name="local"/> (a port is taken per local address).</summary>
    private UdpSessionChannel? TakeLongestLingering(IPAddress local)
    {
        lock (_lock)
        {
            for (var node = _lingering.First; node is not null; node = node.Next)
            {
                if (node.Value.BoundAddress.Equals(local))
                {
                    _lingering.Remove(node);
                    return node.Value;
                }
            }

            return null;
        }
    }
}
