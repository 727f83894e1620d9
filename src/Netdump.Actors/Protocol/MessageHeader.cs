using System.Buffers.Binary;

namespace Netdump.Actors.Protocol;

/// <summary>The five netdump message types (debugnet's <c>mh_type</c>).</summary>
public enum MessageType : uint
{
    Herald = 1,
    Finished = 2,
    Vmcore = 3,
    Kdh = 4,
    EkcdKey = 5,
}

/// <summary>Why a datagram was not a valid netdump message.</summary>
public enum HeaderError
{
    None,
    TooShort,
    LengthMismatch,
    UnknownType,
}

/// <summary>
/// The 24-byte big-endian <c>debugnet_msg_hdr</c> that starts every client datagram:
/// type, seqno, offset, len, aux2.
/// </summary>
public readonly record struct MessageHeader(MessageType Type, uint Sequence, ulong Offset, uint Length, uint Aux2)
{
    public const int Size = 24;

    /// <summary>
    /// Reads and validates the header of one datagram: it must hold at least 24 bytes,
    /// exactly <c>24 + len</c> bytes in all, and a known type. On
    /// <see cref="HeaderError.LengthMismatch"/> and <see cref="HeaderError.UnknownType"/>
    /// the fields are still filled in, for the log line.
    /// </summary>
    public static HeaderError TryRead(ReadOnlySpan<byte> datagram, out MessageHeader header)
    {
        if (datagram.Length < Size)
        {
            header = default;
            return HeaderError.TooShort;
        }

        var type = BinaryPrimitives.ReadUInt32BigEndian(datagram);
        var length = BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]);
        header = new MessageHeader(
            (MessageType)type,
            BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]),
            BinaryPrimitives.ReadUInt64BigEndian(datagram[8..]),
            length,
            BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]));

        if ((ulong)datagram.Length != Size + (ulong)length)
        {
            return HeaderError.LengthMismatch;
        }

        return type is >= (uint)MessageType.Herald and <= (uint)MessageType.EkcdKey
            ? HeaderError.None
            : HeaderError.UnknownType;
    }

    /// <summary>Writes this header into the first 24 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Type);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Sequence);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Offset);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], Aux2);
    }

    /// <summary>The end of this message's payload in its file, or null when offset + len overflows 64 bits.</summary>
    public ulong? End => Offset > ulong.MaxValue - Length ? null : Offset + Length;

    public static string Describe(HeaderError error) => error switch
    {
        HeaderError.None => "valid",
        HeaderError.TooShort => "datagram shorter than the 24-byte header",
        HeaderError.LengthMismatch => "datagram size differs from 24 + len",
        HeaderError.UnknownType => "unknown message type",
        _ => error.ToString(),
    };
}
