using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// What the start-up <see cref="RecoveryScan"/> does for a complete dump that a killed server
/// left in the middle of its aftercare (<see cref="CoreCompression"/>, decryption): a copy under
/// its hidden temporary name is removed; a <c>vmcore.zst</c> beside <c>vmcore</c> means the
/// copy was renamed into place but the original not yet removed, so the copy is checked again
/// against the recorded SHA-256: verified, it becomes the core (reports, then the original goes);
/// not verified, it goes and the original stays the core. The original is never removed unless
/// a verified copy stands in for it, and a pair that is not a compression's (a client's own
/// <c>vmcore.zst</c> and the operator's decompressed <c>vmcore</c>) is left alone.
/// </summary>
public static class CompressionRecovery
{
    /// <summary>Null when nothing needed doing; otherwise what was done, for the log.</summary>
    public static string? Tidy(string directory, Dictionary<string, FileSystemInfo> entries, JsonElement json)
    {
        var notes = new List<string>();
        foreach (var name in CoreFileNames.All.Select(CoreCompression.TemporaryName))
        {
            if (entries.TryGetValue(name, out var entry) && DumpTree.IsPlainFile(entry))
            {
                File.Delete(entry.FullName);
                notes.Add($"removed {name}, a copy a stopped server did not finish");
            }
        }

        if (IsRegularFile(entries, CoreCompression.PlainCoreName) && IsRegularFile(entries, CoreCompression.CompressedCoreName)
            && Settle(directory, json) is { } settled)
        {
            notes.Add(settled);
        }

        if (notes.Count > 0)
        {
            FileSystemSync.FsyncDirectory(directory);
        }

        return notes.Count == 0 ? null : string.Join("; ", notes);
    }

    /// <summary>
    /// Both <c>vmcore</c> and <c>vmcore.zst</c>: keeps the one that stands for the core as received.
    /// Null when the pair is not a compression's: a dump whose client sent <c>vmcore.zst</c> (or
    /// whose decryption wrote it), with the operator's <c>zstd -d vmcore.zst</c> beside it, once
    /// lost the file the client sent, "not verified" against a checksum of other bytes.
    /// </summary>
    private static string? Settle(string directory, JsonElement json)
    {
        var original = Path.Combine(directory, CoreCompression.PlainCoreName);
        var copy = Path.Combine(directory, CoreCompression.CompressedCoreName);
        if (DumpRecordReader.FromJson(json, directory, out var unreadable) is not { } record)
        {
            return $"{CoreCompression.CompressedCoreName} and {CoreCompression.PlainCoreName} both left alone: {unreadable}";
        }

        if (!CompressedHere(record))
        {
            return null;
        }

        string? why;
        (string Content, string File)? hashes = null;
        if (record.Sha256 is null)
        {
            why = "there is no recorded SHA-256 to check it against";
        }
        else
        {
            try
            {
                hashes = ZstdCore.HashThrough(copy, CancellationToken.None);
                why = hashes.Value.Content == record.Sha256 ? null : $"it decompresses to SHA-256 {hashes.Value.Content}, not the recorded {record.Sha256}";
            }
            catch (InvalidDataException e)
            {
                why = e.Message;
            }
        }

        if (why is null)
        {
            DumpReport.Write(record with
            {
                Vmcore = CoreCompression.CompressedCoreName,
                CompressedAtRest = true,
                StoredBytes = (ulong)new FileInfo(copy).Length,
                StoredSha256 = hashes!.Value.File,
            });
            File.Delete(original);
            return $"{CoreCompression.CompressedCoreName} verified against the recorded SHA-256; {CoreCompression.PlainCoreName}, which a stopped compression had not removed yet, removed";
        }

        File.Delete(copy);
        if (record.Vmcore != CoreCompression.PlainCoreName || record.CompressedAtRest)
        {
            DumpReport.Write(record with
            {
                Vmcore = CoreCompression.PlainCoreName,
                CompressedAtRest = false,
                StoredBytes = (ulong)new FileInfo(original).Length,
                StoredSha256 = record.Sha256,
            });
        }

        return $"{CoreCompression.CompressedCoreName} does not verify ({why}): removed, {CoreCompression.PlainCoreName} kept";
    }

    /// <summary>
    /// Whether the dump is one compression at rest works on: it arrived plain (no encryption, no
    /// compression of its own, so its core as received is <c>vmcore</c>), and its reports name
    /// <c>vmcore</c> (the copy not yet named) or the copy as compressed here.
    /// </summary>
    private static bool CompressedHere(DumpRecord record) =>
        !record.Encrypted && record.DecryptedVmcore is null && record.Header is not { Compression: not Protocol.DumpCompression.None }
        && (record.Vmcore == CoreCompression.PlainCoreName ? !record.CompressedAtRest : record.Vmcore == CoreCompression.CompressedCoreName && record.CompressedAtRest);

    private static bool IsRegularFile(Dictionary<string, FileSystemInfo> entries, string name) =>
        entries.TryGetValue(name, out var entry) && DumpTree.IsPlainFile(entry);
}
