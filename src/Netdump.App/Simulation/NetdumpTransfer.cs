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
internal sealed partial class NetdumpTransfer : IDisposable
{
    private readonly SimulationOptions options;
    private readonly DumpImage image;
    private readonly Action<string>? progress;
    private readonly CancellationToken cancellationToken;
    private readonly int maxPayload;
    private readonly long resendTicks;
    private readonly SimulatedNetwork network;
    private readonly byte[] serverAddress;
    private readonly SocketAddress heraldDestination;
    private readonly byte[] sendBuffer;

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

    private SimulationResult Result(string? error) =>
        new(error is null, error, sessionPort, packetsSent, retransmits, acksReceived, coreBytes, Elapsed);

    private void Report(string line) => progress?.Invoke(line);
}
