using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// A finished dump's <see cref="DumpRecord"/> read back from its <c>dump.json</c>, for the work
/// done on a dump after its writer is gone (compression at rest, decryption, their start-up
/// backlog): the record is rewritten with what changed, and every other fact stays as the writer
/// wrote it (<see cref="DumpReport.FormatJson"/> of what this reads gives the same text, for any
/// finished dump). A receiving dump's rates are not read back: they are null once it ended.
/// </summary>
public static class DumpRecordReader
{
    /// <summary>
    /// The record of the dump in <paramref name="directory"/> (its <see cref="DumpRecord.Directory"/>
    /// is where it is now, whatever dump.json says), or null with <paramref name="why"/> when
    /// dump.json is missing, unreadable or lacks a fact every record has.
    /// </summary>
    public static DumpRecord? Read(string directory, out string? why)
    {
        var file = new FileInfo(Path.Combine(directory, DumpReport.JsonFileName));
        if (!file.Exists || file.LinkTarget is not null)
        {
            why = $"no {DumpReport.JsonFileName} (or not a regular file)";
            return null;
        }

        if (DumpTree.ReadJson(file).OrNull(out why) is not { } json)
        {
            why = $"{DumpReport.JsonFileName} {why}";
            return null;
        }

        return FromJson(json, directory, out why);
    }

    /// <summary>The record a parsed <c>dump.json</c> describes; null with why when a required fact is missing.</summary>
    public static DumpRecord? FromJson(JsonElement json, string directory, out string? why)
    {
        why = null;
        var status = DumpJson.ParseStatus(DumpJson.String(json, DumpJson.Status));
        var client = DumpJson.Address(json, DumpJson.ClientIp);
        var server = DumpJson.Address(json, DumpJson.ServerIp);
        var receivedAt = DumpJson.Time(json, DumpJson.ReceivedAt);
        var vmcore = DumpJson.String(json, DumpJson.Vmcore);
        if (status is null || client is null || server is null || receivedAt is null || vmcore is null)
        {
            why = $"{DumpReport.JsonFileName} lacks a {DumpJson.Status}, {DumpJson.ClientIp}, {DumpJson.ServerIp}, {DumpJson.ReceivedAt} or {DumpJson.Vmcore}";
            return null;
        }

        // the core is opened by this name (checksum, compression, decryption): only the server's
        // own names, which stay in the dump's directory; a hand-made "../../etc/passwd" was hashed
        var decrypted = DumpJson.String(json, DumpJson.DecryptedVmcore);
        if (!CoreFileNames.All.Contains(vmcore) || (decrypted is not null && !CoreFileNames.All.Contains(decrypted)))
        {
            why = $"{DumpReport.JsonFileName} names a core that is none of the server's file names ({DumpReport.OneLine(decrypted ?? vmcore)})";
            return null;
        }

        var dialect = DumpJson.String(json, DumpJson.Dialect) == DumpJson.Linux ? Ingest.Dialect.Linux : Ingest.Dialect.FreeBsd;
        return new DumpRecord
        {
            Status = status.Value,
            Reason = DumpJson.String(json, DumpJson.Reason) is { } reason ? EndReason.Parse(reason) : null,
            ClientIp = client,
            ServerIp = server,
            HeraldPath = DumpJson.String(json, DumpJson.HeraldPath) ?? "",
            HeraldPathFallback = DumpJson.String(json, DumpJson.HeraldPathFallback),
            Directory = directory,
            ReceivedAt = receivedAt.Value,
            FinishedAt = DumpJson.Time(json, DumpJson.FinishedAt),
            Header = RecoveryScan.HeaderFrom(json),
            BytesReceived = DumpJson.ULong(json, DumpJson.BytesReceived) ?? 0,
            Ranges = DumpJson.ByteRanges(json, DumpJson.Ranges) ?? [],
            Holes = DumpJson.ByteRanges(json, DumpJson.Holes) ?? [],
            Encrypted = DumpJson.Bool(json, DumpJson.Encrypted) == true,
            KeyBytesReceived = DumpJson.ULong(json, DumpJson.KeyBytesReceived) ?? 0,
            Vmcore = vmcore,
            Sha256 = DumpJson.String(json, DumpJson.Sha256),
            StoredBytes = DumpJson.ULong(json, DumpJson.StoredBytes),
            StoredSha256 = DumpJson.String(json, DumpJson.StoredSha256),
            CompressedAtRest = DumpJson.Bool(json, DumpJson.CompressedAtRest) == true,
            CompressionProblem = DumpJson.String(json, DumpJson.CompressionProblem),
            DecryptedVmcore = decrypted,
            DecryptionProblem = DumpJson.String(json, DumpJson.DecryptionProblem),
            SupersededBy = DumpJson.String(json, DumpJson.SupersededBy),
            Recovered = DumpJson.Bool(json, DumpJson.Recovered) == true,
            Dialect = dialect,
            Linux = dialect == Ingest.Dialect.Linux ? LinuxFacts(json) : null,
        };
    }

    private static LinuxFacts LinuxFacts(JsonElement json) =>
        new(
            DumpJson.UInt(json, DumpJson.ProtocolVersion) ?? 0,
            (ushort)(DumpJson.UInt(json, DumpJson.Machine) ?? 0),
            DumpJson.UInt(json, DumpJson.PageSize) ?? 0,
            DumpJson.ULong(json, DumpJson.Pages) ?? 0,
            DumpJson.ByteRanges(json, DumpJson.Reserved) ?? [],
            DumpJson.Bool(json, DumpJson.Registers) == true,
            DumpJson.Long(json, DumpJson.LogBytes) ?? 0,
            DumpJson.String(json, DumpJson.PanicString))
        {
            CoreSize = DumpJson.ULong(json, DumpJson.DumpLength),
            KernelVersion = DumpJson.String(json, DumpJson.KernelVersion),
        };
}
