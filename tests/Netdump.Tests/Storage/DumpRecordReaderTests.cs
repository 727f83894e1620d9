using System.Net;
using System.Reflection;
using System.Text.Json;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>A finished dump's record read back from its dump.json gives the same reports again: nothing the writer wrote is lost by a rewrite.</summary>
public sealed class DumpRecordReaderTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Samples() => ["freebsd", "linux", "recovered", "minimal"];

    [Theory]
    [MemberData(nameof(Samples))]
    public void A_record_read_back_writes_the_same_reports(string sample)
    {
        var record = Sample(sample) with { Directory = _temp.Path };
        DumpReport.Write(record);

        var read = DumpRecordReader.Read(_temp.Path, out var why);

        Assert.True(read is not null, why);
        Assert.Equal(DumpReport.FormatJson(record), DumpReport.FormatJson(read));
        Assert.Equal(DumpReport.FormatInfo(record), DumpReport.FormatInfo(read));
    }

    [Fact]
    public void The_full_sample_sets_every_fact_a_record_has_so_a_new_one_must_be_read_back_too()
    {
        // a property added to DumpRecord without a value here (and so without a reader) fails this
        var full = Sample("freebsd");
        var bare = Sample("minimal");
        var unset = typeof(DumpRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.Name is not (nameof(DumpRecord.Rate) or nameof(DumpRecord.Linux) or nameof(DumpRecord.Recovered) or nameof(DumpRecord.Status) or nameof(DumpRecord.Dialect)))
            .Where(p => Equals(p.GetValue(full), p.GetValue(bare)) && !(p.GetValue(full) is System.Collections.IEnumerable e && e.Cast<object>().Any()))
            .Select(p => p.Name)
            .ToList();
        Assert.Empty(unset);
    }

    [Fact]
    public void The_linux_sample_sets_every_linux_fact_so_a_new_one_must_be_read_back_too()
    {
        // kernel_version was written and never read back, so storage care's rewrites of a Linux
        // dump's reports (compression, the start-up hash) erased it
        var full = Sample("linux").Linux!;
        var bare = new LinuxFacts(0, 0, 0, 0, [], false, 0, null);
        var unset = typeof(LinuxFacts).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => Equals(p.GetValue(full), p.GetValue(bare)))
            .Select(p => p.Name)
            .ToList();
        Assert.Empty(unset);
    }

    [Theory]
    [InlineData("vmcore", "../../../../etc/passwd")]
    [InlineData("decrypted_vmcore", "/etc/passwd")]
    [InlineData("vmcore", "notes.txt")]
    public void A_core_named_outside_the_servers_own_names_is_refused(string key, string name)
    {
        var record = Sample("freebsd") with { Directory = _temp.Path, DecryptedVmcore = null };
        DumpReport.Write(record);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_temp.Combine("dump.json")))!;
        json[key] = name;
        File.WriteAllText(_temp.Combine("dump.json"), json.ToJsonString());

        Assert.Null(DumpRecordReader.Read(_temp.Path, out var why));
        Assert.Equal($"dump.json names a core that is none of the server's file names ({name})", why);
    }

    [Fact]
    public void A_report_saved_with_a_byte_order_mark_reads_as_it_did_without()
    {
        var record = Sample("freebsd") with { Directory = _temp.Path };
        DumpReport.Write(record);
        var path = _temp.Combine("dump.json");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(path)]);

        Assert.Equal(record.Sha256, DumpRecordReader.Read(_temp.Path, out var why)?.Sha256);
        Assert.Null(why);
    }

    [Fact]
    public void A_directory_without_a_usable_dump_json_says_why()
    {
        Assert.Null(DumpRecordReader.Read(_temp.Path, out var why));
        Assert.Contains("no dump.json", why);

        File.WriteAllText(_temp.Combine("dump.json"), "{ \"status\": \"complete\" }");
        Assert.Null(DumpRecordReader.Read(_temp.Path, out why));
        Assert.Contains("lacks", why);

        File.WriteAllText(_temp.Combine("dump.json"), "{ nope");
        Assert.Null(DumpRecordReader.Read(_temp.Path, out why));
        Assert.Contains("corrupt", why);
    }

    internal static DumpRecord Sample(string name) => name switch
    {
        "freebsd" => new DumpRecord
        {
            Status = DumpStatus.Complete,
            Reason = null,
            ClientIp = IPAddress.Parse("192.0.2.7"),
            ServerIp = IPAddress.Parse("198.51.100.1"),
            HeraldPath = "fleet/web",
            HeraldPathFallback = "it was not there",
            Directory = "/var/crash/192.0.2.7-2024-03-09-14:05:07",
            ReceivedAt = new DateTimeOffset(2024, 3, 9, 13, 5, 7, 250, TimeSpan.Zero),
            FinishedAt = new DateTimeOffset(2024, 3, 9, 13, 6, 10, 125, TimeSpan.Zero),
            Header = new KernelDumpHeader(KernelDumpHeader.KernelDumpMagic, "amd64", KernelDumpHeader.SupportedVersion, 2, 12288,
                (ulong)new DateTimeOffset(2024, 3, 9, 13, 4, 0, TimeSpan.Zero).ToUnixTimeSeconds(), 4096, 512, "web1.example.org",
                "FreeBSD 14.1-RELEASE GENERIC\n", "page fault while in kernel mode", DumpCompression.Zstd, 12288, 0) { ParityOk = false },
            BytesReceived = 12300,
            Ranges = [new ByteRange(0, 4096), new ByteRange(4096, 12300)],
            Holes = [new ByteRange(1, 2)],
            Encrypted = true,
            KeyBytesReceived = 4096,
            Vmcore = "vmcore_encrypted.zst",
            Sha256 = new string('a', 64),
            StoredBytes = 12288,
            StoredSha256 = new string('b', 64),
            CompressedAtRest = true,
            CompressionProblem = "the .zst did not verify",
            DecryptedVmcore = "vmcore.zst",
            DecryptionProblem = "the key does not match",
            SupersededBy = "/var/crash/192.0.2.7-2024-03-09-14:06:00",
            Dialect = Netdump.Actors.Ingest.Dialect.FreeBsd,
        },
        "linux" => Sample("minimal") with
        {
            Status = DumpStatus.Complete,
            Dialect = Netdump.Actors.Ingest.Dialect.Linux,
            Linux = new LinuxFacts(7, 62, 4096, 2048, [new ByteRange(0x9f, 0x100)], true, 5000, "Kernel panic - not syncing: boom") { CoreSize = 8392704, KernelVersion = "5.14.0-70.el9.x86_64" },
            BytesReceived = 8392704,
            Ranges = [new ByteRange(0, 8392704)],
            Vmcore = "vmcore.zst",
            Sha256 = new string('c', 64),
            StoredBytes = 1000,
            StoredSha256 = new string('d', 64),
            CompressedAtRest = true,
        },
        "recovered" => Sample("freebsd") with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.ServerStopped("server stopped while receiving"),
            Ranges = [],
            Holes = [],
            Recovered = true,
            Vmcore = "vmcore-incomplete",
            Sha256 = null,
            StoredBytes = null,
            StoredSha256 = null,
            CompressedAtRest = false,
            CompressionProblem = null,
        },
        _ => new DumpRecord
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.ClientTimedOut,
            ClientIp = IPAddress.Parse("127.0.0.1"),
            ServerIp = IPAddress.Any,
            HeraldPath = "",
            Directory = "/var/crash/127.0.0.1-2024-03-09-14:05:07",
            ReceivedAt = new DateTimeOffset(2024, 3, 9, 13, 5, 7, TimeSpan.Zero),
            Vmcore = "vmcore-incomplete",
        },
    };
}
