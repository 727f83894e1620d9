using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Netdump.Actors.Storage;

/// <summary>A stored core's SHA-256 and its length, both of the one file that was read.</summary>
public readonly record struct CoreHash(string Sha256, ulong Bytes);

/// <summary>
/// The SHA-256 of a finished dump's stored core (SPEC §10), as <c>sha256sum</c> prints it.
/// Read in large sequential chunks: a core is gigabytes, and the hash runs after the dump's
/// data ended, never while it is being received (a small core's at its end, a larger one's on
/// a thread of its own after the ack: <c>DumpWriterActor.ChecksumBeforeAckBytes</c>).
/// </summary>
public static class CoreChecksum
{
    /// <summary>Large enough that the read syscalls cost nothing beside the hash.</summary>
    private const int ChunkBytes = 1024 * 1024;

    /// <summary>
    /// The lowercase hex SHA-256 of the file's bytes (a sparse core's holes read as zeros, as
    /// they do for any reader). Throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> when it cannot be read, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancel"/> fires.
    /// </summary>
    public static string Compute(string path, CancellationToken cancel) => Hash(path, cancel).Sha256;

    /// <summary>The file's SHA-256 and length (of the file opened, not of whatever the name holds later). Throws as <see cref="Compute"/>.</summary>
    public static CoreHash Hash(string path, CancellationToken cancel) => Hash(path, long.MaxValue, cancel)!.Value;

    /// <summary>
    /// The file's SHA-256 and length if it is at most <paramref name="maxBytes"/> long; null,
    /// having read nothing, when it is longer. Throws as <see cref="Compute"/>.
    /// </summary>
    public static CoreHash? Hash(string path, long maxBytes, CancellationToken cancel)
    {
        using var file = RegularFile.OpenRead(path);
        var length = RandomAccess.GetLength(file);
        return length <= maxBytes ? new CoreHash(Compute(file, cancel), (ulong)length) : null;
    }

    private static string Compute(SafeFileHandle file, CancellationToken cancel)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // pooled: a fresh 1 MiB array per dump is a large-object allocation, which the GC
        // zeroes, commits and soon collects in full (a millisecond of every dump's fixed cost;
        // docs/performance.md)
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var used = 0; // the most any read filled: a small core's hash clears only that
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(file, buffer.AsSpan(0, ChunkBytes), offset)) > 0)
            {
                used = Math.Max(used, read);
                cancel.ThrowIfCancellationRequested();
                hash.AppendData(buffer, 0, read);
                offset += read;
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            buffer.AsSpan(0, used).Clear(); // it held kernel memory
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
