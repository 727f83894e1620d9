using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>
/// A core through the system's zstd (<see cref="LibZstd"/>): compressed into a new file, and
/// read back through the decompressor, with the SHA-256 of what comes out and of the file. Files are read and written in large sequential chunks, on the caller's thread
/// (libzstd adds its own worker threads for compression).
/// </summary>
public static unsafe class ZstdCore
{
    /// <summary>zstd's default level: what <c>zstd</c> and <c>zstd -T0</c> use, measured against them (docs/performance.md).</summary>
    public const int Level = 3;

    private const int ChunkBytes = 1024 * 1024;

    /// <summary>Null when the system's libzstd can be loaded; otherwise why not, for the operator (see <see cref="LibZstd.WhyUnavailable"/>).</summary>
    public static string? WhyUnavailable() => LibZstd.WhyUnavailable();

    /// <summary>
    /// Compresses <paramref name="source"/> into <paramref name="destination"/>, a new file (mode
    /// 0600; an existing one is an error), with a content checksum in the frame, and returns its
    /// size. It is not fsynced here: the caller does (<see cref="Fsync"/>), which lets the
    /// benchmark time the compressor as <c>zstd</c> runs, apart from the flush. Nothing is hashed on the way: with two cores, hashing on the feeding
    /// thread took CPU from libzstd's workers (docs/performance.md), and the check that follows
    /// (<see cref="HashThrough"/>) hashes both sides anyway. On any failure (no space, an I/O error,
    /// <paramref name="cancel"/>) the partial destination is removed before the exception
    /// (<see cref="IOException"/>, <see cref="UnauthorizedAccessException"/>,
    /// <see cref="OperationCanceledException"/>) goes up; <paramref name="source"/> is only read.
    /// </summary>
    /// <param name="workers">libzstd's compression threads; 0 compresses on the calling thread</param>
    /// <param name="gate">passed before each chunk: closed, the compression waits (libzstd's workers finish the chunks they have, then idle)</param>
    /// <param name="beforeChunk">called before each chunk with the source's bytes still to come; may stop the copy with an <see cref="IOException"/></param>
    public static long Compress(string source, string destination, int workers, CancellationToken cancel, PauseGate? gate = null, Action<long>? beforeChunk = null)
    {
        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var context = LibZstd.ZSTD_createCCtx();
        if (context == 0)
        {
            throw new IOException("zstd: cannot create a compression context (out of memory)");
        }

        SafeFileHandle? output = null;
        try
        {
            LibZstd.Check(LibZstd.ZSTD_CCtx_setParameter(context, LibZstd.CompressionLevel, Level), "level");
            LibZstd.Check(LibZstd.ZSTD_CCtx_setParameter(context, LibZstd.ChecksumFlag, 1), "checksum flag");
            if (workers > 0)
            {
                LibZstd.Check(LibZstd.ZSTD_CCtx_setParameter(context, LibZstd.NbWorkers, workers), "workers");
            }

            // the frame then says how long the core is (zstd -l shows it); a core that changes size meanwhile fails the copy
            LibZstd.Check(LibZstd.ZSTD_CCtx_setPledgedSrcSize(context, (ulong)RandomAccess.GetLength(input)), "source size");

            output = File.OpenHandle(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, preallocationSize: 0);
            File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            return Stream(context, input, output, gate, beforeChunk, cancel);
        }
        catch when (output is not null)
        {
            output.Dispose();
            File.Delete(destination);
            throw;
        }
        finally
        {
            output?.Dispose();
            LibZstd.ZSTD_freeCCtx(context);
        }
    }

    /// <summary>Writes the file's data to the disk (<c>fsync</c>).</summary>
    public static void Fsync(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.FlushToDisk(file);
    }

    /// <summary>
    /// Decompresses <paramref name="compressed"/> without writing anything, and returns the
    /// SHA-256 of its content (what <c>zstd -dc | sha256sum</c> prints) and of the file itself.
    /// A damaged or truncated frame, or a content checksum that does not match, is an
    /// <see cref="InvalidDataException"/>.
    /// </summary>
    public static (string Content, string File) HashThrough(string compressed, CancellationToken cancel, PauseGate? gate = null)
    {
        using var input = File.OpenHandle(compressed, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var context = LibZstd.ZSTD_createDCtx();
        if (context == 0)
        {
            throw new IOException("zstd: cannot create a decompression context (out of memory)");
        }

        try
        {
            using var content = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var file = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var inBuffer = new byte[ChunkBytes];
            var outBuffer = new byte[ChunkBytes];
            long offset = 0;
            nuint pending = 0; // what the decompressor still expects of the current frame
            int read;
            fixed (byte* inPointer = inBuffer)
            fixed (byte* outPointer = outBuffer)
            {
                while ((read = RandomAccess.Read(input, inBuffer, offset)) > 0)
                {
                    cancel.ThrowIfCancellationRequested();
                    gate?.Pass(cancel);
                    offset += read;
                    file.AppendData(inBuffer, 0, read);
                    var source = new LibZstd.InBuffer { Source = inPointer, Size = (nuint)read };
                    while (source.Position < source.Size)
                    {
                        var target = new LibZstd.OutBuffer { Destination = outPointer, Size = (nuint)outBuffer.Length };
                        pending = Decompress(context, &target, &source);
                        content.AppendData(outBuffer, 0, (int)target.Position);
                    }

                    // a full output buffer may hold more for the same input
                    while (pending != 0)
                    {
                        var target = new LibZstd.OutBuffer { Destination = outPointer, Size = (nuint)outBuffer.Length };
                        pending = Decompress(context, &target, &source);
                        content.AppendData(outBuffer, 0, (int)target.Position);
                        if (target.Position < target.Size)
                        {
                            break; // it needs more input
                        }
                    }
                }
            }

            if (offset == 0 || pending != 0)
            {
                throw new InvalidDataException($"{compressed} is {(offset == 0 ? "empty" : "truncated")}: not a whole zstd frame");
            }

            return (Convert.ToHexStringLower(content.GetHashAndReset()), Convert.ToHexStringLower(file.GetHashAndReset()));
        }
        finally
        {
            LibZstd.ZSTD_freeDCtx(context);
        }
    }

    private static nuint Decompress(nint context, LibZstd.OutBuffer* target, LibZstd.InBuffer* source)
    {
        try
        {
            return LibZstd.Check(LibZstd.ZSTD_decompressStream(context, target, source), "decompression");
        }
        catch (IOException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>Feeds the whole input through the compressor and writes what it gives; returns the bytes written.</summary>
    private static long Stream(nint context, SafeFileHandle input, SafeFileHandle output, PauseGate? gate, Action<long>? beforeChunk, CancellationToken cancel)
    {
        var length = RandomAccess.GetLength(input);
        var inBuffer = new byte[ChunkBytes];
        var outBuffer = new byte[ChunkBytes];
        long readAt = 0, writeAt = 0;
        fixed (byte* inPointer = inBuffer)
        fixed (byte* outPointer = outBuffer)
        {
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                gate?.Pass(cancel);
                beforeChunk?.Invoke(length - readAt);
                var read = RandomAccess.Read(input, inBuffer, readAt);
                readAt += read;
                var end = read == 0;
                var source = new LibZstd.InBuffer { Source = inPointer, Size = (nuint)read };
                nuint remaining;
                do
                {
                    var target = new LibZstd.OutBuffer { Destination = outPointer, Size = (nuint)outBuffer.Length };
                    remaining = LibZstd.Check(LibZstd.ZSTD_compressStream2(context, &target, &source, end ? LibZstd.End : LibZstd.Continue), "compression");
                    if (target.Position > 0)
                    {
                        var chunk = outBuffer.AsSpan(0, (int)target.Position);
                        RandomAccess.Write(output, chunk, writeAt);
                        writeAt += chunk.Length;
                    }
                }
                while (end ? remaining != 0 : source.Position < source.Size);

                if (end)
                {
                    return writeAt;
                }
            }
        }
    }
}
