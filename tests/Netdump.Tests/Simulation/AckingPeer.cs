using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Simulation;

/// <summary>
/// A minimal netdump server for testing the simulated client: a listen socket on 127.0.0.1
/// port 0 and a second "session" socket that sends every ack, as a real server acks from a
/// new port. It records each valid datagram (which socket it arrived on, header, payload) and
/// acks it unless <see cref="ShouldDrop"/> says otherwise.
/// </summary>
internal sealed class AckingPeer : IDisposable
{
    private static readonly IPEndPoint Any = new(IPAddress.Any, 0);

    private readonly Socket listen;
    private readonly Socket session;
    private readonly List<Packet> packets = [];
    private readonly Dictionary<uint, int> arrivals = [];
    private readonly Thread[] threads;
    private long vmcoreBytes;

    public AckingPeer(bool keepPayloads = true)
    {
        KeepPayloads = keepPayloads;
        listen = Bind();
        session = Bind();
        threads =
        [
            new Thread(() => Serve(listen, onListenPort: true)) { IsBackground = true, Name = "peer-listen" },
            new Thread(() => Serve(session, onListenPort: false)) { IsBackground = true, Name = "peer-session" },
        ];
        foreach (var thread in threads)
        {
            thread.Start();
        }
    }

    /// <summary>One recorded datagram; <paramref name="Index"/> is its arrival order across both sockets.</summary>
    public sealed record Packet(int Index, bool OnListenPort, IPEndPoint From, MessageHeader Header, byte[] Payload);

    public bool KeepPayloads { get; }

    /// <summary>(header, how often this seqno arrived before) -> true to leave it unacked.</summary>
    public Func<MessageHeader, int, bool>? ShouldDrop { get; init; }

    /// <summary>Called with the client's address before the first HERALD is acked.</summary>
    public Action<IPEndPoint>? BeforeFirstAck { get; init; }

    public IPEndPoint ListenEndPoint => (IPEndPoint)listen.LocalEndPoint!;

    public int SessionPort => ((IPEndPoint)session.LocalEndPoint!).Port;

    public long VmcoreBytes => Interlocked.Read(ref vmcoreBytes);

    public IReadOnlyList<Packet> Packets
    {
        get
        {
            lock (packets)
            {
                return [.. packets];
            }
        }
    }

    /// <summary>Waits until the recorded packets satisfy <paramref name="condition"/>.</summary>
    public bool WaitUntil(Func<IReadOnlyList<Packet>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (packets)
        {
            while (!condition(packets))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(packets, left))
                {
                    return condition(packets);
                }
            }

            return true;
        }
    }

    /// <summary>The payloads of <paramref name="type"/> placed at their offsets (duplicates overwrite with the same bytes).</summary>
    public byte[] Reassemble(MessageType type)
    {
        var parts = Packets.Where(p => p.Header.Type == type).ToList();
        var length = parts.Count == 0 ? 0 : parts.Max(p => (long)p.Header.Offset + p.Header.Length);
        var result = new byte[length];
        foreach (var part in parts)
        {
            part.Payload.CopyTo(result, (long)part.Header.Offset);
        }

        return result;
    }

    public void Dispose()
    {
        listen.Dispose();
        session.Dispose();
        foreach (var thread in threads)
        {
            thread.Join();
        }
    }

    private static Socket Bind()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        {
            ReceiveBufferSize = 4 << 20,
        };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private void Serve(Socket socket, bool onListenPort)
    {
        var buffer = new byte[65536];
        var ack = new byte[Ack.Size];
        var from = new SocketAddress(AddressFamily.InterNetwork);
        var heraldAcked = false;
        while (true)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var datagram = buffer.AsSpan(0, length);
            if (MessageHeader.TryRead(datagram, out var header) != HeaderError.None)
            {
                continue;
            }

            bool drop;
            lock (packets)
            {
                arrivals.TryGetValue(header.Sequence, out var before);
                arrivals[header.Sequence] = before + 1;
                drop = ShouldDrop?.Invoke(header, before) ?? false;
                var payload = KeepPayloads || header.Type != MessageType.Vmcore
                    ? datagram[MessageHeader.Size..].ToArray()
                    : [];
                var sender = (IPEndPoint)Any.Create(from);
                packets.Add(new Packet(packets.Count, onListenPort, sender, header, payload));
                Monitor.PulseAll(packets);
            }

            if (header.Type == MessageType.Vmcore)
            {
                Interlocked.Add(ref vmcoreBytes, header.Length);
            }

            if (drop)
            {
                continue;
            }

            if (onListenPort && !heraldAcked)
            {
                heraldAcked = true;
                BeforeFirstAck?.Invoke((IPEndPoint)Any.Create(from));
            }

            Ack.Write(ack, header.Sequence);
            try
            {
                session.SendTo(ack, SocketFlags.None, from);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }
}
