using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Netdump.Actors.Configuration;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest;

/// <summary>
/// A session's own UDP socket on (the HERALD's local address, an ephemeral port) and the
/// thread that pumps it. Where a data packet goes: <c>ReceiveFrom</c> → header check → source
/// check → <see cref="CoreFile.Write"/> at its offset → 4-byte ack to the packet's source, all on
/// this thread, with no allocation. Everything else becomes a <see cref="PumpEvent"/> for the
/// session actor, which decides. After FINISHED the pump is sealed: it writes nothing more and
/// re-acks only data it already holds.
/// </summary>
public sealed class UdpSessionChannel : ISessionChannel
{

    private readonly Socket _socket;
    private readonly ReportBudget _dropReports = new(10);
    private readonly IPAddress _client;
    private readonly byte[] _clientBytes;
    private Thread? _thread;
    private volatile bool _stopping;
    private volatile bool _hasData;
    private bool _sealed;
    private bool _failed;
    private long _lastPacket = Environment.TickCount64;
    private long _packets;
    private long _dropped;
    private long _foreign;

    public UdpSessionChannel(IPAddress local, IPAddress client, PortRange? ports = null)
    {
        _client = client;
        _clientBytes = client.GetAddressBytes();
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.ReceiveTimeout = 250;
            Bind(local, ports);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The production factory.</summary>
    public static SessionChannelFactory Factory { get; } = (local, client, ports) => new UdpSessionChannel(local, client, ports);

    /// <summary>Binds an ephemeral port, or the first free port of the range starting at a random one.</summary>
    private void Bind(IPAddress local, PortRange? ports)
    {
        if (ports is null)
        {
            _socket.Bind(new IPEndPoint(local, 0));
            return;
        }

        var start = Random.Shared.Next(ports.Count);
        for (var i = 0; i < ports.Count; i++)
        {
            try
            {
                _socket.Bind(new IPEndPoint(local, ports.First + (start + i) % ports.Count));
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
            }
        }

        throw new SocketException((int)SocketError.AddressAlreadyInUse, $"no free session port in {ports}");
    }

    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    public long LastPacketTicks => Interlocked.Read(ref _lastPacket);

    public bool HasData => _hasData;

    public PumpCounters Counters => new(Interlocked.Read(ref _packets), Interlocked.Read(ref _dropped), Interlocked.Read(ref _foreign));

    public void Start(CoreFile core, IActorRef session)
    {
        _thread = new Thread(() => Run(core, session)) { IsBackground = true, Name = $"session-{_client}" };
        _thread.Start();
    }

    public void SendAck(uint sequence, IPEndPoint to)
    {
        Span<byte> ack = stackalloc byte[Ack.Size];
        Ack.Write(ack, sequence);
        try
        {
            _socket.SendTo(ack, SocketFlags.None, to);
        }
        catch (ObjectDisposedException)
        {
            // the session is closing; the client will retransmit into a closed port
        }
        catch (SocketException)
        {
            // one lost ack costs nothing: the client resends the packet
        }
    }

    private void Run(CoreFile core, IActorRef session)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var from = new SocketAddress(AddressFamily.InterNetwork);
        while (!_stopping)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.MessageSize or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (Exception) when (_stopping)
            {
                break;
            }
            catch (Exception e)
            {
                session.Tell(new PumpEvent.Faulted(e.Message));
                break;
            }

            try
            {
                Handle(buffer.AsSpan(0, length), from, core, session);
            }
            catch (Exception) when (_stopping)
            {
                break;
            }
            catch (Exception e)
            {
                session.Tell(new PumpEvent.Faulted(e.Message));
                break;
            }
        }
    }

    private void Handle(Span<byte> datagram, SocketAddress from, CoreFile core, IActorRef session)
    {
        if (!IsFromClient(from))
        {
            Interlocked.Increment(ref _foreign);
            return;
        }

        var error = MessageHeader.TryRead(datagram, out var header);
        if (error != HeaderError.None)
        {
            Interlocked.Increment(ref _dropped);
            if (_dropReports.TryTake())
            {
                var reason = error == HeaderError.UnknownType
                    ? $"unknown message type {(uint)header.Type}"
                    : MessageHeader.Describe(error);
                session.Tell(new PumpEvent.Dropped(ToEndPoint(from), reason));
            }

            return;
        }

        Interlocked.Increment(ref _packets);
        Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
        var payload = datagram[MessageHeader.Size..];
        switch (header.Type)
        {
            case MessageType.Vmcore:
                HandleData(core, session, header, payload, from);
                break;
            case MessageType.Herald:
                session.Tell(new PumpEvent.HeraldRetransmitted(header.Sequence, ToEndPoint(from)));
                break;
            default:
                _hasData = true;
                _sealed |= header.Type == MessageType.Finished;
                session.Tell(new PumpEvent.ControlPacket(header.Type, header.Sequence, header.Offset, payload.ToArray(), ToEndPoint(from)));
                break;
        }
    }

    private void HandleData(CoreFile core, IActorRef session, in MessageHeader header, ReadOnlySpan<byte> payload, SocketAddress from)
    {
        if (_failed)
        {
            return;
        }

        if (_sealed)
        {
            // after FINISHED only a late duplicate of data we hold is acked; nothing is written
            if (header.End is { } end && core.Covers(header.Offset, end))
            {
                Acknowledge(header.Sequence, from);
            }
            else
            {
                Interlocked.Increment(ref _dropped);
            }

            return;
        }

        if (!_hasData)
        {
            _hasData = true;
            session.Tell(new PumpEvent.FirstData(header.Offset));
        }

        switch (core.Write(header.Offset, payload))
        {
            case CoreWriteResult.Written:
                Acknowledge(header.Sequence, from);
                break;
            case CoreWriteResult.BeyondLimit:
                _failed = true;
                session.Tell(new PumpEvent.WriteFailed(
                    $"write of {payload.Length} bytes at offset {header.Offset} is beyond max_dump_size {core.MaxSize}"));
                break;
            default:
                _failed = true;
                session.Tell(new PumpEvent.WriteFailed($"write error at offset {header.Offset}: {core.LastError}"));
                break;
        }
    }

    private void Acknowledge(uint sequence, SocketAddress to)
    {
        Span<byte> ack = stackalloc byte[Ack.Size];
        Ack.Write(ack, sequence);
        try
        {
            _socket.SendTo(ack, SocketFlags.None, to);
        }
        catch (SocketException)
        {
            // a transient send error loses this ack only; the client resends the packet
        }
    }

    // sockaddr_in: family (2 bytes), port (2), address (4)
    private bool IsFromClient(SocketAddress from) => from.Buffer.Span.Slice(4, 4).SequenceEqual(_clientBytes);

    private static IPEndPoint ToEndPoint(SocketAddress address) =>
        (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }
    }
}
