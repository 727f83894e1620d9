using System.Buffers;
using System.Security.Cryptography;

namespace Netdump.Actors.Storage;

/// <summary>
/// The SHA-256 of a finished dump's stored core (SPEC §10), as <c>sha256sum</c> prints it.
/// Read in large sequential chunks: a core is gigabytes, and the hash runs on its own thread
/// after the dump ended, never while it is being received.
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
    public static string Compute(string path, CancellationToken cancel)
    {
        using var file = RegularFile.OpenRead(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // pooled: a fresh 1 MiB array per dump is a large-object allocation, which the GC
        // zeroes, commits and soon collects in full (a millisecond of every dump's fixed cost;
        // docs/performance.md)
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long offset = 0;
            int read;
            while ((read = RandomAccess.Read(file, buffer.AsSpan(0, ChunkBytes), offset)) > 0)
            {
                cancel.ThrowIfCancellationRequested();
                hash.AppendData(buffer, 0, read);
                offset += read;
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held kernel memory
        }
    }
}
