using System.Buffers.Binary;
using System.Text;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Fuzzing;

/// <summary>How a fuzzed datagram was derived from a valid netdump message.</summary>
public enum Mutation
{
    /// <summary>The valid message itself, so the fuzz stream also reaches the success paths.</summary>
    None,
    BitFlips,
    Truncation,
    Extension,
    TypeField,
    LengthField,
    OffsetField,
    SequenceField,
    Aux2Field,
    FieldSwap,
    HeaderOnly,
    Empty,
    KdhField,
}

/// <summary>
/// Relative weights of the valid messages the mutator starts from (HERALD, FINISHED, VMCORE,
/// KDH, EKCD_KEY).
/// </summary>
public sealed record PacketMix(int Herald, int Finished, int Vmcore, int Kdh, int EkcdKey)
{
    /// <summary>Every type often enough that each parser gets hundreds of thousands of inputs.</summary>
    public static readonly PacketMix Even = new(2, 1, 3, 2, 2);

    internal MessageType Pick(Random random)
    {
        var roll = random.Next(Herald + Finished + Vmcore + Kdh + EkcdKey);
        if ((roll -= Herald) < 0)
        {
            return MessageType.Herald;
        }

        if ((roll -= Finished) < 0)
        {
            return MessageType.Finished;
        }

        if ((roll -= Vmcore) < 0)
        {
            return MessageType.Vmcore;
        }

        return roll - Kdh < 0 ? MessageType.Kdh : MessageType.EkcdKey;
    }
}

/// <summary>
/// Turns valid netdump client messages (HERALD with a path, VMCORE of 0-8948 payload bytes, a
/// 512-byte KDH written by <see cref="KernelDumpHeader.Write"/>, an EKCD key, FINISHED) into
/// hostile datagrams: bit flips, truncations (also inside the 24-byte header), extensions,
/// overwritten or swapped header fields, header-only and empty datagrams, and broken KDH fields.
/// Everything follows the seed: the same seed gives the same datagrams. Allocation-free per
/// datagram, so a million of them measure the code under test, not the generator.
/// </summary>
public sealed class PacketMutator : IFuzzedDatagrams
{
    /// <summary>The largest UDP payload over IPv4, which the server must accept.</summary>
    public const int MaxDatagram = DatagramMutations.MaxDatagram;

    public const int MaxVmcorePayload = 8948;

    private static readonly int[] CommonPayloads = [1448, 4096, MaxVmcorePayload, 512];

    private readonly Random _random;
    private readonly byte[] _buffer = new byte[MaxDatagram];
    private readonly DatagramMutations _generic;
    private readonly byte[][] _heraldPayloads;
    private readonly byte[][] _kdhTemplates;
    private readonly ulong _maxDumpSize;
    private readonly long _dataRange;
    private readonly PacketMix _mix;
    private readonly int _validPercent;
    private readonly long[] _counts = new long[Enum.GetValues<Mutation>().Length];
    private uint _sequence = 1;
    private int _length;

    /// <param name="seed">Makes the whole stream reproducible.</param>
    /// <param name="maxDumpSize">The server's <c>max_dump_size</c>: offsets are aimed at its edge too.</param>
    /// <param name="dataRange">Valid VMCORE offsets fall in [0, dataRange).</param>
    /// <param name="mix">The valid messages mutated; <see cref="PacketMix.Even"/> by default.</param>
    /// <param name="validPercent">Percent of datagrams left valid.</param>
    public PacketMutator(int seed, ulong maxDumpSize = 64UL << 20, long dataRange = 8L << 20, PacketMix? mix = null, int validPercent = 5)
    {
        _random = new Random(seed);
        _generic = new DatagramMutations(_random);
        _maxDumpSize = maxDumpSize;
        _dataRange = dataRange;
        _mix = mix ?? PacketMix.Even;
        _validPercent = validPercent;
        _heraldPayloads =
        [
            [],
            HeraldPayload.Encode("fuzz"),
            HeraldPayload.Encode("fuzz/deeper"),
            HeraldPayload.Encode("crash/web7"),
            HeraldPayload.Encode("../../etc"),
            HeraldPayload.Encode("/var/tmp"),
            HeraldPayload.Encode("dümp/ü"),
            HeraldPayload.Encode("a\u0085b"),
            HeraldPayload.Encode(new string('p', HeraldPayload.MaxLength - 1)),
            [0],
        ];
        _kdhTemplates = Enumerable.Range(0, 32).Select(_ => NewKdh()).ToArray();
    }

    public ReadOnlySpan<byte> Packet => _buffer.AsSpan(0, _length);

    public string LastOrigin => $"{BaseType} with {LastMutation}";

    /// <summary>The type of the valid message the last datagram was made from.</summary>
    public MessageType BaseType { get; private set; }

    /// <summary>The (first) mutation applied to the last datagram.</summary>
    public Mutation LastMutation { get; private set; }

    /// <summary>How many datagrams each mutation produced so far.</summary>
    public IReadOnlyList<long> Counts => _counts;

    public int Next()
    {
        BaseType = _mix.Pick(_random);
        BuildValid(BaseType);
        LastMutation = _random.Next(100) < _validPercent ? Mutation.None : PickMutation();
        Apply(LastMutation);

        // a quarter of the mutated datagrams get a second, different mutation on top
        if (LastMutation != Mutation.None && _random.Next(4) == 0)
        {
            Apply(PickMutation());
        }

        _counts[(int)LastMutation]++;
        return _length;
    }

    private Mutation PickMutation()
    {
        if (BaseType == MessageType.Kdh && _random.Next(100) < 40)
        {
            return Mutation.KdhField;
        }

        return _random.Next(100) switch
        {
            < 24 => Mutation.BitFlips,
            < 34 => Mutation.Truncation,
            < 42 => Mutation.Extension,
            < 51 => Mutation.TypeField,
            < 62 => Mutation.LengthField,
            < 73 => Mutation.OffsetField,
            < 77 => Mutation.SequenceField,
            < 82 => Mutation.Aux2Field,
            < 89 => Mutation.FieldSwap,
            < 96 => Mutation.HeaderOnly,
            _ => Mutation.Empty,
        };
    }

    private void BuildValid(MessageType type)
    {
        var sequence = _sequence++;
        ulong offset = 0;
        int payload;
        var body = _buffer.AsSpan(MessageHeader.Size);
        switch (type)
        {
            case MessageType.Herald:
                sequence = _random.Next(3) == 0 ? 1 : sequence;
                var path = _heraldPayloads[_random.Next(_heraldPayloads.Length)];
                path.CopyTo(body);
                payload = path.Length;
                break;
            case MessageType.Vmcore:
                payload = _random.Next(10) switch
                {
                    < 4 => CommonPayloads[_random.Next(CommonPayloads.Length)],
                    4 => 0,
                    _ => _random.Next(MaxVmcorePayload + 1),
                };
                offset = (ulong)_random.NextInt64(_dataRange) & ~511UL;
                FromPool(body[..payload]);
                break;
            case MessageType.Kdh:
                payload = KernelDumpHeader.Size;
                _kdhTemplates[_random.Next(_kdhTemplates.Length)].CopyTo(body);
                if (_random.Next(2) == 0)
                {
                    // a fresh dumplength below the cap, parity kept right
                    BinaryPrimitives.WriteUInt64BigEndian(body[40..], (ulong)_random.NextInt64((long)Math.Min(_maxDumpSize, long.MaxValue)));
                    FixParity(body);
                }

                break;
            case MessageType.EkcdKey:
                payload = _random.Next(20) switch
                {
                    < 12 => 4096,
                    12 => _random.Next(EncryptionKeyHeader.HeadSize),
                    _ => _random.Next(EncryptionKeyHeader.HeadSize, 4097),
                };
                FromPool(body[..payload]);
                if (payload >= EncryptionKeyHeader.HeadSize)
                {
                    body[0] = (byte)_random.Next(1, 3);
                    var room = payload - EncryptionKeyHeader.HeadSize;
                    var keySize = Math.Min(room, _random.Next(2) == 0 ? 256 : _random.Next(room + 1));
                    BinaryPrimitives.WriteUInt32BigEndian(body[(1 + EncryptionKeyHeader.IvLength)..], (uint)keySize);
                }

                offset = _random.Next(8) == 0 ? (ulong)_random.Next(16) * 4096 : 0;
                break;
            default:
                payload = 0;
                break;
        }

        new MessageHeader(type, sequence, offset, (uint)payload, 0).Write(_buffer);
        _length = MessageHeader.Size + payload;
    }

    private void Apply(Mutation mutation)
    {
        switch (mutation)
        {
            case Mutation.None:
                break;
            case Mutation.BitFlips:
                FlipBits();
                break;
            case Mutation.Truncation:
                _length = _generic.Truncate(_length, MessageHeader.Size);
                break;
            case Mutation.Extension:
                _length = _generic.Extend(_buffer, _length);
                break;
            case Mutation.TypeField:
                WriteWord(0, _random.Next(8) switch
                {
                    0 => 0u,
                    1 => 6u,
                    2 => uint.MaxValue,
                    3 => 7u,
                    4 => 0x8000_0000u | (uint)_random.Next(6),
                    5 => 0x0100_0000u | (uint)_random.Next(6),
                    6 => (uint)_random.Next(1, 6), // another valid type: the payload is read as something else
                    _ => RandomUInt(),
                });
                break;
            case Mutation.LengthField:
                var actual = (uint)Math.Max(0, _length - MessageHeader.Size);
                WriteWord(16, _random.Next(8) switch
                {
                    0 => actual + 1,
                    1 => actual - 1, // wraps to 0xFFFFFFFF for an empty payload
                    2 => 0u,
                    3 => uint.MaxValue,
                    4 => MaxDatagram - MessageHeader.Size,
                    5 => MaxDatagram,
                    6 => actual + (uint)_random.Next(2, 10_000),
                    _ => RandomUInt(),
                });
                break;
            case Mutation.OffsetField:
                var length = (ulong)Math.Max(0, _length - MessageHeader.Size);
                WriteOffset(_random.Next(12) switch
                {
                    0 => ulong.MaxValue - (ulong)_random.Next(10_000),
                    1 => ulong.MaxValue - length + 1, // offset + len wraps to exactly 0
                    2 => (ulong)_random.NextInt64(1L << 40, long.MaxValue) | ((ulong)_random.Next(2) << 63),
                    3 => RandomULong(),
                    4 => _maxDumpSize - (ulong)_random.Next(1, 10_000),
                    5 => _maxDumpSize - length, // ends exactly at the cap
                    6 => _maxDumpSize - length + 1, // one byte past it
                    7 => _maxDumpSize + (ulong)_random.Next(10_000),
                    8 => long.MaxValue,
                    9 => 1UL << 63,
                    10 => (ulong)_random.NextInt64(_dataRange),
                    _ => (ulong)_random.NextInt64((long)Math.Min(_maxDumpSize, long.MaxValue)),
                });
                break;
            case Mutation.SequenceField:
                WriteWord(4, _random.Next(3) switch { 0 => 0u, 1 => uint.MaxValue, _ => RandomUInt() });
                break;
            case Mutation.Aux2Field:
                WriteWord(20, _random.Next(3) switch { 0 => 1u, 1 => uint.MaxValue, _ => RandomUInt() });
                break;
            case Mutation.FieldSwap:
                if (_length >= MessageHeader.Size)
                {
                    var a = _random.Next(6) * 4;
                    var b = (a + 4 * _random.Next(1, 6)) % MessageHeader.Size;
                    var words = _buffer.AsSpan(0, MessageHeader.Size);
                    var first = BinaryPrimitives.ReadUInt32BigEndian(words[a..]);
                    BinaryPrimitives.WriteUInt32BigEndian(words[a..], BinaryPrimitives.ReadUInt32BigEndian(words[b..]));
                    BinaryPrimitives.WriteUInt32BigEndian(words[b..], first);
                }

                break;
            case Mutation.HeaderOnly:
                _length = Math.Min(_length, MessageHeader.Size);
                if (_length == MessageHeader.Size && _random.Next(2) == 0)
                {
                    WriteWord(16, 0); // a well-formed message of any type with no payload at all
                }

                break;
            case Mutation.Empty:
                _length = 0;
                break;
            case Mutation.KdhField:
                MutateKdh();
                break;
        }
    }

    private void FlipBits() => _generic.FlipBits(_buffer.AsSpan(0, _length), MessageHeader.Size);

    private void MutateKdh()
    {
        if (_length < MessageHeader.Size + KernelDumpHeader.Size)
        {
            FlipBits();
            return;
        }

        var h = _buffer.AsSpan(MessageHeader.Size, KernelDumpHeader.Size);
        var fields = _random.Next(1, 4);
        for (var i = 0; i < fields; i++)
        {
            switch (_random.Next(11))
            {
                case 0: // magic: random, one letter off, the text-dump magic, or no NUL at all
                    switch (_random.Next(4))
                    {
                        case 0:
                            FromPool(h[..20]);
                            break;
                        case 1:
                            h[_random.Next(19)] ^= (byte)(1 << _random.Next(8));
                            break;
                        case 2:
                            h[..20].Clear();
                            Encoding.ASCII.GetBytes(KernelDumpHeader.TextDumpMagic, h);
                            break;
                        default:
                            h[..20].Fill((byte)'F');
                            break;
                    }

                    break;
                case 1:
                    BinaryPrimitives.WriteUInt32BigEndian(h[32..], _random.Next(5) switch
                    {
                        0 => 0u, 1 => 3u, 2 => 5u, 3 => uint.MaxValue, _ => RandomUInt(),
                    });
                    break;
                case 2:
                    h[495] = (byte)_random.Next(3, 256);
                    break;
                case 3: // dumplength past the cap, past any disk, or at the top of 64 bits
                    BinaryPrimitives.WriteUInt64BigEndian(h[40..], _random.Next(5) switch
                    {
                        0 => ulong.MaxValue,
                        1 => 1UL << 63,
                        2 => _maxDumpSize + 1,
                        3 => 0,
                        _ => RandomULong(),
                    });
                    break;
                case 4: // dumptime at and past what a DateTimeOffset can hold
                    BinaryPrimitives.WriteUInt64BigEndian(h[48..], _random.Next(4) switch
                    {
                        0 => ulong.MaxValue,
                        1 => (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds(),
                        2 => (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds() + 1,
                        _ => RandomULong(),
                    });
                    break;
                case 5: // parity broken
                    h[508 + _random.Next(4)] ^= (byte)_random.Next(1, 256);
                    break;
                case 6: // strings without a NUL, with invalid UTF-8 or control characters
                    var (start, size) = _random.Next(4) switch
                    {
                        0 => (20, 12),
                        1 => (64, 64),
                        2 => (128, 192),
                        _ => (320, 175),
                    };
                    var text = h.Slice(start, size);
                    switch (_random.Next(3))
                    {
                        case 0:
                            text.Fill((byte)'x');
                            break;
                        case 1:
                            FromPool(text);
                            break;
                        default:
                            var hostile = "\u001b[2J\r\nDump complete\n\u0085"u8;
                            hostile[..Math.Min(hostile.Length, text.Length)].CopyTo(text);
                            text[^1] = 0xC3; // a UTF-8 lead byte cut at the end of the field
                            break;
                    }

                    break;
                case 7:
                    BinaryPrimitives.WriteUInt32BigEndian(h[56..], RandomUInt()); // dumpkeysize
                    break;
                case 8:
                    BinaryPrimitives.WriteUInt32BigEndian(h[60..], RandomUInt()); // blocksize
                    break;
                case 9:
                    BinaryPrimitives.WriteUInt64BigEndian(h[496..], RandomULong()); // dumpextent
                    break;
                default:
                    FlipBits();
                    break;
            }
        }

        // half of the broken headers get a correct parity again, so only the field is wrong
        if (_random.Next(2) == 0)
        {
            FixParity(h);
        }
    }

    private byte[] NewKdh()
    {
        var header = new KernelDumpHeader(
            _random.Next(4) == 0 ? KernelDumpHeader.TextDumpMagic : KernelDumpHeader.KernelDumpMagic,
            new[] { "amd64", "arm64", "i386", "powerpc64", "riscv" }[_random.Next(5)],
            KernelDumpHeader.SupportedVersion,
            (uint)_random.Next(1, 4),
            (ulong)_random.NextInt64((long)Math.Min(_maxDumpSize, long.MaxValue)),
            (ulong)_random.NextInt64(1L << 33),
            _random.Next(2) == 0 ? 0u : 4096u,
            512,
            RandomText(_random.Next(70)),
            RandomText(_random.Next(200)),
            RandomText(_random.Next(180)),
            (DumpCompression)_random.Next(3),
            (ulong)_random.NextInt64(1L << 40),
            0);
        var bytes = new byte[KernelDumpHeader.Size];
        header.Write(bytes);
        return bytes;
    }

    private string RandomText(int length) =>
        string.Create(length, _random, (chars, random) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = (char)random.Next(0x20, 0x7f);
            }
        });

    /// <summary>Sets the parity word so all 128 words XOR to zero again.</summary>
    private static void FixParity(Span<byte> kdh)
    {
        BinaryPrimitives.WriteUInt32BigEndian(kdh[508..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(kdh[508..], KernelDumpHeader.ComputeParity(kdh));
    }

    private void FromPool(Span<byte> destination) => _generic.FromPool(destination);

    private void WriteWord(int at, uint value) => DatagramMutations.WriteWord(_buffer.AsSpan(0, _length), at, value);

    private void WriteOffset(ulong value)
    {
        if (_length >= 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(_buffer.AsSpan(8), value);
        }
    }

    private uint RandomUInt() => _generic.RandomUInt();

    private ulong RandomULong() => _generic.RandomULong();
}
