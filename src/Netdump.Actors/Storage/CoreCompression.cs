using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>How one compression at rest ended.</summary>
public enum CompressionOutcome
{
    /// <summary><c>vmcore.zst</c> verified, the reports name it, <c>vmcore</c> is gone.</summary>
    Compressed,

    /// <summary>The copy did not verify against the recorded SHA-256: the original stays, the reports say why, and it is not tried again.</summary>
    Refused,

    /// <summary>Something that may pass (no space, an I/O error, a stop): the original stays as it was, nothing is left beside it, a later start tries again.</summary>
    Failed,
}

/// <summary>What <see cref="CoreCompression.Run"/> did: the dump's record as its reports now say, and why when not compressed.</summary>
public sealed record CompressionResult(CompressionOutcome Outcome, DumpRecord Record, string? Why);

/// <summary>
/// Compression at rest (SPEC §10, <c>compress = zstd</c>): a complete dump that arrived
/// uncompressed and unencrypted is rewritten as <c>vmcore.zst</c> so that a kill at any moment
/// leaves the original or a verified copy, never neither: the copy is written under a hidden
/// temporary name and fsynced, decompressed and checked against the SHA-256 recorded when the
/// dump completed, renamed into place (the directory fsynced), named in the reports, and only
/// then is the original removed. The start-up <see cref="RecoveryScan"/> tidies what a kill
/// leaves (<see cref="CompressionRecovery"/>).
/// </summary>
public static class CoreCompression
{
    /// <summary>The name a core that arrived plain has, and which compression at rest replaces.</summary>
    public const string PlainCoreName = CoreFileNames.Plain;

    public const string CompressedCoreName = CoreFileNames.CompressedAtRest;

    /// <summary>The hidden name a file is written under before it is renamed to <paramref name="finalName"/>.</summary>
    public static string TemporaryName(string finalName) => $".{finalName}.tmp";

    /// <summary>Null when the dump is one to compress at rest; otherwise why not.</summary>
    public static string? WhyNot(DumpRecord r) =>
        r.Status != DumpStatus.Complete ? "not complete"
        : r.CompressedAtRest ? "compressed at rest already"
        : r.CompressionProblem is { } problem ? $"given up before: {problem}"
        : r.Encrypted ? "it arrived encrypted"
        : r.Header is { Compression: not DumpCompression.None } ? "it arrived compressed"
        : r.Vmcore != PlainCoreName ? $"its core is {r.Vmcore}, not {PlainCoreName}"
        : r.Sha256 is null ? "no SHA-256 to verify a copy against"
        : null;

    /// <summary>
    /// Compresses the dump's <c>vmcore</c> (see the type). Never throws for the disk: every
    /// failure is an outcome with its reason, the original untouched and the partial copy
    /// removed. <paramref name="cancel"/> (the server stopping) is honoured while the copy is
    /// written or checked, not once it is being put in place.
    /// </summary>
    /// <param name="workers">libzstd's compression threads</param>
    /// <param name="room">
    /// when given, the copy starts only if the file system has room for it (the whole core, as
    /// if it did not compress) above <see cref="CopyRoom.Reserve"/>, <c>min_free_space</c>: a
    /// copy must never eat the room that dumps being received count on
    /// </param>
    /// <param name="gate">closed while dumps are being received: the copy and its check wait at it between chunks</param>
    public static CompressionResult Run(DumpRecord record, int workers, CancellationToken cancel, CopyRoom? room = null, PauseGate? gate = null)
    {
        if (WhyNot(record) is { } whyNot)
        {
            return new CompressionResult(CompressionOutcome.Failed, record, whyNot);
        }

        var directory = record.Directory;
        var original = Path.Combine(directory, PlainCoreName);
        var final = Path.Combine(directory, CompressedCoreName);
        var temporary = Path.Combine(directory, TemporaryName(CompressedCoreName));
        var placed = false; // the copy has its final name, and the reports do not name it yet
        try
        {
            if (Path.Exists(final))
            {
                return new CompressionResult(CompressionOutcome.Failed, record, $"{CompressedCoreName} exists already beside {PlainCoreName}; left for the start-up scan");
            }

            // a temporary name is only ever this server's: a leftover of an earlier try goes
            File.Delete(temporary);
            if (room?.WhyNoRoomFor(directory, new FileInfo(original).Length) is { } noRoom)
            {
                return new CompressionResult(CompressionOutcome.Failed, record, noRoom);
            }

            // held open (a shared lock) while it is copied: retention leaves a core in use alone
            using var held = RegularFile.OpenRead(original);
            CoreLock.Share(held);
            var bytes = ZstdCore.Compress(original, temporary, workers, cancel, gate, room?.BeforeEachChunk(directory));
            ZstdCore.Fsync(temporary);
            if (Check(record, original, temporary, gate, cancel, out var storedSha256) is { } mismatch)
            {
                File.Delete(temporary);
                var refused = record with { CompressionProblem = mismatch };
                DumpReport.Write(refused);
                return new CompressionResult(CompressionOutcome.Refused, refused, mismatch);
            }

            File.Move(temporary, final, overwrite: false);
            placed = true;
            FileSystemSync.FsyncDirectory(directory);
            var compressed = record with
            {
                Vmcore = CompressedCoreName,
                CompressedAtRest = true,
                StoredBytes = (ulong)bytes,
                StoredSha256 = storedSha256,
            };
            // the reports name the copy before the original goes: a kill in between leaves both,
            // which the start-up scan settles by checking the copy again
            DumpReport.Write(compressed);
            placed = false;
            File.Delete(original);
            FileSystemSync.FsyncDirectory(directory);
            return new CompressionResult(CompressionOutcome.Compressed, compressed, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temporary);
            if (placed && ReportsNameOriginal(record))
            {
                // the original stays the core, and the reports say so again before the copy goes:
                // they may name the copy already (info written before a full disk refused
                // dump.json, or both written before the directory's fsync failed). When even that
                // fails, both files stay, which the start-up scan settles (CompressionRecovery).
                TryDelete(final);
            }

            var why = e is OperationCanceledException ? "the server is stopping" : e.Message;
            return new CompressionResult(CompressionOutcome.Failed, record, why);
        }
    }

    /// <summary>
    /// Why the copy cannot stand for the core, or null (with the copy's own SHA-256) when it
    /// decompresses to the bytes whose SHA-256 was recorded. On a mismatch the core is hashed
    /// again, so a core that changed since it was hashed is told apart from a copy that does not
    /// read back.
    /// </summary>
    private static string? Check(DumpRecord record, string original, string temporary, PauseGate? gate, CancellationToken cancel, out string storedSha256)
    {
        storedSha256 = "";
        string why;
        try
        {
            var (content, file) = ZstdCore.HashThrough(temporary, cancel, gate);
            if (content == record.Sha256)
            {
                storedSha256 = file;
                return null;
            }

            why = $"SHA-256 {content} against {record.Sha256}";
        }
        catch (InvalidDataException e)
        {
            why = e.Message;
        }

        var now = CoreChecksum.Compute(original, cancel);
        return now != record.Sha256
            ? $"{PlainCoreName} no longer matches the SHA-256 recorded when the dump completed ({record.Sha256}; it now reads as {now}): not compressed, the core is kept as it is"
            : $"the compressed copy does not read back to {PlainCoreName} ({why}): the copy is removed, the core kept";
    }

    private static bool ReportsNameOriginal(DumpRecord record)
    {
        try
        {
            DumpReport.Write(record);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the start-up scan removes it: nothing else ever uses the name
        }
    }
}
