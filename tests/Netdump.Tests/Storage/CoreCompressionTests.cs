using System.Security.Cryptography;
using System.Text.Json;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Xunit.Abstractions;

namespace Netdump.Tests.Storage;

/// <summary>Compression at rest on dumps made on disk: the copy, its check, the order of the steps, and what a kill or a full disk leaves.</summary>
public sealed class CoreCompressionTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_complete_plain_dump_becomes_a_verified_vmcore_zst_and_its_reports_say_so()
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("192.0.2.7-2024-03-09-14:05:07"), 3 * 1024 * 1024 + 5);

        var result = CoreCompression.Run(Read(dir), workers: 2, CancellationToken.None);

        Assert.Equal(CompressionOutcome.Compressed, result.Outcome);
        Assert.False(File.Exists(Path.Combine(dir, "vmcore")));
        Assert.Equal(["dump.json", "info", "vmcore.zst"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        var json = Json(dir);
        Assert.Equal("vmcore.zst", json.GetProperty("vmcore").GetString());
        Assert.True(json.GetProperty("compressed_at_rest").GetBoolean());
        Assert.Equal("zstd", json.GetProperty("stored_compression").GetString());
        Assert.Equal(Sha(bytes), json.GetProperty("sha256").GetString());
        var stored = File.ReadAllBytes(Path.Combine(dir, "vmcore.zst"));
        Assert.Equal((ulong)stored.Length, json.GetProperty("stored_bytes").GetUInt64());
        Assert.Equal(Sha(stored), json.GetProperty("stored_sha256").GetString());
        Assert.Equal(Sha(bytes), ZstdCore.HashThrough(Path.Combine(dir, "vmcore.zst"), CancellationToken.None).Content);
        Assert.Contains("  Stored: vmcore.zst, compressed at rest with zstd", File.ReadAllText(Path.Combine(dir, "info")));
        Assert.Equal("compressed at rest already", CoreCompression.WhyNot(DumpRecordReader.Read(dir, out _)!));
    }

    [Fact]
    public async Task A_core_being_compressed_is_in_use_to_retention_until_its_copy_is_done()
    {
        var root = _temp.Combine("dumps");
        var (dir, _) = CompleteDump(Path.Combine(root, "192.0.2.8-2024-03-09-14:05:07"), 3 * 1024 * 1024);
        using var gate = new PauseGate();
        gate.Close(); // as while a dump is received: the copy waits, its core held

        var compressing = Task.Run(() => CoreCompression.Run(Read(dir), workers: 1, CancellationToken.None, gate: gate));
        await Waiting.Until(() => RetentionScan.Run(root).Dumps.Single().Held?.Reason == HoldReason.CoreInUse,
            TimeSpan.FromSeconds(10), "the core held by its copy");
        gate.Open();

        Assert.Equal(CompressionOutcome.Compressed, (await compressing).Outcome);
        Assert.Null(RetentionScan.Run(root).Dumps.Single().Held);
    }

    [Fact]
    public void A_core_that_no_longer_matches_its_checksum_is_never_replaced_and_the_reports_say_why()
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("d"), 1024 * 1024);
        var record = Read(dir) with { Sha256 = new string('0', 64) };
        DumpReport.Write(record);

        var result = CoreCompression.Run(record, workers: 0, CancellationToken.None);

        Assert.Equal(CompressionOutcome.Refused, result.Outcome);
        Assert.Contains("vmcore no longer matches the SHA-256 recorded when the dump completed", result.Why);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        var json = Json(dir);
        Assert.Equal("vmcore", json.GetProperty("vmcore").GetString());
        Assert.Equal(result.Why, json.GetProperty("compression_problem").GetString());
        Assert.Contains("not compressed at rest: vmcore no longer matches", File.ReadAllText(Path.Combine(dir, "info")));
        Assert.StartsWith("given up before", CoreCompression.WhyNot(DumpRecordReader.Read(dir, out _)!));
    }

    [Theory]
    [InlineData("encrypted", "it arrived encrypted")]
    [InlineData("gzip", "it arrived compressed")]
    [InlineData("incomplete", "not complete")]
    [InlineData("unhashed", "no SHA-256 to verify a copy against")]
    public void Only_a_complete_hashed_dump_that_arrived_plain_is_compressed(string kind, string why)
    {
        var (dir, _) = CompleteDump(_temp.Combine(kind), 8192);
        var record = Read(dir);
        record = kind switch
        {
            "encrypted" => record with { Encrypted = true },
            "gzip" => record with { Header = record.Header! with { Compression = DumpCompression.Gzip } },
            "incomplete" => record with { Status = DumpStatus.Incomplete, Reason = EndReason.ClientTimedOut },
            _ => record with { Sha256 = null },
        };

        Assert.Equal(why, CoreCompression.WhyNot(record));
        var result = CoreCompression.Run(record, 0, CancellationToken.None);
        Assert.Equal(CompressionOutcome.Failed, result.Outcome);
        Assert.False(File.Exists(Path.Combine(dir, "vmcore.zst")));
    }

    [Fact]
    public void Without_room_for_a_whole_copy_above_the_reserve_nothing_is_written()
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("d"), 1024 * 1024);
        var room = new CopyRoom(_ => 1024 * 1024 + 4095, Reserve: 4096);

        var result = CoreCompression.Run(Read(dir), 0, CancellationToken.None, room);

        Assert.Equal(CompressionOutcome.Failed, result.Outcome);
        Assert.Equal("no room for the copy: 1052671 bytes free, 1052672 needed (the core's size above min_free_space)", result.Why);
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Equal(CompressionOutcome.Compressed, CoreCompression.Run(Read(dir), 0, CancellationToken.None, room with { Reserve = 4095 }).Outcome);
    }

    [Fact]
    public void Room_taken_by_others_while_it_runs_stops_the_copy_before_it_writes_below_the_reserve()
    {
        // room for the whole copy when it starts; then the dumps received meanwhile took it
        var (dir, bytes) = CompleteDump(_temp.Combine("d"), 3 * 1024 * 1024);
        var asked = 0;
        var room = new CopyRoom(_ => ++asked == 1 ? 64UL << 20 : 4096, Reserve: 4096);

        var result = CoreCompression.Run(Read(dir), 0, CancellationToken.None, room);

        Assert.Equal(CompressionOutcome.Failed, result.Outcome);
        Assert.StartsWith("no room for the rest of the copy: 4096 bytes free, ", result.Why);
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
    }

    [Fact]
    public void A_full_disk_during_compression_leaves_the_original_and_no_partial_copy()
    {
        var mount = _temp.Combine("small");
        Directory.CreateDirectory(mount);
        if (!Tmpfs.TryMount(mount, "size=4m"))
        {
            Assert.False(Tmpfs.IsRoot);
            output.WriteLine("SKIPPED: only root can mount the small tmpfs this test needs; the disk-full behaviour was not checked");
            return;
        }

        try
        {
            // noise does not compress: its copy needs as much room again, and the disk has not;
            // the room is not checked first (as if others took it after the check), so the write fails
            var (dir, bytes) = CompleteDump(Path.Combine(mount, "d"), 3 * 1024 * 1024, noise: true);
            var before = File.ReadAllText(Path.Combine(dir, "dump.json"));

            var result = CoreCompression.Run(Read(dir), workers: 2, CancellationToken.None, room: null);

            Assert.Equal(CompressionOutcome.Failed, result.Outcome);
            Assert.Contains("No space left on device", result.Why);
            Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
            Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "dump.json")));
        }
        finally
        {
            Tmpfs.Unmount(mount);
        }
    }

    [Fact]
    public void Reports_refused_after_the_copy_is_in_place_name_the_original_again_and_the_copy_is_kept_for_the_start_up_scan()
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("192.0.2.9-2024-03-09-14:05:07"), 1024 * 1024);
        var record = Read(dir);
        var json = Path.Combine(dir, "dump.json");
        File.Delete(json);
        Directory.CreateDirectory(Path.Combine(json, "x")); // dump.json cannot be renamed into place; info can

        var result = CoreCompression.Run(record, workers: 0, CancellationToken.None);

        Assert.Equal(CompressionOutcome.Failed, result.Outcome);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
        // info was rewritten naming vmcore.zst before dump.json was refused: it names the
        // original again, and the copy stays beside it since the reports could not all be restored
        Assert.DoesNotContain("vmcore.zst", File.ReadAllText(Path.Combine(dir, "info")));
        Assert.True(File.Exists(Path.Combine(dir, "vmcore.zst")), "the verified copy stays for the start-up scan to settle");
        Assert.False(File.Exists(Path.Combine(dir, ".vmcore.zst.tmp")));
    }

    [Fact]
    public void The_start_up_scan_removes_a_copy_cut_short_and_keeps_the_original()
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("192.0.2.8-2024-03-09-14:05:07"), 1024 * 1024);
        File.WriteAllBytes(Path.Combine(dir, ".vmcore.zst.tmp"), [0x28, 0xB5, 0x2F]);
        var before = File.ReadAllText(Path.Combine(dir, "dump.json"));

        var tidied = Assert.Single(RecoveryScan.Run(_temp.Path, DateTimeOffset.UtcNow));

        Assert.Contains("removed .vmcore.zst.tmp", tidied.Problem);
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "dump.json")));
        Assert.Empty(RecoveryScan.Run(_temp.Path, DateTimeOffset.UtcNow)); // nothing left to do
    }

    [Theory]
    [InlineData(false)] // killed after the rename, before the reports named the copy
    [InlineData(true)] // killed after the reports, before the original went
    public void The_start_up_scan_finishes_a_compression_whose_copy_verifies(bool reportsNamedTheCopy)
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("192.0.2.9-2024-03-09-14:05:07"), 2 * 1024 * 1024);
        var bytesStored = ZstdCore.Compress(Path.Combine(dir, "vmcore"), Path.Combine(dir, "vmcore.zst"), 0, CancellationToken.None);
        var storedSha = Sha(File.ReadAllBytes(Path.Combine(dir, "vmcore.zst")));
        if (reportsNamedTheCopy)
        {
            DumpReport.Write(Read(dir) with { Vmcore = "vmcore.zst", CompressedAtRest = true, StoredBytes = (ulong)bytesStored, StoredSha256 = storedSha });
        }

        var described = new List<JsonElement>();
        var tidied = Assert.Single(RecoveryScan.Run(_temp.Path, DateTimeOffset.UtcNow, (_, report) => described.Add(report)));

        Assert.Contains("vmcore.zst verified against the recorded SHA-256", tidied.Problem);
        // the catalog hears the reports as the scan left them, not as it found them
        Assert.Equal("vmcore.zst", Assert.Single(described).GetProperty("vmcore").GetString());
        Assert.Equal(["dump.json", "info", "vmcore.zst"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        var json = Json(dir);
        Assert.Equal("vmcore.zst", json.GetProperty("vmcore").GetString());
        Assert.Equal(storedSha, json.GetProperty("stored_sha256").GetString());
        Assert.Equal(Sha(bytes), json.GetProperty("sha256").GetString());
        Assert.Equal("complete", json.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_start_up_scan_removes_a_copy_that_does_not_verify_and_keeps_the_original_as_the_core(bool reportsNamedTheCopy)
    {
        var (dir, bytes) = CompleteDump(_temp.Combine("192.0.2.10-2024-03-09-14:05:07"), 1024 * 1024);
        var other = _temp.Combine("other");
        File.WriteAllBytes(other, ZstdCoreTests.Compressible(5000));
        ZstdCore.Compress(other, Path.Combine(dir, "vmcore.zst"), 0, CancellationToken.None);
        if (reportsNamedTheCopy)
        {
            DumpReport.Write(Read(dir) with { Vmcore = "vmcore.zst", CompressedAtRest = true, StoredBytes = 1, StoredSha256 = "x" });
        }

        var tidied = Assert.Single(RecoveryScan.Run(_temp.Path, DateTimeOffset.UtcNow));

        Assert.Contains("vmcore.zst does not verify", tidied.Problem);
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
        var json = Json(dir);
        Assert.Equal("vmcore", json.GetProperty("vmcore").GetString());
        Assert.False(json.GetProperty("compressed_at_rest").GetBoolean());
        Assert.Equal(Sha(bytes), json.GetProperty("stored_sha256").GetString());
    }

    [Fact]
    public void The_start_up_scan_leaves_a_clients_own_vmcore_zst_and_the_operators_vmcore_beside_it_alone()
    {
        // a dump the client compressed: its core as received is vmcore.zst, hashed as it came
        var dir = _temp.Combine("192.0.2.11-2024-03-09-14:05:07");
        Directory.CreateDirectory(dir);
        var plain = ZstdCoreTests.Compressible(1 << 20);
        File.WriteAllBytes(_temp.Combine("plain"), plain);
        ZstdCore.Compress(_temp.Combine("plain"), Path.Combine(dir, "vmcore.zst"), 0, CancellationToken.None);
        var received = File.ReadAllBytes(Path.Combine(dir, "vmcore.zst"));
        var sample = DumpRecordReaderTests.Sample("freebsd");
        DumpReport.Write(DumpRecordReaderTests.Sample("minimal") with
        {
            Status = DumpStatus.Complete,
            Reason = null,
            Directory = dir,
            Header = sample.Header! with { Compression = DumpCompression.Zstd, DumpKeySize = 0, DumpLength = (ulong)received.Length },
            BytesReceived = (ulong)received.Length,
            Ranges = [new ByteRange(0, (ulong)received.Length)],
            Vmcore = "vmcore.zst",
            Sha256 = Sha(received),
        });
        var report = File.ReadAllText(Path.Combine(dir, "dump.json"));

        // the operator's documented first step, in the dump directory
        File.WriteAllBytes(Path.Combine(dir, "vmcore"), plain);

        Assert.Empty(RecoveryScan.Run(_temp.Path, DateTimeOffset.UtcNow));
        Assert.Equal(received, File.ReadAllBytes(Path.Combine(dir, "vmcore.zst")));
        Assert.Equal(plain, File.ReadAllBytes(Path.Combine(dir, "vmcore")));
        Assert.Equal(report, File.ReadAllText(Path.Combine(dir, "dump.json")));
    }

    /// <summary>A complete, hashed FreeBSD dump with a plain vmcore, as the writer leaves it.</summary>
    internal static (string Directory, byte[] Bytes) CompleteDump(string dir, int length, bool noise = false)
    {
        Directory.CreateDirectory(dir);
        var bytes = noise ? RandomNumberGenerator.GetBytes(length) : ZstdCoreTests.Compressible(length);
        File.WriteAllBytes(Path.Combine(dir, "vmcore"), bytes);
        Report(dir, (ulong)length, Sha(bytes));
        return (dir, bytes);
    }

    /// <summary>The same with a core of <paramref name="mebibytes"/> MiB written a MiB at a time (no large array in the test process); returns its SHA-256.</summary>
    internal static string LargeCompleteDump(string dir, int mebibytes)
    {
        Directory.CreateDirectory(dir);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var core = File.Create(Path.Combine(dir, "vmcore")))
        {
            for (var i = 0; i < mebibytes; i++)
            {
                var chunk = ZstdCoreTests.Compressible(1 << 20, seed: i);
                core.Write(chunk);
                hash.AppendData(chunk);
            }
        }

        var sha = Convert.ToHexStringLower(hash.GetHashAndReset());
        Report(dir, (ulong)mebibytes << 20, sha);
        return sha;
    }

    private static void Report(string dir, ulong length, string sha)
    {
        var sample = DumpRecordReaderTests.Sample("freebsd");
        DumpReport.Write(DumpRecordReaderTests.Sample("minimal") with
        {
            Status = DumpStatus.Complete,
            Reason = null,
            Directory = dir,
            Header = sample.Header! with { Compression = DumpCompression.None, DumpKeySize = 0, DumpLength = length },
            BytesReceived = length,
            Ranges = [new ByteRange(0, length)],
            Vmcore = "vmcore",
            Sha256 = sha,
            StoredSha256 = sha,
            StoredBytes = length,
        });
    }

    internal static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static DumpRecord Read(string dir) => DumpRecordReader.Read(dir, out var why) ?? throw new InvalidOperationException(why);

    private static JsonElement Json(string dir)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "dump.json")));
        return document.RootElement.Clone();
    }
}
