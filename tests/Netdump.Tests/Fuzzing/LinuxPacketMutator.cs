using System.Buffers.Binary;
using System.Text;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Fuzzing;

/// <summary>The valid Linux netdump datagram a fuzzed one was made from: a client reply, or a server request.</summary>
public enum LinuxBase
{
    Start,
    Mem,
    Reserved,
    Regs,
    Log,
    NrPages,
    PageSize,
    ShowState,
    Request,
}

/// <summary>How a fuzzed Linux datagram was derived from a valid one.</summary>
public enum LinuxMutation
{
    /// <summary>The valid datagram itself, so the stream also reaches the success paths.</summary>
    None,
    BitFlips,
    Truncation,
    Extension,

    /// <summary>The payload a few bytes shorter or longer, or at the size limits (1024, the largest payload and one past it).</summary>
    Resize,
    VersionField,
    SequenceField,
    CodeField,
    InfoField,

    /// <summary>START's "name:0xHEX" text or REGS' preamble and gregset broken the ways a text can break.</summary>
    PayloadText,
}

/// <summary>
/// Turns valid Linux netdump datagrams, as the RHEL4 kernel's <c>send_netdump_msg</c> and this
/// server write them (START with the kernel's text for i386, x86_64, ppc64 and ia64, 1024-byte
/// REPLY_MEM chunks, REPLY_RESERVED, REPLY_REGS with a gregset, console LOG text, NR_PAGES,
/// PAGE_SIZE, SHOW_STATE, and 24-byte requests), into hostile ones: the dialect-free mutations of
/// <see cref="DatagramMutations"/>, payload sizes at the edges, overwritten header fields, and
/// START/REGS text mutations. One seed, one stream; allocation-free per datagram.
/// </summary>
public sealed class LinuxPacketMutator : IFuzzedDatagrams
{
    private const string RegsPreamble = "Sending register info.\n";
    private static readonly LinuxBase[] Mix =
    [
        LinuxBase.Start, LinuxBase.Start, LinuxBase.Mem, LinuxBase.Mem, LinuxBase.Mem, LinuxBase.Mem, LinuxBase.Reserved,
        LinuxBase.Regs, LinuxBase.Regs, LinuxBase.Log, LinuxBase.Log, LinuxBase.NrPages, LinuxBase.PageSize,
        LinuxBase.ShowState, LinuxBase.Request, LinuxBase.Request,
    ];

    // i386, x86_64, ppc64 and ia64 with their PAGE_OFFSET; only the first two have a known gregset
    private static readonly (ushort Machine, ulong PageOffset)[] Machines =
    [
        (ElfMachine.I386, 0xc0000000), (ElfMachine.X86_64, 0xffff810000000000), (21, 0xc000000000000000), (50, 0xe000000000000000),
    ];

    private static readonly byte[] Hostile = [.. " \t\r\n\0:gGxX-+,"u8, 0x80, 0xFF];
    private static readonly int[] GregsetSteps = [-8, -4, -1, 1, 4, 8];
    private static readonly byte[][] ExtraFields =
    [
        " cpu:0x1"u8.ToArray(), " junk"u8.ToArray(), " :0x5"u8.ToArray(), " task_struct:0xdeadbeef"u8.ToArray(),
        " netdump_magic:0x0"u8.ToArray(), "\0trailing"u8.ToArray(),
    ];

    private readonly Random _random;
    private readonly DatagramMutations _generic;
    private readonly byte[] _buffer = new byte[DatagramMutations.MaxDatagram];
    private readonly (ushort Machine, byte[] Text)[] _starts;
    private readonly byte[][] _logs;
    private readonly (LinuxReplyCode Code, uint Info, byte[] Text)[] _answers;
    private readonly byte[] _preamble = Encoding.ASCII.GetBytes(RegsPreamble);
    private readonly long[] _counts = new long[Enum.GetValues<LinuxMutation>().Length];
    private readonly int _validPercent;
    private uint _sequence = 1;
    private int _headerSize;
    private int _length;

    /// <param name="seed">Makes the whole stream reproducible.</param>
    /// <param name="validPercent">Percent of datagrams left valid.</param>
    public LinuxPacketMutator(int seed, int validPercent = 5)
    {
        _random = new Random(seed);
        _generic = new DatagramMutations(_random);
        _validPercent = validPercent;
        _starts = Enumerable.Range(0, 64).Select(_ => NewStart()).ToArray();
        _logs =
        [
            "[...network console startup...]\n"u8.ToArray(),
            "Kernel panic - not syncing: Fatal exception\n"u8.ToArray(),
            "Unable to handle kernel NULL pointer dereference at 0000000000000000 RIP: \n"u8.ToArray(),
            "Oops: 0002 [1] SMP \n"u8.ToArray(),
            Encoding.ASCII.GetBytes(new string('x', 1000)),
            [],
        ];
        _answers =
        [
            (LinuxReplyCode.NrPages, 262144, "Number of pages: 262144\n"u8.ToArray()),
            (LinuxReplyCode.NrPages, 1_048_576, "Number of pages: 1048576\n"u8.ToArray()),
            (LinuxReplyCode.PageSize, 4096, "PAGE_SIZE: 4096\n"u8.ToArray()),
            (LinuxReplyCode.PageSize, 16384, "PAGE_SIZE: 16384\n"u8.ToArray()),
            // SHOW_STATE sends whatever the previous answer left in the kernel's buffer
            (LinuxReplyCode.ShowState, 0, "Number of pages: 262144\n"u8.ToArray()),
            (LinuxReplyCode.ShowState, 0, []),
        ];
    }

    public ReadOnlySpan<byte> Packet => _buffer.AsSpan(0, _length);

    public string LastOrigin => $"{BaseType} with {LastMutation}, machine {Machine}";

    /// <summary>The valid datagram the last one was made from.</summary>
    public LinuxBase BaseType { get; private set; }

    /// <summary>The machine the client said it is, whose gregset a REPLY_REGS carries.</summary>
    public ushort Machine { get; private set; }

    /// <summary>The (first) mutation applied to the last datagram.</summary>
    public LinuxMutation LastMutation { get; private set; }

    /// <summary>How many datagrams each mutation produced so far.</summary>
    public IReadOnlyList<long> Counts => _counts;

    public int Next()
    {
        BaseType = Mix[_random.Next(Mix.Length)];
        BuildValid();
        LastMutation = _random.Next(100) < _validPercent ? LinuxMutation.None : PickMutation();
        Apply(LastMutation);

        // a quarter of the mutated datagrams get a second mutation on top
        if (LastMutation != LinuxMutation.None && _random.Next(4) == 0)
        {
            Apply(PickMutation());
        }

        _counts[(int)LastMutation]++;
        return _length;
    }

    private LinuxMutation PickMutation()
    {
        if (BaseType is LinuxBase.Start or LinuxBase.Regs && _random.Next(100) < 40)
        {
            return LinuxMutation.PayloadText;
        }

        return _random.Next(100) switch
        {
            < 22 => LinuxMutation.BitFlips,
            < 34 => LinuxMutation.Truncation,
            < 44 => LinuxMutation.Extension,
            < 56 => LinuxMutation.Resize,
            < 62 => LinuxMutation.VersionField,
            < 72 => LinuxMutation.SequenceField,
            < 86 => LinuxMutation.CodeField,
            _ => LinuxMutation.InfoField,
        };
    }

    private void BuildValid()
    {
        var sequence = _sequence++;
        if (BaseType == LinuxBase.Request)
        {
            var command = _random.Next(2) == 0 ? LinuxCommand.SendMem : (LinuxCommand)_random.Next(10);
            var magic = _random.Next(2) == 0 ? 0x1111111111111111UL : _generic.RandomULong();
            new LinuxRequest(magic, sequence, command, (uint)_random.Next(1 << 20)).Write(_buffer);
            _headerSize = LinuxRequest.Size;
            _length = LinuxRequest.Size;
            return;
        }

        _headerSize = LinuxReplyHeader.Size;
        var body = _buffer.AsSpan(LinuxReplyHeader.Size);
        byte version = 5;
        LinuxReplyCode code;
        uint info;
        int payload;
        switch (BaseType)
        {
            case LinuxBase.Start:
                // sent before any version is agreed: NETDUMP_VERSION 4, nr = the machine, info = the client's maximum
                var (machine, text) = _starts[_random.Next(_starts.Length)];
                (version, sequence, code, info) = (4, machine, LinuxReplyCode.StartNetdump, (uint)_random.Next(4, 6));
                Machine = machine;
                text.CopyTo(body);
                payload = text.Length;
                break;
            case LinuxBase.Mem:
                (code, info, payload) = (LinuxReplyCode.Mem, (uint)_random.Next(_random.Next(4) == 0 ? 16 : 4) * 1024, LinuxReplyHeader.MemChunk);
                _generic.FromPool(body[..payload]);
                break;
            case LinuxBase.Reserved:
                (code, info, payload) = (LinuxReplyCode.Reserved, _random.Next(4) == 0 ? 0u : (uint)_random.Next(1 << 20), 0);
                break;
            case LinuxBase.Regs:
                Machine = Machines[_random.Next(Machines.Length)].Machine;
                var gregs = LinuxRegisters.GregsetSize(Machine) ?? _random.Next(400);
                (code, info, payload) = (LinuxReplyCode.Regs, (uint)_random.Next(1 << 20), _preamble.Length + gregs);
                _preamble.CopyTo(body);
                _generic.FromPool(body[_preamble.Length..payload]);
                break;
            case LinuxBase.Log:
                // nr 0, info the running offset of the console stream
                (sequence, code, info) = (0, LinuxReplyCode.Log, _generic.RandomUInt());
                var log = _logs[_random.Next(_logs.Length)];
                log.CopyTo(body);
                payload = log.Length;
                break;
            default:
                var answer = _answers[(BaseType - LinuxBase.NrPages) * 2 + _random.Next(2)];
                (code, info, payload) = (answer.Code, answer.Info, answer.Text.Length);
                answer.Text.CopyTo(body);
                break;
        }

        new LinuxReplyHeader(version, sequence, code, info).Write(_buffer);
        _length = LinuxReplyHeader.Size + payload;
    }

    private void Apply(LinuxMutation mutation)
    {
        // the same meaning sits at other offsets in a request: magic, nr at 8, command at 12, from at 16
        var request = BaseType == LinuxBase.Request;
        switch (mutation)
        {
            case LinuxMutation.None:
                break;
            case LinuxMutation.BitFlips:
                _generic.FlipBits(_buffer.AsSpan(0, _length), _headerSize);
                break;
            case LinuxMutation.Truncation:
                _length = _generic.Truncate(_length, _headerSize);
                break;
            case LinuxMutation.Extension:
                _length = _generic.Extend(_buffer, _length);
                break;
            case LinuxMutation.Resize:
                Resize();
                break;
            case LinuxMutation.VersionField:
                if (_length > 0)
                {
                    _buffer[0] = (byte)(_random.Next(7) switch { 0 => 0, 1 => 3, 2 => 4, 3 => 5, 4 => 6, 5 => 0xFF, _ => _random.Next(256) });
                }

                break;
            case LinuxMutation.SequenceField:
                WriteWord(request ? 8 : 1, _random.Next(7) switch
                {
                    0 => 0u, 1 => ElfMachine.I386, 2 => ElfMachine.X86_64, 3 => ushort.MaxValue, 4 => 0x10000u, 5 => uint.MaxValue,
                    _ => _generic.RandomUInt(),
                });
                break;
            case LinuxMutation.CodeField:
                WriteWord(request ? 12 : 5, _random.Next(7) switch
                {
                    0 or 1 => (uint)_random.Next(13), // another valid code: the payload is read as something else
                    2 => 13u,
                    3 => (uint)_random.Next(13) << 24, // written little-endian
                    4 => uint.MaxValue,
                    5 => (uint)LinuxReplyCode.StartNetdump,
                    _ => _generic.RandomUInt(),
                });
                break;
            case LinuxMutation.InfoField:
                WriteWord(request ? 16 : 9, _random.Next(7) switch
                {
                    0 => 0u,
                    1 => (uint)_random.Next(64) * 1024, // aligned, past any page size
                    2 => (uint)_random.Next(1, 1024) + (uint)_random.Next(4) * 1024, // inside a chunk
                    3 => uint.MaxValue,
                    4 => 0xFFFFFC00u,
                    5 => LinuxVersion.Server,
                    _ => _generic.RandomUInt(),
                });
                break;
            case LinuxMutation.PayloadText:
                if (BaseType == LinuxBase.Start)
                {
                    MutateStartText();
                }
                else
                {
                    MutateRegs();
                }

                break;
        }
    }

    private void Resize()
    {
        var payload = Math.Max(0, _length - _headerSize);
        var size = _random.Next(8) switch
        {
            0 => payload - 1,
            1 => payload + 1,
            2 => payload + _random.Next(-8, 9),
            3 => LinuxReplyHeader.MaxPayload,
            4 => LinuxReplyHeader.MaxPayload + 1,
            5 => LinuxReplyHeader.MemChunk + _random.Next(-1, 2),
            6 => 0,
            _ => LinuxStart.MaxPayload + _random.Next(-1, 2),
        };
        SetLength(_headerSize + Math.Max(0, size));
    }

    /// <summary>Breaks the START text the ways a "name:0xHEX name:0xHEX ...\n" text can break.</summary>
    private void MutateStartText()
    {
        var start = LinuxReplyHeader.Size;
        var text = _length - start;
        if (text <= 0)
        {
            return;
        }

        var at = start + _random.Next(text);
        switch (_random.Next(12))
        {
            case 0:
                _buffer[at] = (byte)_random.Next(0x20, 0x7f);
                break;
            case 1:
                _buffer[at] = Hostile[_random.Next(Hostile.Length)];
                break;
            case 2:
                Delete(at, _random.Next(1, 21));
                break;
            case 3: // leading zeros: the same value, until there are too many digits
                InsertAfterHexPrefix("0000"u8[.._random.Next(1, 5)]);
                break;
            case 4: // a piece of the text again: a field twice, or a field cut and glued
                var from = start + _random.Next(text);
                Span<byte> piece = stackalloc byte[Math.Min(_random.Next(1, 40), _length - from)];
                _buffer.AsSpan(from, piece.Length).CopyTo(piece);
                Insert(at, piece);
                break;
            case 5:
                SetLength(at);
                break;
            case 6: // spaces up to, or just past, the parser's limit
                var target = start + LinuxStart.MaxPayload + _random.Next(-1, 2) + (_random.Next(8) == 0 ? 100 : 0);
                _buffer.AsSpan(_length, Math.Max(0, target - _length)).Fill((byte)' ');
                SetLength(Math.Max(_length, target));
                break;
            case 7:
                var extra = ExtraFields[_random.Next(ExtraFields.Length)];
                Insert(_length - (_buffer[_length - 1] == '\n' ? 1 : 0), extra);
                break;
            case 8:
                if (char.IsAsciiLetter((char)_buffer[at]))
                {
                    _buffer[at] ^= 0x20;
                }

                break;
            case 9:
                if (AfterHexPrefix() is var digits and >= 0)
                {
                    Delete(digits - 2, 2);
                }

                break;
            case 10: // one digit more: a 16-digit value no longer fits in 64 bits
                InsertAfterHexPrefix("1"u8);
                break;
            default:
                var space = _buffer.AsSpan(start, text).IndexOf((byte)' ');
                if (space >= 0)
                {
                    _buffer[start + space] = "\0\n\t,"u8[_random.Next(4)];
                }

                break;
        }
    }

    /// <summary>Breaks the REGS payload: the preamble, or the size of the gregset after it.</summary>
    private void MutateRegs()
    {
        var start = LinuxReplyHeader.Size;
        var preambleEnd = start + _preamble.Length;
        if (_length < preambleEnd)
        {
            return;
        }

        var gregs = _length - preambleEnd;
        switch (_random.Next(8))
        {
            case 0:
                _buffer[start + _random.Next(_preamble.Length)] ^= 0x20;
                break;
            case 1:
                Delete(start, _preamble.Length);
                break;
            case 2:
                Delete(preambleEnd - 1, 1);
                break;
            case 3:
                SetLength(preambleEnd + Math.Max(0, gregs + GregsetSteps[_random.Next(GregsetSteps.Length)]));
                break;
            case 4: // the other machine's gregset
                SetLength(preambleEnd + (gregs == 68 ? 216 : 68));
                break;
            case 5:
                SetLength(preambleEnd);
                break;
            case 6:
                Insert(preambleEnd, [0]);
                break;
            default:
                SetLength(preambleEnd + _random.Next(400));
                break;
        }
    }

    /// <summary>The position just after a "0x" of the START text (the first after a random place, else the first), or -1.</summary>
    private int AfterHexPrefix()
    {
        var start = LinuxReplyHeader.Size;
        var from = start + _random.Next(Math.Max(1, _length - start));
        var found = _buffer.AsSpan(from, _length - from).IndexOf("0x"u8);
        if (found < 0)
        {
            found = _buffer.AsSpan(start, _length - start).IndexOf("0x"u8);
            from = start;
        }

        return found < 0 ? -1 : from + found + 2;
    }

    private void InsertAfterHexPrefix(ReadOnlySpan<byte> digits)
    {
        if (AfterHexPrefix() is var at and >= 0)
        {
            Insert(at, digits);
        }
    }

    private void Insert(int at, ReadOnlySpan<byte> bytes)
    {
        var count = Math.Min(bytes.Length, _buffer.Length - _length);
        _buffer.AsSpan(at, _length - at).CopyTo(_buffer.AsSpan(at + count));
        bytes[..count].CopyTo(_buffer.AsSpan(at));
        _length += count;
    }

    private void Delete(int at, int count)
    {
        count = Math.Min(count, _length - at);
        _buffer.AsSpan(at + count, _length - at - count).CopyTo(_buffer.AsSpan(at));
        _length -= count;
    }

    /// <summary>A new length; bytes it adds come from the seeded pool.</summary>
    private void SetLength(int length)
    {
        length = Math.Min(length, _buffer.Length);
        if (length > _length)
        {
            _generic.FromPool(_buffer.AsSpan(_length, length - _length));
        }

        _length = length;
    }

    private void WriteWord(int at, uint value) => DatagramMutations.WriteWord(_buffer.AsSpan(0, _length), at, value);

    /// <summary>A START text as <c>netdump_startup_handshake</c>'s sprintf writes it, for a random machine and magic.</summary>
    private (ushort, byte[]) NewStart()
    {
        var (machine, pageOffset) = Machines[_random.Next(Machines.Length)];
        var task = pageOffset + ((ulong)_random.Next(1 << 24) << 12);
        var magic = _random.Next(4) switch
        {
            0 => 0x1111111111111111UL, // NETDUMPKEYEXCHANGE=none
            1 => (ulong)_generic.RandomUInt(), // magic2 = 0: the leading zeros are not printed
            2 => 0UL, // no magic given to the module
            _ => _generic.RandomULong(),
        };
        return (machine, Encoding.ASCII.GetBytes($"task_struct:0x{task:x} page_offset:0x{pageOffset:x} netdump_magic:0x{magic:x}\n"));
    }
}
