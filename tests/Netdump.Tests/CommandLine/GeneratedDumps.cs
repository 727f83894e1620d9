using System.Net;
using Netdump.Actors;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.CommandLine;

/// <summary>
/// A dump directory made by the writer's own report code (<see cref="DumpReport.Write"/>): dumps
/// of given hosts, panics, statuses and arrival times, with a small core, for the fleet commands
/// to read without a server. Removed on dispose.
/// </summary>
internal sealed class GeneratedDumps : IDisposable
{
    public GeneratedDumps()
    {
        Root = Path.Combine(Path.GetTempPath(), $"netdump-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>A dump of <paramref name="host"/> from <paramref name="client"/> received <paramref name="ago"/> ago; its directory.</summary>
    public string Add(string client, string host, string panic, TimeSpan ago, DumpStatus status = DumpStatus.Complete, EndReason? reason = null, string under = "")
    {
        var parent = Path.Combine(Root, under);
        Directory.CreateDirectory(parent);
        var receivedAt = DateTimeOffset.UtcNow - ago;
        var dir = DumpLocation.CreateDumpDirectory(parent, IPAddress.Parse(client), receivedAt.LocalDateTime);
        var core = status == DumpStatus.Complete ? "vmcore" : CoreFileNames.Incomplete;
        File.WriteAllBytes(Path.Combine(dir, core), new byte[8192]);
        var header = new KernelDumpHeader(
            KernelDumpHeader.KernelDumpMagic, "amd64", KernelDumpHeader.SupportedVersion, ArchitectureVersion: 2,
            DumpLength: 8192, DumpTime: (ulong)receivedAt.ToUnixTimeSeconds(), DumpKeySize: 0, BlockSize: 512, host,
            "FreeBSD 14.1-RELEASE GENERIC", panic, DumpCompression.None, DumpExtent: 8192, Parity: 0);
        DumpReport.Write(new DumpRecord
        {
            Status = status,
            Reason = reason,
            ClientIp = IPAddress.Parse(client),
            ServerIp = IPAddress.Loopback,
            HeraldPath = under,
            Directory = dir,
            ReceivedAt = receivedAt,
            FinishedAt = status == DumpStatus.Receiving ? null : receivedAt + TimeSpan.FromSeconds(30),
            Header = header,
            BytesReceived = status == DumpStatus.Complete ? 8192UL : 4096UL,
            Ranges = [new ByteRange(0, status == DumpStatus.Complete ? 8192UL : 4096UL)],
            Holes = status == DumpStatus.Complete ? [] : [new ByteRange(4096, 8192)],
            Vmcore = core,
        });
        return dir;
    }

    /// <summary>A complete Linux dump from <paramref name="client"/> (no host name: a Linux client sends none), its console's kernel version and panic; its directory.</summary>
    public string AddLinux(string client, string kernelVersion, string panic, TimeSpan ago)
    {
        var receivedAt = DateTimeOffset.UtcNow - ago;
        var dir = DumpLocation.CreateDumpDirectory(Root, IPAddress.Parse(client), receivedAt.LocalDateTime);
        File.WriteAllBytes(Path.Combine(dir, "vmcore"), new byte[8192]);
        DumpReport.Write(new DumpRecord
        {
            Status = DumpStatus.Complete,
            ClientIp = IPAddress.Parse(client),
            ServerIp = IPAddress.Loopback,
            HeraldPath = "",
            Directory = dir,
            ReceivedAt = receivedAt,
            FinishedAt = receivedAt + TimeSpan.FromSeconds(30),
            BytesReceived = 8192,
            Ranges = [new ByteRange(0, 8192)],
            Vmcore = "vmcore",
            Dialect = Netdump.Actors.Ingest.Dialect.Linux,
            Linux = new LinuxFacts(5, 62, 4096, 2, [], Registers: true, LogBytes: 100, panic) { CoreSize = 8192, KernelVersion = kernelVersion },
        });
        return dir;
    }

    /// <summary>A conf file in the tree's parent folder: the given lines (e.g. <c>http = off</c>) and this dump directory.</summary>
    public string Conf(string lines)
    {
        var path = Path.Combine(Root + ".conf");
        File.WriteAllText(path, $"dumpdir = {Root}\n{lines}\n");
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
            File.Delete(Root + ".conf");
        }
        catch (IOException)
        {
        }
    }
}
