using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.App.Simulation;

/// <summary>The wire: replies leave in bursts through the simulated network, requests arrive only from the server.</summary>
internal sealed partial class LinuxTransfer
{
    private const int Slot = LinuxReplyHeader.Size + LinuxReplyHeader.MemChunk;
    private const int MaxBurst = 16;

    private readonly SocketAddress from = new(AddressFamily.InterNetwork);
    private readonly byte[] receiveBuffer = new byte[2048];

    // The datagrams of one answer, sent together (and shuffled together when reordered).
    private readonly byte[] burst = new byte[MaxBurst * Slot];
    private readonly int[] burstLengths = new int[MaxBurst];
    private readonly int[] order = new int[MaxBurst];
    private int burstCount;

    private void Reply(LinuxReplyCode code, uint nr, uint info, ReadOnlySpan<byte> payload)
    {
        Add(code, nr, info, payload);
        Flush();
    }

    /// <summary>Adds one datagram to the burst, with the effective version unless told otherwise.</summary>
    private void Add(LinuxReplyCode code, uint nr, uint info, ReadOnlySpan<byte> payload, byte? versionByte = null)
    {
        if (burstCount == MaxBurst)
        {
            Flush();
        }

        var slot = burst.AsSpan(burstCount * Slot, Slot);
        new LinuxReplyHeader(versionByte ?? version, nr, code, info).Write(slot);
        payload.CopyTo(slot[LinuxReplyHeader.Size..]);
        burstLengths[burstCount] = LinuxReplyHeader.Size + payload.Length;
        burstCount++;
    }

    private void Flush()
    {
        for (var i = 0; i < burstCount; i++)
        {
            order[i] = i;
        }

        network.MaybeShuffle(order.AsSpan(0, burstCount));
        foreach (var i in order.AsSpan(0, burstCount))
        {
            packetsSent++;
            if (network.Loses())
            {
                continue;
            }

            var datagram = burst.AsSpan(i * Slot, burstLengths[i]);
            Send(datagram);
            if (network.Duplicates())
            {
                Send(datagram);
            }
        }

        burstCount = 0;
    }

    private void Send(ReadOnlySpan<byte> datagram)
    {
        try
        {
            socket!.SendTo(datagram, SocketFlags.None, destination);
        }
        catch (SocketException)
        {
            // Refused or no buffer space: the packet is lost, as on a real wire.
        }
    }

    /// <summary>
    /// The next request before <paramref name="deadline"/>: netpoll passes only UDP from the
    /// server's address, <c>netdump_rx</c> drops anything shorter than a request, and nothing
    /// looks at the magic.
    /// </summary>
    private bool TryReceive(long deadline, out LinuxRequest request)
    {
        while (SimulationSocket.WaitReadable(socket!, deadline, cancellationToken))
        {
            int length;
            try
            {
                length = socket!.ReceiveFrom(receiveBuffer, SocketFlags.None, from);
            }
            catch (SocketException)
            {
                continue;
            }

            if (SimulationSocket.From(from, serverAddress)
                && LinuxRequest.TryRead(receiveBuffer.AsSpan(0, length), out request)
                && !network.Loses())
            {
                return true;
            }
        }

        request = default;
        return false;
    }
}
