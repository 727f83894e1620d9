using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Ingest;

/// <summary>A hand-made client on a loopback address: raw datagrams and acks, for tests below the simulated client.</summary>
internal static class Loopback
{
    public static Socket Bound(string address)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 3000 };
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
        return socket;
    }

    public static uint ReceiveAck(Socket socket)
    {
        var buffer = new byte[16];
        var n = socket.Receive(buffer);
        Assert.True(Ack.TryRead(buffer.AsSpan(0, n), out var sequence));
        return sequence;
    }

    public static byte[] Datagram(MessageType type, uint sequence, ulong offset, byte[] payload, uint aux2 = 0)
    {
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(type, sequence, offset, (uint)payload.Length, aux2).Write(datagram);
        payload.CopyTo(datagram, MessageHeader.Size);
        return datagram;
    }
}
