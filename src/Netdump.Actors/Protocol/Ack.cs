using System.Buffers.Binary;

namespace Netdump.Actors.Protocol;

/// <summary>The server's only message: 4 bytes, the big-endian seqno being acknowledged.</summary>
public static class Ack
{
    public const int Size = 4;

    public static void Write(Span<byte> destination, uint sequence) =>
        BinaryPrimitives.WriteUInt32BigEndian(destination, sequence);

    /// <summary>A client counts a datagram as an ack only if it is exactly 4 bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out uint sequence)
    {
        if (datagram.Length != Size)
        {
            sequence = 0;
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt32BigEndian(datagram);
        return true;
    }
}
