using System.Buffers.Binary;
using System.Text;

namespace Netdump.Actors.Protocol;

/// <summary>The dump's compression as the KDH gives it (<c>kdh.compression</c>).</summary>
public enum DumpCompression : byte
{
    None = 0,
    Gzip = 1,
    Zstd = 2,
}

/// <summary>
/// FreeBSD's <c>struct kerneldumpheader</c>, version 4: 512 bytes, big-endian, sent in the
/// KDH message after the dump data. Strings are trimmed at their first NUL.
/// </summary>
public sealed record KernelDumpHeader(
    string Magic,
    string Architecture,
    uint Version,
    uint ArchitectureVersion,
    ulong DumpLength,
    ulong DumpTime,
    uint DumpKeySize,
    uint BlockSize,
    string Hostname,
    string VersionString,
    string PanicString,
    DumpCompression Compression,
    ulong DumpExtent,
    uint Parity)
{
    public const int Size = 512;
    public const uint SupportedVersion = 4;
    public const string KernelDumpMagic = "FreeBSD Kernel Dump";
    public const string TextDumpMagic = "FreeBSD Text Dump";

    private const int MagicLength = 20;
    private const int ArchitectureLength = 12;
    private const int HostnameLength = 64;
    private const int VersionStringLength = 192;
    private const int PanicStringLength = 175;

    /// <summary>True when the header's 128 32-bit words XOR to zero, as the kernel computes it.</summary>
    public bool ParityOk { get; init; } = true;

    /// <summary>The dump time as UTC (seconds since the epoch in the header).</summary>
    public DateTimeOffset DumpTimeUtc =>
        DumpTime > (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? DateTimeOffset.MaxValue
            : DateTimeOffset.FromUnixTimeSeconds((long)DumpTime);

    /// <summary>
    /// Parses a KDH payload. A payload shorter than 512 bytes, a wrong magic, a version other
    /// than 4 or an unknown compression gives false and a reason, never an exception. A parity
    /// failure still parses: <see cref="ParityOk"/> says so.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out KernelDumpHeader? header, out string? reason)
    {
        header = null;
        if (payload.Length < Size)
        {
            reason = $"kernel dump header of {payload.Length} bytes, expected {Size}";
            return false;
        }

        var h = payload[..Size];
        var magic = ReadMagic(h[..MagicLength]);
        if (magic is not (KernelDumpMagic or TextDumpMagic))
        {
            reason = $"bad kernel dump header magic \"{Printable(magic)}\"";
            return false;
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(h[32..]);
        if (version != SupportedVersion)
        {
            reason = $"kernel dump header version {version}, expected {SupportedVersion}";
            return false;
        }

        var compression = h[495];
        if (compression > (byte)DumpCompression.Zstd)
        {
            reason = $"unknown compression {compression} in kernel dump header";
            return false;
        }

        header = new KernelDumpHeader(
            magic,
            ReadString(h.Slice(20, ArchitectureLength)),
            version,
            BinaryPrimitives.ReadUInt32BigEndian(h[36..]),
            BinaryPrimitives.ReadUInt64BigEndian(h[40..]),
            BinaryPrimitives.ReadUInt64BigEndian(h[48..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[56..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[60..]),
            ReadString(h.Slice(64, HostnameLength)),
            ReadString(h.Slice(128, VersionStringLength)),
            ReadString(h.Slice(320, PanicStringLength)),
            (DumpCompression)compression,
            BinaryPrimitives.ReadUInt64BigEndian(h[496..]),
            BinaryPrimitives.ReadUInt32BigEndian(h[508..]))
        {
            ParityOk = ComputeParity(h) == 0,
        };
        reason = null;
        return true;
    }

    /// <summary>
    /// Writes the header as the kernel does, with the parity word chosen so that all 128 words
    /// XOR to zero. Strings longer than their field are cut.
    /// </summary>
    public void Write(Span<byte> destination)
    {
        var h = destination[..Size];
        h.Clear();
        WriteString(h[..MagicLength], Magic);
        WriteString(h.Slice(20, ArchitectureLength), Architecture);
        BinaryPrimitives.WriteUInt32BigEndian(h[32..], Version);
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], ArchitectureVersion);
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], DumpLength);
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], DumpTime);
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], DumpKeySize);
        BinaryPrimitives.WriteUInt32BigEndian(h[60..], BlockSize);
        WriteString(h.Slice(64, HostnameLength), Hostname);
        WriteString(h.Slice(128, VersionStringLength), VersionString);
        WriteString(h.Slice(320, PanicStringLength), PanicString);
        h[495] = (byte)Compression;
        BinaryPrimitives.WriteUInt64BigEndian(h[496..], DumpExtent);
        BinaryPrimitives.WriteUInt32BigEndian(h[508..], ComputeParity(h));
    }

    /// <summary>XOR of the 128 big-endian 32-bit words; zero for a valid header.</summary>
    public static uint ComputeParity(ReadOnlySpan<byte> header)
    {
        uint parity = 0;
        for (var i = 0; i < Size; i += 4)
        {
            parity ^= BinaryPrimitives.ReadUInt32BigEndian(header[i..]);
        }

        return parity;
    }

    /// <summary>The magic exactly as sent (up to its NUL, nothing trimmed), as savecore compares it.</summary>
    private static string ReadMagic(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static string ReadString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        var text = end < 0 ? field : field[..end];
        return Encoding.UTF8.GetString(text).TrimEnd();
    }

    private static void WriteString(Span<byte> field, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var length = Math.Min(bytes.Length, field.Length - 1);

        // Cut before a UTF-8 continuation byte, not inside a character: a split character would
        // read back as U+FFFD.
        while (length > 0 && length < bytes.Length && (bytes[length] & 0xC0) == 0x80)
        {
            length--;
        }

        bytes.AsSpan(0, length).CopyTo(field);
    }

    private static string Printable(string text) =>
        new(text.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
