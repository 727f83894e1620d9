using System.Buffers.Binary;

namespace Netdump.Tests.Fuzzing;

/// <summary>
/// The mutations that know nothing of a dialect beyond the size of its header: bit flips,
/// truncations, extensions, big-endian words written into the datagram, and seeded filler bytes.
/// The FreeBSD and the Linux mutators both draw from it, each with its own seeded
/// <see cref="Random"/>, so one seed still gives one stream. Allocation-free.
/// </summary>
public sealed class DatagramMutations
{
    /// <summary>The largest UDP payload over IPv4, which the server must accept.</summary>
    public const int MaxDatagram = 65507;

    private const int PoolSize = 1 << 16;

    private readonly Random _random;
    private readonly byte[] _pool = new byte[PoolSize + MaxDatagram];

    /// <summary>Fills the filler pool from <paramref name="random"/>, which the mutator keeps drawing from afterwards.</summary>
    public DatagramMutations(Random random)
    {
        _random = random;
        random.NextBytes(_pool);
    }

    /// <summary>Flips one to eight bits; half of them land in the header, where they change what the datagram means.</summary>
    public void FlipBits(Span<byte> datagram, int headerSize)
    {
        if (datagram.IsEmpty)
        {
            return;
        }

        var flips = _random.Next(1, 9);
        for (var i = 0; i < flips; i++)
        {
            var at = _random.Next(2) == 0 ? _random.Next(Math.Min(headerSize, datagram.Length)) : _random.Next(datagram.Length);
            datagram[at] ^= (byte)(1 << _random.Next(8));
        }
    }

    /// <summary>A shorter length; a third of the cuts fall inside the header.</summary>
    public int Truncate(int length, int headerSize)
    {
        if (length == 0)
        {
            return 0;
        }

        return _random.Next(3) == 0 ? _random.Next(Math.Min(headerSize, length)) : _random.Next(length);
    }

    /// <summary>Appends filler after <paramref name="length"/>: mostly a few bytes, sometimes kilobytes, now and then up to the largest datagram.</summary>
    /// <returns>The new length.</returns>
    public int Extend(Span<byte> buffer, int length)
    {
        var extra = _random.Next(20) switch
        {
            < 14 => _random.Next(1, 65),
            < 19 => _random.Next(65, 4097),
            _ => _random.Next(1, MaxDatagram + 1),
        };
        extra = Math.Min(extra, Math.Min(MaxDatagram, buffer.Length) - length);
        FromPool(buffer.Slice(length, extra));
        return length + extra;
    }

    /// <summary>Fills with bytes from the seeded pool at a random place: random enough, and cheap.</summary>
    public void FromPool(Span<byte> destination) =>
        _pool.AsSpan(_random.Next(PoolSize), destination.Length).CopyTo(destination);

    /// <summary>Writes a big-endian word at <paramref name="at"/> when the datagram reaches that far (a truncated one keeps its length).</summary>
    public static void WriteWord(Span<byte> datagram, int at, uint value)
    {
        if (datagram.Length >= at + 4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(datagram[at..], value);
        }
    }

    public uint RandomUInt() => (uint)_random.NextInt64(1L << 32);

    public ulong RandomULong() => (ulong)_random.NextInt64() ^ ((ulong)_random.Next(2) << 63);
}
