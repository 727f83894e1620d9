using System.Buffers.Binary;

namespace Netdump.App.Simulation;

/// <summary>Writes the content at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
internal delegate void ContentFiller(long offset, Span<byte> destination);

/// <summary>
/// Writes a valid zstd frame (RFC 8878) made only of Raw blocks, so a "zstd-compressed" dump
/// can be produced without a zstd library: magic, a frame header with a 128 KiB window and an
/// 8-byte content size, then blocks of at most 128 KiB, the last one flagged. No checksum.
/// </summary>
internal static class ZstdRawFrame
{
    public const uint Magic = 0xFD2FB528;
    public const int MaxBlockSize = 128 * 1024;

    // Frame_Header_Descriptor: Frame_Content_Size_flag 3 (8 bytes), Single_Segment 0, no checksum, no dictionary.
    private const byte FrameHeaderDescriptor = 0xC0;

    // Window_Descriptor: exponent 7, mantissa 0 -> 2^(10+7) = 128 KiB, enough for raw blocks.
    private const byte WindowDescriptor = 7 << 3;

    public const int FrameHeaderSize = 4 + 1 + 1 + 8;
    private const int BlockHeaderSize = 3;

    /// <summary>The frame's length for <paramref name="contentSize"/> bytes of content.</summary>
    public static long FrameLength(long contentSize) =>
        FrameHeaderSize + contentSize + (BlockHeaderSize * Math.Max(1, (contentSize + MaxBlockSize - 1) / MaxBlockSize));

    /// <summary>Writes the frame of <paramref name="contentSize"/> bytes, taking the content from <paramref name="fill"/>.</summary>
    public static byte[] Write(long contentSize, ContentFiller fill)
    {
        var frame = new byte[checked((int)FrameLength(contentSize))];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        frame[4] = FrameHeaderDescriptor;
        frame[5] = WindowDescriptor;
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(6), (ulong)contentSize);

        var position = FrameHeaderSize;
        long done = 0;
        do
        {
            var size = (int)Math.Min(MaxBlockSize, contentSize - done);
            var last = done + size == contentSize;

            // Block_Header, 3 bytes little-endian: Last_Block (bit 0), Block_Type 0 = Raw (bits 1-2), Block_Size (bits 3-23).
            var header = (uint)(size << 3) | (last ? 1u : 0u);
            frame[position] = (byte)header;
            frame[position + 1] = (byte)(header >> 8);
            frame[position + 2] = (byte)(header >> 16);
            position += BlockHeaderSize;
            fill(done, frame.AsSpan(position, size));
            position += size;
            done += size;
        }
        while (done < contentSize);

        return frame;
    }
}
