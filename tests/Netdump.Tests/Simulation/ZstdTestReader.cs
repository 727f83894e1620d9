using System.Buffers.Binary;

namespace Netdump.Tests.Simulation;

/// <summary>
/// Just enough of an RFC 8878 reader to check the simulated client's frames: frame header
/// (any descriptor), then Raw and RLE blocks. Compressed blocks are refused, as the client
/// never writes them; a malformed frame throws <see cref="InvalidDataException"/>.
/// </summary>
internal static class ZstdTestReader
{
    public static byte[] Decode(ReadOnlySpan<byte> frame, out int blocks)
    {
        blocks = 0;
        Require(frame.Length >= 6 && BinaryPrimitives.ReadUInt32LittleEndian(frame) == 0xFD2FB528, "bad magic");
        var descriptor = frame[4];
        var contentSizeFlag = descriptor >> 6;
        var singleSegment = (descriptor >> 5 & 1) == 1;
        Require((descriptor >> 3 & 1) == 0, "reserved bit set");
        var checksum = (descriptor >> 2 & 1) == 1;
        var dictionaryIdSize = (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        var position = 5;
        var windowSize = long.MaxValue;
        if (!singleSegment)
        {
            var window = frame[position++];
            var windowLog = 10 + (window >> 3);
            var windowBase = 1L << windowLog;
            windowSize = windowBase + (windowBase / 8 * (window & 7));
        }

        position += dictionaryIdSize;
        var contentSizeBytes = contentSizeFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        long? contentSize = contentSizeBytes switch
        {
            0 => null,
            1 => frame[position],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(frame[position..]) + 256,
            4 => BinaryPrimitives.ReadUInt32LittleEndian(frame[position..]),
            _ => (long)BinaryPrimitives.ReadUInt64LittleEndian(frame[position..]),
        };
        position += contentSizeBytes;

        var maxBlock = (int)Math.Min(128 * 1024, singleSegment ? contentSize ?? 0 : windowSize);
        var output = new MemoryStream();
        while (true)
        {
            Require(position + 3 <= frame.Length, "truncated block header");
            var header = frame[position] | frame[position + 1] << 8 | frame[position + 2] << 16;
            position += 3;
            var last = (header & 1) == 1;
            var type = header >> 1 & 3;
            var size = header >> 3;
            Require(size <= maxBlock, $"block of {size} bytes exceeds {maxBlock}");
            switch (type)
            {
                case 0:
                    Require(position + size <= frame.Length, "truncated raw block");
                    output.Write(frame.Slice(position, size));
                    position += size;
                    break;
                case 1:
                    Require(position < frame.Length, "truncated RLE block");
                    for (var i = 0; i < size; i++)
                    {
                        output.WriteByte(frame[position]);
                    }

                    position++;
                    break;
                default:
                    throw new InvalidDataException($"block type {type} not supported by the test reader");
            }

            blocks++;
            if (last)
            {
                break;
            }
        }

        if (checksum)
        {
            position += 4;
        }

        Require(position == frame.Length, $"{frame.Length - position} bytes after the frame");
        Require(contentSize is null || contentSize == output.Length, $"content size {contentSize} but {output.Length} bytes decoded");
        return output.ToArray();
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidDataException(message);
        }
    }
}
