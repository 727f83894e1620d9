using System.Globalization;
using System.Net;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Catalog;

/// <summary>Dump directories with the reports the writer writes (through <see cref="DumpReport"/>), for the catalog's tests.</summary>
internal static class CatalogTree
{
    public static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>The record of a dump from <paramref name="client"/> at <paramref name="receivedAt"/>, its KDH naming <paramref name="host"/> and <paramref name="panic"/>.</summary>
    public static DumpRecord Record(string root, string client, DateTimeOffset receivedAt, string host, string panic,
        DumpStatus status = DumpStatus.Complete, EndReason? reason = null, string version = "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8: Fri May 31 05:41:19 UTC 2024\n    root@releng1:/usr/obj/GENERIC\n",
        string? under = null)
    {
        var parent = under is null ? root : Path.Combine(root, under);
        var dir = Path.Combine(parent, $"{client}-{receivedAt.ToLocalTime().ToString("yyyy-MM-dd-HH:mm:ss", CultureInfo.InvariantCulture)}");
        const ulong length = 64 * 1024;
        var header = new KernelDumpHeader(KernelDumpHeader.KernelDumpMagic, "amd64", KernelDumpHeader.SupportedVersion, 2, length,
            (ulong)receivedAt.ToUnixTimeSeconds(), 0, 512, host, version, panic, DumpCompression.None, length, 0) { ParityOk = true };
        return new DumpRecord
        {
            Status = status,
            Reason = status == DumpStatus.Complete ? null : reason ?? EndReason.ClientTimedOut,
            ClientIp = IPAddress.Parse(client),
            ServerIp = IPAddress.Loopback,
            HeraldPath = under ?? "",
            Directory = dir,
            ReceivedAt = receivedAt,
            FinishedAt = status == DumpStatus.Receiving ? null : receivedAt.AddSeconds(30),
            Header = header,
            BytesReceived = status == DumpStatus.Complete ? length : length / 2,
            Ranges = [new ByteRange(0, status == DumpStatus.Complete ? length : length / 2)],
            Holes = status == DumpStatus.Complete ? [] : [new ByteRange(length / 2, length)],
            Vmcore = status == DumpStatus.Complete ? "vmcore" : Netdump.Actors.Storage.CoreFileNames.Incomplete,
        };
    }

    /// <summary>Writes the dump's directory, its reports and a core of <paramref name="coreBytes"/>.</summary>
    public static DumpRecord Write(DumpRecord record, int coreBytes = 4096)
    {
        Directory.CreateDirectory(record.Directory);
        DumpReport.Write(record, ReportDurability.None);
        File.WriteAllBytes(Path.Combine(record.Directory, record.Vmcore), Enumerable.Range(0, coreBytes).Select(i => (byte)i).ToArray());
        return record;
    }

}
