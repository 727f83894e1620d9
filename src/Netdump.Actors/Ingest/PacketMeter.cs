using Prometheus;

namespace Netdump.Actors.Ingest;

/// <summary>
/// Where a receive pump adds what it received, once per batch (a <c>recvmmsg</c>, a managed
/// receive, a Linux port tick): datagrams, payload bytes, and the datagrams it dropped. The
/// counters are prometheus-net's, resolved once, so an addition is a few interlocked
/// operations: no allocation, no lock (bench/Netdump.Benchmarks measures it).
/// </summary>
public sealed class PacketMeter(Counter packets, Counter bytes, Counter.Child malformed, Counter.Child afterFinished)
{
    /// <summary>The meter of <paramref name="metrics"/>.</summary>
    public static PacketMeter Of(Metrics.NetdumpMetrics metrics) => new(
        metrics.Packets, metrics.Bytes,
        metrics.Dropped(Metrics.DropReason.Malformed), metrics.Dropped(Metrics.DropReason.AfterFinished));

    public void Add(long packetCount, long byteCount, long malformedCount, long afterFinishedCount)
    {
        if (packetCount > 0)
        {
            packets.Inc(packetCount);
        }

        if (byteCount > 0)
        {
            bytes.Inc(byteCount);
        }

        if (malformedCount > 0)
        {
            malformed.Inc(malformedCount);
        }

        if (afterFinishedCount > 0)
        {
            afterFinished.Inc(afterFinishedCount);
        }
    }
}
