using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A FreeBSD client written out by hand, for tests that pace or shape its packets as the
/// simulated client does not: the HERALD, and bursts resent until every packet is acked.
/// </summary>
public static class RawClient
{
    /// <summary>A UDP socket bound to <paramref name="source"/> whose receives give up after 200 ms.</summary>
    public static Socket Bind(string source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 200 };
        socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
        return socket;
    }

    /// <summary>One datagram: the message header and its payload.</summary>
    public static byte[] Message(MessageType type, uint sequence, ulong offset, ReadOnlySpan<byte> payload)
    {
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(type, sequence, offset, (uint)payload.Length, 0).Write(datagram);
        payload.CopyTo(datagram.AsSpan(MessageHeader.Size));
        return datagram;
    }

    /// <summary>
    /// <paramref name="chunks"/> VMCORE messages of <paramref name="chunk"/> zero bytes from
    /// <paramref name="offset"/> on, numbered after <paramref name="sequence"/> (which is advanced).
    /// </summary>
    public static List<byte[]> Data(ref uint sequence, int offset, int chunks, int chunk)
    {
        var packets = new List<byte[]>(chunks);
        for (var i = 0; i < chunks; i++)
        {
            packets.Add(Message(MessageType.Vmcore, ++sequence, (ulong)(offset + i * chunk), new byte[chunk]));
        }

        return packets;
    }

    /// <summary>A valid amd64 kernel dump header for a dump of <paramref name="dumpLength"/> bytes.</summary>
    public static byte[] Kdh(ulong dumpLength, string hostname, string versionString, string panic)
    {
        var bytes = new byte[KernelDumpHeader.Size];
        new KernelDumpHeader(
            KernelDumpHeader.KernelDumpMagic, "amd64", KernelDumpHeader.SupportedVersion, ArchitectureVersion: 2,
            dumpLength, DumpTime: 1_709_989_507, DumpKeySize: 0, BlockSize: 512, hostname,
            versionString, panic, DumpCompression.None, DumpExtent: dumpLength, Parity: 0).Write(bytes);
        return bytes;
    }

    /// <summary>Sends the HERALD (seqno 1) until it is acked; returns the session's endpoint (the ack's source).</summary>
    public static IPEndPoint Herald(Socket socket, IPEndPoint server, string path = "")
    {
        var datagram = Message(MessageType.Herald, 1, 0, HeraldPayload.Encode(path));
        var buffer = new byte[16];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            socket.SendTo(datagram, server);
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                var n = socket.ReceiveFrom(buffer, ref from);
                if (Ack.TryRead(buffer.AsSpan(0, n), out var acked) && acked == 1)
                {
                    return (IPEndPoint)from;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        throw new TimeoutException("the HERALD was never acked");
    }

    /// <summary>What a FreeBSD client does with a burst: send it, then resend whatever was not acked.</summary>
    public static void SendUntilAcked(Socket socket, IPEndPoint session, IReadOnlyList<byte[]> packets)
    {
        var waiting = packets.ToDictionary(p => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4, 4)));
        var buffer = new byte[16];
        for (var attempt = 0; attempt < 50 && waiting.Count > 0; attempt++)
        {
            foreach (var packet in waiting.Values)
            {
                socket.SendTo(packet, session);
            }

            try
            {
                while (waiting.Count > 0)
                {
                    var n = socket.Receive(buffer);
                    if (Ack.TryRead(buffer.AsSpan(0, n), out var acked))
                    {
                        waiting.Remove(acked);
                    }
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        Assert.True(waiting.Count == 0, $"{waiting.Count} packets of a burst were never acked");
    }
}
