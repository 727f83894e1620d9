using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Netdump.Actors.Protocol;
using Xunit.Abstractions;

namespace Netdump.Tests.Fuzzing;

/// <summary>
/// A million seeded, mutated datagrams through the pure codec: no decoder ever throws, every
/// answer agrees with the bytes it was given, and a million inputs leave no memory behind.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class CodecFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20023;
    private const int Packets = 1_000_000;

    private sealed class Tally
    {
        public readonly long[] HeaderOutcomes = new long[Enum.GetValues<HeaderError>().Length];
        public long HeraldOk;
        public long HeraldRejected;
        public long KdhOk;
        public long KdhRejected;
        public long KdhParityFailed;
        public long KeyOk;
        public long KeyRejected;
    }

    [Fact]
    public void A_million_mutated_datagrams_never_make_the_codec_throw_or_contradict_itself()
    {
        var mutator = new PacketMutator(Seed);
        var tally = new Tally();

        // one warm-up round so that JIT and first-use allocations are not counted as growth
        for (var i = 0; i < 10_000; i++)
        {
            mutator.Next();
            Check(mutator.Packet, new Tally());
        }

        var before = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        long bytes = 0;
        for (var i = 0; i < Packets; i++)
        {
            mutator.Next();
            var packet = mutator.Packet;
            bytes += packet.Length;
            try
            {
                Check(packet, tally);
            }
            catch (Exception e)
            {
                // the seed and index replay the input; the bytes show it at once
                Assert.Fail($"packet {i} (seed {Seed}, {mutator.BaseType} with {mutator.LastMutation}, {packet.Length} bytes " +
                            $"{Convert.ToHexString(packet[..Math.Min(packet.Length, 64)])}...): {e}");
            }
        }

        stopwatch.Stop();
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(mutator);

        var mutations = string.Join(", ", Enum.GetValues<Mutation>().Select(m => $"{m} {mutator.Counts[(int)m]}"));
        var outcomes = string.Join(", ", Enum.GetValues<HeaderError>().Select(e => $"{e} {tally.HeaderOutcomes[(int)e]}"));
        output.WriteLine($"{Packets} datagrams ({bytes >> 20} MiB) in {stopwatch.Elapsed.TotalSeconds:F2} s " +
                         $"({Packets / stopwatch.Elapsed.TotalSeconds:F0}/s); managed heap {before >> 10} KiB before, {after >> 10} KiB after");
        output.WriteLine($"mutations: {mutations}");
        output.WriteLine($"headers: {outcomes}");
        output.WriteLine($"HERALD paths {tally.HeraldOk} ok / {tally.HeraldRejected} rejected; KDH {tally.KdhOk} ok " +
                         $"({tally.KdhParityFailed} with bad parity) / {tally.KdhRejected} rejected; keys {tally.KeyOk} ok / {tally.KeyRejected} rejected");

        // every outcome of every decoder was reached, or the run proves little
        Assert.All(tally.HeaderOutcomes, count => Assert.True(count > 1000));
        Assert.All(Enum.GetValues<Mutation>(), m => Assert.True(mutator.Counts[(int)m] > 1000, $"{m} ran too rarely"));
        Assert.True(tally.HeraldOk > 1000 && tally.HeraldRejected > 1000);
        Assert.True(tally.KdhOk > 1000 && tally.KdhRejected > 1000 && tally.KdhParityFailed > 100);
        Assert.True(tally.KeyOk > 1000 && tally.KeyRejected > 1000);
        Assert.True(after - before < 4L << 20, $"the managed heap grew by {(after - before) >> 10} KiB over {Packets} datagrams");
    }

    [Fact]
    public void The_mutator_is_deterministic_from_its_seed()
    {
        var a = new PacketMutator(7);
        var b = new PacketMutator(7);
        var c = new PacketMutator(8);
        var differs = false;
        for (var i = 0; i < 10_000; i++)
        {
            a.Next();
            b.Next();
            c.Next();
            Assert.True(a.Packet.SequenceEqual(b.Packet), $"datagram {i} differs between two mutators with one seed");
            differs |= !a.Packet.SequenceEqual(c.Packet);
        }

        Assert.True(differs);
    }

    /// <summary>Runs every decoder that applies to the datagram and checks each answer against the raw bytes.</summary>
    private static void Check(ReadOnlySpan<byte> datagram, Tally tally)
    {
        var error = MessageHeader.TryRead(datagram, out var header);
        tally.HeaderOutcomes[(int)error]++;
        CheckHeader(datagram, error, header);
        Assert.Equal(datagram.Length == Ack.Size, Ack.TryRead(datagram, out _));
        if (error == HeaderError.TooShort)
        {
            return;
        }

        // the payload part is decoded for the type the header names, even when the length is
        // wrong: the parsers must hold on whatever follows the header
        var payload = datagram[MessageHeader.Size..];
        switch ((uint)header.Type)
        {
            case (uint)MessageType.Herald:
                CheckHerald(payload, tally);
                break;
            case (uint)MessageType.Kdh:
                CheckKdh(payload, tally);
                break;
            case (uint)MessageType.EkcdKey:
                CheckKey(payload, tally);
                break;
        }
    }

    private static void CheckHeader(ReadOnlySpan<byte> datagram, HeaderError error, MessageHeader header)
    {
        if (datagram.Length < MessageHeader.Size)
        {
            Assert.Equal(HeaderError.TooShort, error);
            Assert.Equal(default, header);
            return;
        }

        var type = BinaryPrimitives.ReadUInt32BigEndian(datagram);
        var length = BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]);
        var offset = BinaryPrimitives.ReadUInt64BigEndian(datagram[8..]);
        Assert.Equal(type, (uint)header.Type);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]), header.Sequence);
        Assert.Equal(offset, header.Offset);
        Assert.Equal(length, header.Length);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]), header.Aux2);

        var sizeMatches = (ulong)datagram.Length == MessageHeader.Size + (ulong)length;
        var known = type is >= 1 and <= 5;
        var expected = !sizeMatches ? HeaderError.LengthMismatch : known ? HeaderError.None : HeaderError.UnknownType;
        Assert.Equal(expected, error);
        if (error == HeaderError.None)
        {
            Assert.Equal(datagram.Length, MessageHeader.Size + (int)header.Length);
            Assert.InRange((uint)header.Type, 1u, 5u);
        }

        // End is null exactly when offset + len does not fit in 64 bits
        var overflows = offset > ulong.MaxValue - length;
        Assert.Equal(overflows, header.End is null);
        if (!overflows)
        {
            Assert.Equal(offset + length, header.End);
        }

        // writing the parsed header gives back the very bytes it came from
        Span<byte> written = stackalloc byte[MessageHeader.Size];
        header.Write(written);
        Assert.True(written.SequenceEqual(datagram[..MessageHeader.Size]));
    }

    private static void CheckHerald(ReadOnlySpan<byte> payload, Tally tally)
    {
        var ok = HeraldPayload.TryReadPath(payload, out var path, out var reason);
        if (!ok)
        {
            tally.HeraldRejected++;
            Assert.NotNull(reason);
            Assert.Equal(string.Empty, path);
            return;
        }

        tally.HeraldOk++;
        Assert.Null(reason);
        Assert.True(payload.Length <= HeraldPayload.MaxLength);
        Assert.DoesNotContain(path, char.IsControl);

        // an accepted path is exactly what was sent: encoding it again gives the same bytes
        var roundTrips = path.Length == 0
            ? payload.IsEmpty || payload is [0]
            : HeraldPayload.Encode(path).AsSpan().SequenceEqual(payload);
        Assert.True(roundTrips);
    }

    private static void CheckKdh(ReadOnlySpan<byte> payload, Tally tally)
    {
        var ok = KernelDumpHeader.TryParse(payload, out var kdh, out var reason);
        if (!ok)
        {
            tally.KdhRejected++;
            Assert.Null(kdh);
            Assert.NotNull(reason);
            Assert.DoesNotContain(reason, char.IsControl);
            return;
        }

        tally.KdhOk++;
        Assert.Null(reason);
        Assert.NotNull(kdh);
        Assert.True(payload.Length >= KernelDumpHeader.Size);
        Assert.Contains(kdh.Magic, new[] { KernelDumpHeader.KernelDumpMagic, KernelDumpHeader.TextDumpMagic });
        var magic = Encoding.ASCII.GetBytes(kdh.Magic);
        Assert.True(payload.StartsWith(magic));
        Assert.Equal(0, payload[magic.Length]); // the magic is exact, NUL-terminated, as savecore compares it

        Assert.Equal(KernelDumpHeader.SupportedVersion, kdh.Version);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(payload[32..]), kdh.Version);
        Assert.True(Enum.IsDefined(kdh.Compression));
        Assert.Equal(payload[495], (byte)kdh.Compression);
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(payload[40..]), kdh.DumpLength);
        Assert.Equal(KernelDumpHeader.ComputeParity(payload[..KernelDumpHeader.Size]) == 0, kdh.ParityOk);
        if (!kdh.ParityOk)
        {
            tally.KdhParityFailed++;
        }

        _ = kdh.DumpTimeUtc; // any 64-bit dump time converts, at worst to DateTimeOffset.MaxValue
    }

    private static void CheckKey(ReadOnlySpan<byte> payload, Tally tally)
    {
        var ok = EncryptionKeyHeader.TryParse(payload, out var key, out var reason);
        if (!ok)
        {
            tally.KeyRejected++;
            Assert.Null(key);
            Assert.NotNull(reason);
            return;
        }

        tally.KeyOk++;
        Assert.Null(reason);
        Assert.NotNull(key);
        Assert.True(payload.Length >= EncryptionKeyHeader.HeadSize);
        Assert.Equal(payload[0], (byte)key.Encryption);
        Assert.True(Enum.IsDefined(key.Encryption));
        Assert.True(payload.Slice(1, EncryptionKeyHeader.IvLength).SequenceEqual(key.InitializationVector));
        Assert.True(key.EncryptedKeySize <= (uint)(payload.Length - EncryptionKeyHeader.HeadSize));
        Span<byte> head = stackalloc byte[EncryptionKeyHeader.HeadSize];
        key.WriteHead(head);
        Assert.True(head.SequenceEqual(payload[..EncryptionKeyHeader.HeadSize]));
    }
}
