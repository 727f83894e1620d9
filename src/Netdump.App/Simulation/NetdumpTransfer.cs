using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary>
/// One run of the simulated client over one UDP socket: FreeBSD's <c>debugnet_send</c> state
/// machine (bursts of at most 64 packets with contiguous seqnos, per-packet acks, resend of the
/// unacked ones after a timeout, give up after N sends) driving the netdump message order, with
/// the simulated network's loss, duplication and reordering. Blocking, on the caller's thread;
/// one send buffer, one receive buffer and one 64 KiB data buffer for the whole run.
/// </summary>
internal sealed class NetdumpTransfer : IDisposable
{
    private const int MaxInFlight = 64;

    private readonly SimulationOptions options;
    private readonly DumpImage image;
    private readonly Action<string>? progress;
    private readonly CancellationToken cancellationToken;
    private readonly int maxPayload;
    private readonly long resendTicks;
    private readonly SimulatedNetwork network;
    private readonly byte[] serverAddress;
    private readonly SocketAddress heraldDestination;
    private readonly SocketAddress from = new(AddressFamily.InterNetwork);
    private readonly byte[] sendBuffer;
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

    private Socket? socket;
    private SocketAddress? sessionDestination;
    private uint sequence = 1;
    private long started;
    private long packetsSent;
    private long retransmits;
    private long acksReceived;
    private long coreBytes;
    private int sessionPort;

    public NetdumpTransfer(SimulationOptions options, DumpImage image, Action<string>? progress, CancellationToken cancellationToken)
    {
        this.options = options;
        this.image = image;
        this.progress = progress;
        this.cancellationToken = cancellationToken;
        maxPayload = options.MaxPayload;
        resendTicks = Math.Max(1, (long)(options.ResendAfter.TotalSeconds * Stopwatch.Frequency));
        network = new SimulatedNetwork(options.Loss, options.Duplicate, options.Reorder, options.Seed);
        serverAddress = options.Server.Address.GetAddressBytes();
        heraldDestination = options.Server.Serialize();
        sendBuffer = new byte[MessageHeader.Size + maxPayload];
    }

    public SimulationResult Run()
    {
        started = Stopwatch.GetTimestamp();
        try
        {
            socket = SimulationSocket.Bind(options.Source, options.SourcePort);
        }
        catch (SocketException e)
        {
            return Result($"cannot bind {options.Source}:{options.SourcePort}: {e.Message}");
        }

        if (!Call(MessageType.Herald, HeraldPayload.Encode(options.Path), 0, out var error))
        {
            return Result(error);
        }

        Report($"herald acked from port {sessionPort}");

        if (!options.FreeBsd12 && !SendKey(out error))
        {
            return Result(error);
        }

        if (!SendData(out error, out var died))
        {
            return Result(error);
        }

        if (died)
        {
            Report($"client died (simulated) after {coreBytes} core bytes were acked");
            return Result("client died (simulated)");
        }

        if (!Call(MessageType.Kdh, image.HeaderBytes, 0, out error))
        {
            return Result(error);
        }

        Report($"KDH acked (dumplength {image.DumpLength}, compression {image.Compression.ToString().ToLowerInvariant()})");

        if (options.FreeBsd12 && !SendKey(out error))
        {
            return Result(error);
        }

        if (!Call(MessageType.Finished, [], 0, out error))
        {
            return Result(error);
        }

        Report($"FINISHED acked after {Elapsed.TotalSeconds:F2} s");
        return Result(null);
    }

    public void Dispose() => socket?.Dispose();

    private TimeSpan Elapsed => Stopwatch.GetElapsedTime(started);

    private bool SendKey(out string error)
    {
        error = "";
        if (image.Key.Length == 0)
        {
            return true;
        }

        if (!Call(MessageType.EkcdKey, image.Key, 0, out error))
        {
            return false;
        }

        Report($"key acked ({image.Key.Length} bytes)");
        return true;
    }

    /// <summary>The dump data in 64 KiB calls, as <c>netdump_dumper</c> flushes its buffer.</summary>
    private bool SendData(out string error, out bool died)
    {
        error = "";
        died = false;
        var dataStarted = Stopwatch.GetTimestamp();
        var retransmitsBefore = retransmits;
        var reader = image.OpenWire();
        var chunk = new byte[DumpImage.ChunkSize];
        for (long offset = 0; offset < image.WireLength; offset += chunk.Length)
        {
            if (options.DieAfterBytes is { } limit && coreBytes >= limit)
            {
                died = true;
                return true;
            }

            var count = (int)Math.Min(chunk.Length, image.WireLength - offset);
            reader.Read(offset, chunk.AsSpan(0, count));
            if (!Call(MessageType.Vmcore, chunk.AsSpan(0, count), offset, out error))
            {
                return false;
            }

            coreBytes += count;
        }

        if (options.DieAfterBytes is { } last && coreBytes >= last)
        {
            died = true;
            return true;
        }

        var seconds = Stopwatch.GetElapsedTime(dataStarted).TotalSeconds;
        var mib = coreBytes / (1024.0 * 1024.0);
        Report($"data: {mib:F1} MiB acked in {seconds:F2} s ({(seconds > 0 ? mib / seconds : 0):F1} MiB/s), {retransmits - retransmitsBefore} retransmits");
        return true;
    }

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

    private SimulationResult Result(string? error) =>
        new(error is null, error, sessionPort, packetsSent, retransmits, acksReceived, coreBytes, Elapsed);

    private void Report(string line) => progress?.Invoke(line);

    private static string Describe(MessageType type, long start) => type switch
    {
        MessageType.Herald => "HERALD",
        MessageType.Vmcore => $"VMCORE at offset {start}",
        MessageType.Kdh => "KDH",
        MessageType.EkcdKey => "EKCD key",
        _ => "FINISHED",
    };
}
