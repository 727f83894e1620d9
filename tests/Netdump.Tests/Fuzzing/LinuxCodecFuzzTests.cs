using System.Buffers.Binary;
using System.Text;
using Netdump.Actors.Protocol.Linux;
using Xunit.Abstractions;

namespace Netdump.Tests.Fuzzing;

/// <summary>
/// A million seeded, mutated Linux datagrams through the pure Linux codec: no decoder ever throws,
/// every verdict agrees with the bytes it was given, and a million inputs leave no memory behind.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LinuxCodecFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 6666;
    private const int Packets = 1_000_000;
    private static readonly byte[] Preamble = Encoding.ASCII.GetBytes(LinuxRegisters.Preamble);

    private sealed class Tally
    {
        public readonly long[] HeaderOutcomes = new long[Enum.GetValues<LinuxReplyError>().Length];
        public long RequestsRead;
        public long RequestsTooShort;
        public long StartOk;
        public long StartRejected;
        public long RegsOk;
        public long RegsRejected;
    }

    [Fact]
    public void A_million_mutated_linux_datagrams_never_make_the_codec_throw_or_contradict_itself()
    {
        var mutator = new LinuxPacketMutator(Seed);
        var tally = new Tally();
        var warmUp = new Tally();

        var figures = FuzzHarness.Run(
            mutator, Seed, Packets, packet => Check(packet, mutator.Machine, warmUp), packet => Check(packet, mutator.Machine, tally));

        var mutations = string.Join(", ", Enum.GetValues<LinuxMutation>().Select(m => $"{m} {mutator.Counts[(int)m]}"));
        var outcomes = string.Join(", ", Enum.GetValues<LinuxReplyError>().Select(e => $"{e} {tally.HeaderOutcomes[(int)e]}"));
        output.WriteLine(figures.ToString());
        output.WriteLine($"mutations: {mutations}");
        output.WriteLine($"reply headers: {outcomes}");
        output.WriteLine($"requests {tally.RequestsRead} read / {tally.RequestsTooShort} too short; START {tally.StartOk} ok / " +
                         $"{tally.StartRejected} rejected; REGS {tally.RegsOk} ok / {tally.RegsRejected} rejected");

        // every verdict of every decoder was reached, or the run proves little
        Assert.All(tally.HeaderOutcomes, count => Assert.True(count > 1000));
        Assert.All(Enum.GetValues<LinuxMutation>(), m => Assert.True(mutator.Counts[(int)m] > 1000, $"{m} ran too rarely"));
        Assert.True(tally.RequestsRead > 1000 && tally.RequestsTooShort > 1000);
        Assert.True(tally.StartOk > 1000 && tally.StartRejected > 1000);
        Assert.True(tally.RegsOk > 1000 && tally.RegsRejected > 1000);
        figures.AssertNoGrowth();
    }

    [Fact]
    public void The_linux_mutator_is_deterministic_from_its_seed() =>
        FuzzHarness.AssertDeterministic(seed => new LinuxPacketMutator(seed));

    /// <summary>Runs every decoder on the datagram (the server cannot know what a datagram is) and checks each answer against the raw bytes.</summary>
    private static void Check(ReadOnlySpan<byte> datagram, ushort machine, Tally tally)
    {
        CheckRequest(datagram, tally);
        var error = LinuxReplyHeader.TryRead(datagram, out var header);
        tally.HeaderOutcomes[(int)error]++;
        CheckHeader(datagram, error, header);
        if (error == LinuxReplyError.TooShort)
        {
            return;
        }

        // the payload parsers run whatever the header's verdict: they must hold on anything
        var payload = datagram[LinuxReplyHeader.Size..];
        CheckStart(header, payload, tally);
        if (header.Code == LinuxReplyCode.Regs)
        {
            CheckRegs(machine, payload, tally);
        }
    }

    private static void CheckRequest(ReadOnlySpan<byte> datagram, Tally tally)
    {
        var ok = LinuxRequest.TryRead(datagram, out var request);
        Assert.Equal(datagram.Length >= LinuxRequest.Size, ok);
        if (!ok)
        {
            tally.RequestsTooShort++;
            Assert.Equal(default, request);
            return;
        }

        tally.RequestsRead++;
        Assert.Equal(BinaryPrimitives.ReadUInt64BigEndian(datagram), request.Magic);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]), request.Sequence);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]), (uint)request.Command);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]), request.From);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]), request.To);
        Span<byte> written = stackalloc byte[LinuxRequest.Size];
        request.Write(written);
        Assert.True(written.SequenceEqual(datagram[..LinuxRequest.Size]));
    }

    private static void CheckHeader(ReadOnlySpan<byte> datagram, LinuxReplyError error, LinuxReplyHeader header)
    {
        if (datagram.Length < LinuxReplyHeader.Size)
        {
            Assert.Equal(LinuxReplyError.TooShort, error);
            Assert.Equal(default, header);
            return;
        }

        // every field is filled in, whatever the verdict, and writes back to the very same bytes
        Assert.Equal(datagram[0], header.Version);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[1..]), header.Sequence);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[5..]), (uint)header.Code);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(datagram[9..]), header.Info);
        Span<byte> written = stackalloc byte[LinuxReplyHeader.Size];
        header.Write(written);
        Assert.True(written.SequenceEqual(datagram[..LinuxReplyHeader.Size]));

        // each verdict holds for these bytes, and only the first problem found is named
        var payload = datagram.Length - LinuxReplyHeader.Size;
        var fits = payload <= LinuxReplyHeader.MaxPayload;
        var known = Enum.IsDefined(header.Code);
        var oneChunk = payload == LinuxReplyHeader.MemChunk && header.Info % LinuxReplyHeader.MemChunk == 0;
        switch (error)
        {
            case LinuxReplyError.None:
                Assert.True(fits && known && (header.Code != LinuxReplyCode.Mem || oneChunk));
                break;
            case LinuxReplyError.TooLong:
                Assert.False(fits);
                break;
            case LinuxReplyError.UnknownCode:
                Assert.True(fits && !known);
                break;
            case LinuxReplyError.BadMemChunk:
                Assert.True(fits && header.Code == LinuxReplyCode.Mem && !oneChunk);
                break;
            default:
                Assert.Fail($"{error} for a datagram of {datagram.Length} bytes");
                break;
        }
    }

    private static void CheckStart(LinuxReplyHeader header, ReadOnlySpan<byte> payload, Tally tally)
    {
        var ok = LinuxStart.TryParse(header, payload, out var start, out var problem);
        if (header.Code == LinuxReplyCode.StartNetdump)
        {
            _ = ok ? tally.StartOk++ : tally.StartRejected++;
        }

        if (!ok)
        {
            Assert.Null(start);
            Assert.NotNull(problem);
            Assert.DoesNotContain(problem, char.IsControl);
            return;
        }

        Assert.Null(problem);
        Assert.NotNull(start);
        Assert.Equal(LinuxReplyCode.StartNetdump, header.Code);
        Assert.True(payload.Length <= LinuxStart.MaxPayload);
        Assert.NotEqual(0, start.Machine);
        Assert.Equal(header.Sequence, start.Machine);
        Assert.Equal(header.Info, start.MaxVersion);

        // each value is in the text after its name, give or take leading zeros and the case of its digits
        var text = Encoding.ASCII.GetString(payload);
        AssertField(text, "task_struct", start.TaskStruct);
        AssertField(text, "page_offset", start.PageOffset);
        AssertField(text, "netdump_magic", start.Magic);

        // and what was accepted is what the server would write back
        Assert.True(LinuxStart.TryParse(header, start.Payload(), out var again, out _));
        Assert.Equal(start, again);
    }

    private static void AssertField(string text, string name, ulong value)
    {
        var prefix = name + ":0x";
        var found = false;
        for (var at = text.IndexOf(prefix, StringComparison.Ordinal); at >= 0 && !found; at = text.IndexOf(prefix, at + 1, StringComparison.Ordinal))
        {
            var digits = text[(at + prefix.Length)..].TrimStart('0');
            found = digits.StartsWith(value == 0 ? string.Empty : value.ToString("x"), StringComparison.OrdinalIgnoreCase);
        }

        Assert.True(found, $"{name} 0x{value:x} is not in \"{text}\"");
    }

    private static void CheckRegs(ushort machine, ReadOnlySpan<byte> payload, Tally tally)
    {
        var ok = LinuxRegisters.TryRead(machine, payload, out var gregs, out var problem);
        var size = LinuxRegisters.GregsetSize(machine);
        var rest = payload.Length - Preamble.Length;
        // the registers alone, or followed by as many bytes as strlen counted into them (the
        // kernel's platform_get_regs): as many as come before the first zero byte
        var firstZero = payload.Length >= Preamble.Length ? payload[Preamble.Length..].IndexOf((byte)0) : -1;
        bool Fits(int s) => rest == s || (rest > s && firstZero == rest - s);
        if (!ok)
        {
            tally.RegsRejected++;
            Assert.NotNull(problem);
            Assert.True(gregs.IsEmpty);
            Assert.True(!payload.StartsWith(Preamble) || (size is { } s && !Fits(s)));
            return;
        }

        tally.RegsOk++;
        Assert.Null(problem);
        Assert.True(payload.StartsWith(Preamble));
        Assert.True(size is null ? gregs.SequenceEqual(payload[Preamble.Length..]) : Fits(size.Value) && gregs.SequenceEqual(payload.Slice(Preamble.Length, size.Value)));
    }
}
