using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Ingest;

/// <summary>
/// The listen-port socket (default 20023) and its receive thread. Only HERALDs belong here:
/// each valid one (aux2 = 0) is told to the listener actor as a <see cref="Herald"/>, with the
/// local address it was sent to (IP_PKTINFO, which Akka.IO does not report). Everything else is
/// reported as <see cref="Dropped"/>, at most <see cref="DropReportLimit"/> times
/// a second so a flood cannot flood the log.
/// </summary>
public sealed class HeraldReceiver : IDisposable
{
    public const int DropReportLimit = 10;

    private readonly Socket _socket;
    private Thread? _thread;
    private volatile bool _stopping;

    private HeraldReceiver(Socket socket) => _socket = socket;

    /// <summary>A datagram on the listen port that is not a usable HERALD.</summary>
    public sealed record Dropped(IPEndPoint From, string Reason);

    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Counts every datagram dropped (the log hears of a few a second); set before <see cref="Start"/>.</summary>
    public Prometheus.Counter.Child? Drops { get; init; }

    /// <summary>Whether its receive thread is alive.</summary>
    internal bool Running => _thread?.IsAlive == true;

    /// <summary>Binds addr:port; a port in use throws <see cref="SocketException"/>.</summary>
    public static HeraldReceiver Bind(IPAddress address, int port, Prometheus.Counter.Child? drops = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            socket.Bind(new IPEndPoint(address, port));
            return new HeraldReceiver(socket) { Drops = drops };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Starts the receive thread, which tells <paramref name="listener"/> what arrives.</summary>
    public void Start(ControlEvents listener)
    {
        _thread = new Thread(() => Run(listener)) { IsBackground = true, Name = $"herald-{LocalEndpoint.Port}" };
        _thread.Start();
    }

    private void Run(ControlEvents listener)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        var dropReports = new ReportBudget(DropReportLimit);
        while (!_stopping)
        {
            int length;
            IPPacketInformation packetInfo;
            var flags = SocketFlags.None;
            var remote = any;
            try
            {
                length = _socket.ReceiveMessageFrom(buffer, ref flags, ref remote, out packetInfo);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.MessageSize)
            {
                continue;
            }
            catch (Exception) when (_stopping)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }

            if (_stopping)
            {
                break; // woken by Dispose
            }

            var from = (IPEndPoint)remote;
            var reason = Classify(buffer.AsSpan(0, length), out var header);
            if (reason is null)
            {
                var payload = buffer.AsSpan(MessageHeader.Size, length - MessageHeader.Size);
                var ok = HeraldPayload.TryReadPath(payload, out var path, out var problem);
                listener(new Herald(header.Sequence, from, packetInfo.Address, ok ? path : string.Empty, problem, DateTimeOffset.UtcNow));
                continue;
            }

            Drops?.Inc();
            if (dropReports.TryTake())
            {
                listener(new Dropped(from, reason));
            }
        }
    }

    private static string? Classify(ReadOnlySpan<byte> datagram, out MessageHeader header)
    {
        var error = MessageHeader.TryRead(datagram, out header);
        if (error != HeaderError.None)
        {
            return MessageHeader.Describe(error);
        }

        if (header.Type != MessageType.Herald)
        {
            return $"{header.Type} on the listen port";
        }

        return header.Aux2 != 0 ? $"HERALD with aux2 0x{header.Aux2:x8} (another debugnet user, e.g. netgdb)" : null;
    }

    /// <summary>
    /// Stops the receive thread without waiting for it (the listener calls this from its
    /// handlers). The thread waits without a timeout, so an idle listener costs nothing; closing
    /// the socket wakes it (.NET shuts a socket down when closing it under a blocking receive),
    /// and it ends, telling nobody anything more. The port is free once this returns.
    /// HeraldReceiverTests checks that the thread ends.
    /// </summary>
    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
    }
}
