using System.Net;
using Akka.Actor;
using BenchmarkDotNet.Attributes;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Benchmarks;

/// <summary>
/// What one received VMCORE packet costs in the server's own code: the header check, the ack,
/// the pump's decision and the positional write with its range bookkeeping. The memory
/// diagnoser shows the allocations per packet (the target is none).
/// </summary>
[MemoryDiagnoser]
public class PacketPathBenchmarks
{
    private readonly byte[] _datagram = new byte[MessageHeader.Size + 1448];
    private readonly byte[] _kdh = new byte[KernelDumpHeader.Size];
    private readonly byte[] _ack = new byte[Ack.Size];
    private string _dir = "";
    private CoreFile _core = null!;
    private SessionPacketHandler _handler = null!;
    private SessionPacketHandler _meteredHandler = null!;
    private ulong _offset;
    private uint _sequence;

    [GlobalSetup]
    public void Setup()
    {
        new MessageHeader(MessageType.Vmcore, 7, 0, 1448, 0).Write(_datagram);
        new KernelDumpHeader("FreeBSD Kernel Dump", "amd64", 4, 2, 1 << 30, 1_700_000_000, 0, 4096,
            "web7.example.org", "FreeBSD 14.1-RELEASE GENERIC", "page fault while in kernel mode",
            DumpCompression.None, 1 << 30, 0).Write(_kdh);
        _dir = Directory.CreateTempSubdirectory("netdump-bench-").FullName;
        _core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), ulong.MaxValue);
        _handler = new SessionPacketHandler(_core, _ => { });
        _meteredHandler = new SessionPacketHandler(_core, _ => { }, PacketMeter.Of(new Netdump.Actors.Metrics.NetdumpMetrics()));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _core.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public HeaderError HeaderParse() => MessageHeader.TryRead(_datagram, out _);

    [Benchmark]
    public void AckWrite() => Ack.Write(_ack, 12345);

    [Benchmark]
    public bool KdhParse() => KernelDumpHeader.TryParse(_kdh, out _, out _);

    /// <summary>The pump's whole job for one data packet, minus the two socket calls.</summary>
    [Benchmark]
    public bool ReceivedPacket()
    {
        // a 1 GiB window of the file, rewritten over and over: page cache, no disk growth
        _offset = (_offset + 1448) % (1UL << 30);
        new MessageHeader(MessageType.Vmcore, ++_sequence, _offset, 1448, 0).Write(_datagram);
        if (_handler.Classify(_datagram, out var header) != PacketVerdict.Write)
        {
            return false;
        }

        var ok = _handler.Written(_core.Write(header.Offset, _datagram.AsSpan(MessageHeader.Size)), header.Offset, 1448);
        Ack.Write(_ack, header.Sequence);
        return ok;
    }

    /// <summary>
    /// The same with the metrics counted as the engines count them, at the end of each batch;
    /// here every packet is a batch of one (the managed engine's case, the worst): the meter's
    /// counters are added to once a packet instead of once per up to 64.
    /// </summary>
    [Benchmark]
    public bool ReceivedPacketMetered()
    {
        _offset = (_offset + 1448) % (1UL << 30);
        new MessageHeader(MessageType.Vmcore, ++_sequence, _offset, 1448, 0).Write(_datagram);
        if (_meteredHandler.Classify(_datagram, out var header) != PacketVerdict.Write)
        {
            return false;
        }

        var ok = _meteredHandler.Written(_core.Write(header.Offset, _datagram.AsSpan(MessageHeader.Size)), header.Offset, 1448);
        _meteredHandler.EndOfBatch();
        Ack.Write(_ack, header.Sequence);
        return ok;
    }
}
