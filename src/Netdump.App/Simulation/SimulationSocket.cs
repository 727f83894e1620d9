using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Netdump.App.Simulation;

/// <summary>The UDP socket work both simulated clients share: binding it, and waiting for a datagram while noticing cancellation.</summary>
internal static class SimulationSocket
{
    /// <exception cref="SocketException">The address or port cannot be bound.</exception>
    public static Socket Bind(IPAddress source, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SendBufferSize = 1 << 20;
            socket.ReceiveBufferSize = 1 << 20;
        }
        catch (SocketException)
        {
            // The defaults work too, a little slower.
        }

        try
        {
            socket.Bind(new IPEndPoint(source, port));
        }
        catch (SocketException)
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    /// <summary>
    /// Waits until a datagram can be read (true) or the <see cref="Stopwatch"/> timestamp
    /// <paramref name="deadline"/> passes (false).
    /// </summary>
    public static bool WaitReadable(Socket socket, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = deadline - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return false;
            }

            // Wake at least every 50 ms so that cancellation is noticed.
            var microseconds = (int)Math.Min(remaining * 1_000_000 / Stopwatch.Frequency, 50_000);
            if (socket.Poll(microseconds, SelectMode.SelectRead))
            {
                return true;
            }
        }
    }

    /// <summary>Whether a received sockaddr_in (family, port at 2, address at 4) comes from <paramref name="address"/>.</summary>
    public static bool From(SocketAddress from, byte[] address) =>
        from.Family == AddressFamily.InterNetwork && from.Buffer.Span.Slice(4, 4).SequenceEqual(address);
}
