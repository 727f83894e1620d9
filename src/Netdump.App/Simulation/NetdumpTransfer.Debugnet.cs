using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary><c>debugnet_send</c>: one message's burst of packets, resent while unacked, and the acks that come back.</summary>
internal sealed partial class NetdumpTransfer
{
    private const int MaxInFlight = 64;

    private readonly SocketAddress from = new(AddressFamily.InterNetwork);
    private readonly byte[] receiveBuffer = new byte[65536];

    // The burst in flight (one debugnet_send call).
    private readonly long[] packetOffsets = new long[MaxInFlight];
    private readonly int[] packetStarts = new int[MaxInFlight];
    private readonly int[] packetLengths = new int[MaxInFlight];
    private readonly int[] order = new int[MaxInFlight];
    private int packetCount;
    private uint burstBase;
    private ulong want;
    private ulong acked;

    /// <summary>
    /// One <c>debugnet_send</c>: cuts <paramref name="data"/> into packets, sends them, resends
    /// the unacked ones every <see cref="SimulationOptions.ResendAfter"/> and gives up after
    /// <see cref="SimulationOptions.MaxSends"/> transmissions. On success the seqno advances by
    /// the number of packets.
    /// </summary>
    private bool Call(MessageType type, ReadOnlySpan<byte> data, long start, out string error)
    {
        error = "";
        var done = 0;
        packetCount = 0;
        do
        {
            var length = Math.Min(data.Length - done, maxPayload);
            packetOffsets[packetCount] = start + done;
            packetStarts[packetCount] = done;
            packetLengths[packetCount] = length;
            done += length;
            packetCount++;
        }
        while (done < data.Length);

        burstBase = sequence;
        want = packetCount == MaxInFlight ? ulong.MaxValue : (1UL << packetCount) - 1;
        acked = 0;
        if (type == MessageType.Vmcore && options.Hole is { Length: > 0 } hole)
        {
            // What the kernel's aliased ack bitmap does to these packets: never (re)sent, counted as acked.
            for (var i = 0; i < packetCount; i++)
            {
                if (packetLengths[i] > 0 && packetOffsets[i] < hole.Offset + hole.Length && hole.Offset < packetOffsets[i] + packetLengths[i])
                {
                    acked |= 1UL << i;
                }
            }
        }

        for (var sends = 0; acked != want; sends++)
        {
            if (sends == options.MaxSends)
            {
                error = $"no ack for {Describe(type, start)} (seqno {burstBase}-{burstBase + (uint)packetCount - 1}) after {sends} sends";
                return false;
            }

            Transmit(type, data, resend: sends > 0);
            WaitForAcks(Stopwatch.GetTimestamp() + resendTicks);
        }

        sequence += (uint)packetCount;
        return true;
    }

    private void Transmit(MessageType type, ReadOnlySpan<byte> data, bool resend)
    {
        var count = 0;
        for (var i = 0; i < packetCount; i++)
        {
            if ((acked & (1UL << i)) == 0)
            {
                order[count++] = i;
            }
        }

        network.MaybeShuffle(order.AsSpan(0, count));

        for (var k = 0; k < count; k++)
        {
            var i = order[k];
            packetsSent++;
            if (resend)
            {
                retransmits++;
            }

            if (network.Loses())
            {
                continue;
            }

            var length = packetLengths[i];
            new MessageHeader(type, burstBase + (uint)i, (ulong)packetOffsets[i], (uint)length, 0).Write(sendBuffer);
            data.Slice(packetStarts[i], length).CopyTo(sendBuffer.AsSpan(MessageHeader.Size));
            SendDatagram(MessageHeader.Size + length);
            if (network.Duplicates())
            {
                SendDatagram(MessageHeader.Size + length);
            }
        }
    }

    private void SendDatagram(int length)
    {
        try
        {
            socket!.SendTo(sendBuffer.AsSpan(0, length), SocketFlags.None, sessionDestination ?? heraldDestination);
        }
        catch (SocketException)
        {
            // Refused or no buffer space: the packet is lost, and resent if it stays unacked.
        }
    }

    /// <summary>Reads acks until the burst is complete or <paramref name="deadline"/> passes.</summary>
    private void WaitForAcks(long deadline)
    {
        while (acked != want && SimulationSocket.WaitReadable(socket!, deadline, cancellationToken))
        {
            ReceiveOne();
        }
    }

    private void ReceiveOne()
    {
        int length;
        try
        {
            length = socket!.ReceiveFrom(receiveBuffer, SocketFlags.None, from);
        }
        catch (SocketException)
        {
            return;
        }

        // debugnet: only a 4-byte UDP payload from the server's address is an ack.
        if (length != Ack.Size || !SimulationSocket.From(from, serverAddress))
        {
            return;
        }

        if (network.Loses())
        {
            return;
        }

        acksReceived++;
        var source = from.Buffer.Span;
        if (sessionDestination is null)
        {
            sessionPort = BinaryPrimitives.ReadUInt16BigEndian(source[2..]);
            sessionDestination = new IPEndPoint(options.Server.Address, sessionPort).Serialize();
        }

        Ack.TryRead(receiveBuffer.AsSpan(0, Ack.Size), out var acknowledged);
        var index = acknowledged - burstBase;
        if (index < (uint)packetCount)
        {
            acked |= 1UL << (int)index;
        }
    }

    private static string Describe(MessageType type, long start) => type switch
    {
        MessageType.Herald => "HERALD",
        MessageType.Vmcore => $"VMCORE at offset {start}",
        MessageType.Kdh => "KDH",
        MessageType.EkcdKey => "EKCD key",
        _ => "FINISHED",
    };
}
