using System.Diagnostics;

namespace Netdump.Tests.Fuzzing;

/// <summary>A seeded stream of fuzzed datagrams.</summary>
public interface IFuzzedDatagrams
{
    /// <summary>Builds the next datagram and returns its length; read it from <see cref="Packet"/>.</summary>
    int Next();

    /// <summary>The datagram built by the last <see cref="Next"/> (valid until the next call).</summary>
    ReadOnlySpan<byte> Packet { get; }

    /// <summary>What the last datagram was made from and how, for a failure message.</summary>
    string LastOrigin { get; }
}

/// <summary>
/// Runs a codec's checks over a seeded stream: a warm-up round, then the measured run, in which
/// a failure names the seed, the index, the origin and the first bytes of the datagram, so it
/// replays at once. Dialect-free; each dialect's fuzz test brings its own checks and tallies.
/// </summary>
public static class FuzzHarness
{
    public delegate void Check(ReadOnlySpan<byte> datagram);

    /// <summary>What a run cost: datagrams, bytes, time, and the managed heap around it.</summary>
    public sealed record Figures(int Datagrams, long Bytes, TimeSpan Elapsed, long HeapBefore, long HeapAfter)
    {
        public override string ToString() =>
            $"{Datagrams} datagrams ({Bytes >> 20} MiB) in {Elapsed.TotalSeconds:F2} s ({Datagrams / Elapsed.TotalSeconds:F0}/s); " +
            $"managed heap {HeapBefore >> 10} KiB before, {HeapAfter >> 10} KiB after";

        /// <summary>A million inputs must leave nothing behind: the heap grows by less than 4 MiB.</summary>
        public void AssertNoGrowth() =>
            Assert.True(HeapAfter - HeapBefore < 4L << 20, $"the managed heap grew by {(HeapAfter - HeapBefore) >> 10} KiB over {Datagrams} datagrams");
    }

    /// <param name="warmUp">Run on 10,000 datagrams first, so that JIT and first-use allocations are not counted as growth; it should count nothing.</param>
    /// <param name="check">Run on each of the <paramref name="datagrams"/> measured ones.</param>
    public static Figures Run(IFuzzedDatagrams source, int seed, int datagrams, Check warmUp, Check check)
    {
        for (var i = 0; i < 10_000; i++)
        {
            source.Next();
            warmUp(source.Packet);
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        long bytes = 0;
        for (var i = 0; i < datagrams; i++)
        {
            source.Next();
            var packet = source.Packet;
            bytes += packet.Length;
            try
            {
                check(packet);
            }
            catch (Exception e)
            {
                Assert.Fail($"datagram {i} (seed {seed}, {source.LastOrigin}, {packet.Length} bytes " +
                            $"{Convert.ToHexString(packet[..Math.Min(packet.Length, 64)])}...): {e}");
            }
        }

        stopwatch.Stop();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(source);
        return new Figures(datagrams, bytes, stopwatch.Elapsed, before, after);
    }

    /// <summary>Two sources from one seed give the same datagrams; another seed gives others.</summary>
    public static void AssertDeterministic(Func<int, IFuzzedDatagrams> create)
    {
        var a = create(7);
        var b = create(7);
        var c = create(8);
        var differs = false;
        for (var i = 0; i < 10_000; i++)
        {
            a.Next();
            b.Next();
            c.Next();
            Assert.True(a.Packet.SequenceEqual(b.Packet), $"datagram {i} differs between two sources with one seed");
            differs |= !a.Packet.SequenceEqual(c.Packet);
        }

        Assert.True(differs);
    }
}
