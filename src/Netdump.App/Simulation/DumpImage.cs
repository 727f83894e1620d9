using System.IO.Compression;
using System.Security.Cryptography;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.App.Simulation;

/// <summary>
/// Everything a simulated kernel sends, prepared before the first packet: the VMCORE stream
/// (memory, compressed and/or encrypted the way the kernel does it), the padded EKCD key and
/// the kernel dump header. Uncompressed dumps are produced 64 KiB at a time while sending, so
/// their size is not bounded by what fits in an array; compressed ones are held in memory.
/// </summary>
/// <remarks>
/// Layouts, with <c>dumplength</c> as the KDH gives it and "sent" the VMCORE bytes on the wire:
/// <list type="bullet">
/// <item>plain: sent = memory, dumplength = size.</item>
/// <item>encrypted: memory zero-padded to 4096, then AES-256-CBC or ChaCha20; dumplength = sent length.</item>
/// <item>compressed: the exact gzip stream or zstd frame is dumplength; sent is zero-padded to
/// 4096 (the kernel writes its last block whole) and, when encrypted, the padded stream is
/// encrypted. The stored core after the server truncates to dumplength is the first
/// dumplength bytes of what was sent.</item>
/// </list>
/// The symmetric key is 64 random bytes (KERNELDUMP_KEY_MAX_SIZE, which decryptcore insists
/// on), wrapped with RSA-OAEP as <c>dumpon -k</c> wraps it; the cipher (<see cref="EkcdCipher"/>)
/// is AES-256-CBC or ChaCha20, as the kernel runs them.
/// </remarks>
internal sealed class DumpImage
{
    public const int BlockSize = 4096;
    public const int SymmetricKeySize = 64;
    public const int ChunkSize = 64 * 1024;

    private readonly int seed;
    private readonly byte[]? stored;
    private readonly Lazy<byte[]> plainCore;

    public DumpImage(SimulationOptions options)
    {
        seed = options.Seed;
        MemorySize = options.Size;
        Compression = options.Compress;

        Cipher = options.Cipher;
        if (options.Encrypt)
        {
            // dumpon -k: the public key wraps the kernel's random key with RSA-OAEP
            Rsa = options.PublicKey is { } pem ? PublicKey(pem) : RSA.Create(2048);
            SymmetricKey = RandomNumberGenerator.GetBytes(SymmetricKeySize);
            Iv = RandomNumberGenerator.GetBytes(EncryptionKeyHeader.IvLength);
            var encryptedKey = Rsa.Encrypt(SymmetricKey, RSAEncryptionPadding.OaepSHA1);
            var key = new byte[RoundUp(EncryptionKeyHeader.HeadSize + encryptedKey.Length)];
            new EncryptionKeyHeader(options.Cipher, Iv, (uint)encryptedKey.Length).WriteHead(key);
            encryptedKey.CopyTo(key, EncryptionKeyHeader.HeadSize);
            Key = key;
        }

        switch (options.Compress)
        {
            case DumpCompression.None:
                DumpLength = options.Encrypt ? RoundUp(options.Size) : options.Size;
                WireLength = DumpLength;
                break;
            case DumpCompression.Gzip:
                stored = Gzip(options.Size, out var gzipLength);
                DumpLength = gzipLength;
                WireLength = stored.Length;
                break;
            default:
                var frame = ZstdRawFrame.Write(options.Size, FillMemory);
                DumpLength = frame.Length;
                Array.Resize(ref frame, checked((int)RoundUp(frame.Length)));
                stored = frame;
                WireLength = stored.Length;
                break;
        }

        if (stored is not null && options.Encrypt)
        {
            using var cipher = CreateCipher();
            cipher.Transform(stored);
        }

        plainCore = new Lazy<byte[]>(MaterializeCore);

        var dumpTime = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new KernelDumpHeader(
            KernelDumpHeader.KernelDumpMagic,
            "amd64",
            KernelDumpHeader.SupportedVersion,
            2,
            (ulong)DumpLength,
            dumpTime,
            (uint)Key.Length,
            BlockSize,
            options.Hostname,
            options.FreeBsd12 ? "FreeBSD 12.4-RELEASE simulated\n" : "FreeBSD 14.1-RELEASE simulated\n",
            options.Panic,
            options.Compress,
            (ulong)DumpLength,
            0);
        HeaderBytes = new byte[KernelDumpHeader.Size];
        header.Write(HeaderBytes);

        // Read back, so the exposed header carries the parity that was really written.
        KernelDumpHeader.TryParse(HeaderBytes, out var written, out _);
        Header = written!;
    }

    /// <summary>Bytes of uncompressed memory.</summary>
    public long MemorySize { get; }

    /// <summary>The KDH's dumplength: what the stored core holds once the server truncated it.</summary>
    public long DumpLength { get; }

    /// <summary>VMCORE bytes sent (dumplength plus the compressed dump's padding).</summary>
    public long WireLength { get; }

    public DumpCompression Compression { get; }

    /// <summary>The EKCD key as sent (head, RSA-encrypted key, zero padding to 4096); empty when not encrypted.</summary>
    public byte[] Key { get; } = [];

    /// <summary>
    /// The key whose public half wrapped <see cref="SymmetricKey"/>: an ephemeral pair, or only
    /// the public key of <see cref="SimulationOptions.PublicKey"/>; null when not encrypted.
    /// </summary>
    public RSA? Rsa { get; }

    /// <summary>The dump's cipher when it is encrypted.</summary>
    public KeyEncryption Cipher { get; }

    /// <summary>The 64-byte key the RSA key wraps; AES-256 and ChaCha20 use its first 32 bytes.</summary>
    public byte[]? SymmetricKey { get; }

    /// <summary>The 32-byte <c>kdk_iv</c>; AES-CBC uses its first 16 bytes, ChaCha20 its first 8 (the nonce).</summary>
    public byte[]? Iv { get; }

    public KernelDumpHeader Header { get; }

    /// <summary>The 512 bytes of the KDH message, parity included.</summary>
    public byte[] HeaderBytes { get; }

    /// <summary>The stored core of a complete dump: the first dumplength bytes sent.</summary>
    public ReadOnlyMemory<byte> Core => stored is not null
        ? stored.AsMemory(0, checked((int)DumpLength))
        : plainCore.Value;

    /// <summary>A reader over the VMCORE stream; cheapest when read front to back, as the client does.</summary>
    public WireReader OpenWire() =>
        stored is not null ? new StoredReader(stored)
        : Rsa is not null ? new CipherReader(this)
        : new PlainReader(this);

    private void FillMemory(long offset, Span<byte> destination) => MemoryPattern.Fill(seed, offset, destination);

    /// <summary>The kernel's cipher stream over the dump, from its first byte.</summary>
    private EkcdCipher CreateCipher() => EkcdCipher.Create(Cipher, SymmetricKey, Iv, encrypt: true);

    /// <summary>The RSA public key in a PEM file, as <c>dumpon -k</c> takes it.</summary>
    private static RSA PublicKey(string path)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(File.ReadAllText(path));
            return rsa;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new ArgumentException($"--public-key {path}: not a readable RSA public key in PEM: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private byte[] MaterializeCore()
    {
        if (WireLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"a {WireLength}-byte core does not fit in memory; read it with OpenWire");
        }

        var core = new byte[WireLength];
        var reader = OpenWire();
        for (long offset = 0; offset < WireLength; offset += ChunkSize)
        {
            reader.Read(offset, core.AsSpan((int)offset, (int)Math.Min(ChunkSize, WireLength - offset)));
        }

        return core;
    }

    private byte[] Gzip(long size, out long length)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            var chunk = new byte[ChunkSize];
            for (long offset = 0; offset < size; offset += ChunkSize)
            {
                var count = (int)Math.Min(ChunkSize, size - offset);
                FillMemory(offset, chunk.AsSpan(0, count));
                gzip.Write(chunk, 0, count);
            }
        }

        length = output.Length;
        output.SetLength(RoundUp(length));
        return output.ToArray();
    }

    private static long RoundUp(long length) => (length + BlockSize - 1) / BlockSize * BlockSize;

    /// <summary>Reads the VMCORE stream at an offset.</summary>
    internal abstract class WireReader
    {
        public abstract void Read(long offset, Span<byte> destination);
    }

    private sealed class StoredReader(byte[] stored) : WireReader
    {
        public override void Read(long offset, Span<byte> destination) =>
            stored.AsSpan(checked((int)offset), destination.Length).CopyTo(destination);
    }

    private sealed class PlainReader(DumpImage image) : WireReader
    {
        public override void Read(long offset, Span<byte> destination) => image.FillMemory(offset, destination);
    }

    /// <summary>
    /// Encrypts zero-padded memory as one cipher stream, as the kernel does (AES-CBC chaining each
    /// block's last ciphertext into the next, ChaCha20 running its block counter on). Reading
    /// anywhere but where the last read stopped starts over.
    /// </summary>
    private sealed class CipherReader : WireReader
    {
        private readonly DumpImage image;
        private EkcdCipher cipher;
        private long next;

        public CipherReader(DumpImage image)
        {
            this.image = image;
            cipher = image.CreateCipher();
        }

        public override void Read(long offset, Span<byte> destination)
        {
            if (offset % 16 != 0 || destination.Length % 16 != 0)
            {
                throw new ArgumentException("encrypted reads must be aligned to the AES block");
            }

            if (offset != next)
            {
                cipher.Dispose();
                cipher = image.CreateCipher();
                next = 0;
                var skip = new byte[ChunkSize];
                while (next < offset)
                {
                    Encrypt(next, skip.AsSpan(0, (int)Math.Min(ChunkSize, offset - next)));
                }
            }

            Encrypt(offset, destination);
        }

        private void Encrypt(long offset, Span<byte> destination)
        {
            var memory = (int)Math.Clamp(image.MemorySize - offset, 0, destination.Length);
            image.FillMemory(offset, destination[..memory]);
            destination[memory..].Clear();
            cipher.Transform(destination);
            next = offset + destination.Length;
        }
    }
}
