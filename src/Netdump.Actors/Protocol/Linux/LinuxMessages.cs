using System.Buffers.Binary;

namespace Netdump.Actors.Protocol.Linux;

/// <summary>What the server asks a Linux client (RHEL4 <c>netdump.h</c>, Red Hat numbering, not LKCD's).</summary>
public enum LinuxCommand : uint
{
    None = 0,
    SendMem = 1,
    Exit = 2,
    Reboot = 3,
    Hello = 4,
    GetNrPages = 5,
    GetPageSize = 6,
    StartNetdumpAck = 7,
    GetRegs = 8,
    ShowState = 9,
}

/// <summary>What a Linux client sends (every client packet is a "reply", solicited or not).</summary>
public enum LinuxReplyCode : uint
{
    None = 0,
    Error = 1,
    Log = 2,
    Mem = 3,
    Reserved = 4,
    Hello = 5,
    NrPages = 6,
    PageSize = 7,
    StartNetdump = 8,
    EndNetdump = 9,
    Regs = 10,
    Magic = 11,
    ShowState = 12,
}

/// <summary>Why a datagram was not a usable Linux netdump reply.</summary>
public enum LinuxReplyError
{
    None,
    TooShort,
    TooLong,
    UnknownCode,
    BadMemChunk,
}

/// <summary>
/// A server request, 24 bytes, every field big-endian (the kernel <c>ntohl</c>s them): the
/// client's magic, a sequence number the reply echoes, the command, <c>from</c> (the page
/// frame for SEND_MEM, the server's version in START_NETDUMP_ACK) and <c>to</c> (unused).
/// </summary>
public readonly record struct LinuxRequest(ulong Magic, uint Sequence, LinuxCommand Command, uint From, uint To = 0)
{
    public const int Size = 24;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], (uint)Command);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], From);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], To);
    }

    /// <summary>Reads a request (the client side: the simulated client and tests); false when shorter than 24 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out LinuxRequest request)
    {
        if (datagram.Length < Size)
        {
            request = default;
            return false;
        }

        request = new LinuxRequest(
            BinaryPrimitives.ReadUInt64BigEndian(datagram),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]),
            (LinuxCommand)BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]));
        return true;
    }
}

/// <summary>
/// The 13-byte packed header of a client reply: the protocol version, the sequence number of
/// the request it answers (the machine type in START), the reply code and <c>info</c> (an
/// offset, a count or a page frame, by code), all big-endian; the payload follows.
/// </summary>
public readonly record struct LinuxReplyHeader(byte Version, uint Sequence, LinuxReplyCode Code, uint Info)
{
    public const int Size = 13;

    /// <summary>A REPLY_MEM carries one 1024-byte piece of a page, at offset <c>info</c> in it.</summary>
    public const int MemChunk = 1024;

    /// <summary>
    /// The largest payload accepted: RHEL4 sends at most 1024 bytes, RHEL3's console at most
    /// 1447 (a full Ethernet frame); beyond that nothing a client sends fits.
    /// </summary>
    public const int MaxPayload = 1472 - Size;

    /// <summary>
    /// Reads and validates one datagram's header: at least 13 bytes, a payload of at most
    /// <see cref="MaxPayload"/>, a known code, and for REPLY_MEM exactly one 1024-byte chunk at
    /// a 1024-aligned offset. On errors other than <see cref="LinuxReplyError.TooShort"/> the
    /// fields are still filled in, for the log line.
    /// </summary>
    public static LinuxReplyError TryRead(ReadOnlySpan<byte> datagram, out LinuxReplyHeader header)
    {
        if (datagram.Length < Size)
        {
            header = default;
            return LinuxReplyError.TooShort;
        }

        header = new LinuxReplyHeader(
            datagram[0],
            BinaryPrimitives.ReadUInt32BigEndian(datagram[1..]),
            (LinuxReplyCode)BinaryPrimitives.ReadUInt32BigEndian(datagram[5..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[9..]));
        var payload = datagram.Length - Size;
        if (payload > MaxPayload)
        {
            return LinuxReplyError.TooLong;
        }

        if (header.Code > LinuxReplyCode.ShowState)
        {
            return LinuxReplyError.UnknownCode;
        }

        return header.Code == LinuxReplyCode.Mem && (payload != MemChunk || header.Info % MemChunk != 0)
            ? LinuxReplyError.BadMemChunk
            : LinuxReplyError.None;
    }

    /// <summary>Writes this header into the first 13 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        destination[0] = Version;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], Sequence);
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)Code);
        BinaryPrimitives.WriteUInt32BigEndian(destination[9..], Info);
    }

    public static string Describe(LinuxReplyError error) => error switch
    {
        LinuxReplyError.None => "valid",
        LinuxReplyError.TooShort => "datagram shorter than the 13-byte reply header",
        LinuxReplyError.TooLong => $"payload longer than {MaxPayload} bytes",
        LinuxReplyError.UnknownCode => "unknown reply code",
        LinuxReplyError.BadMemChunk => "REPLY_MEM that is not one 1024-byte chunk at a 1024-byte offset",
        _ => error.ToString(),
    };
}

/// <summary>The protocol versions: what this server speaks, and what a client may negotiate.</summary>
public static class LinuxVersion
{
    /// <summary>The server's version, sent in START_NETDUMP_ACK's <c>from</c> (RHEL4's NETDUMP_VERSION_MAX).</summary>
    public const uint Server = 5;

    /// <summary>What a client uses with this server: min(its maximum, ours), as <c>platform_effective_version</c>.</summary>
    public static uint Effective(uint clientMax) => Math.Min(clientMax, Server);
}
