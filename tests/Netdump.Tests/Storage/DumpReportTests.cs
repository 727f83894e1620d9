using System.Net;
using System.Text.Json;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class DumpReportTests : IDisposable
{
    private static readonly string[] AllKeys =
    [
        "status", "reason", "client_ip", "server_ip", "herald_path", "directory", "received_at", "finished_at",
        "magic", "hostname", "architecture", "architecture_version", "version_string", "panic_string", "dump_time",
        "dump_length", "block_size", "dump_key_size", "bytes_received", "ranges", "holes", "compression",
        "encrypted", "parity_ok", "vmcore", "sha256", "superseded_by", "recovered", "dialect",
        "herald_path_fallback", "holes_known_until", "rate_bytes_per_second", "average_rate_bytes_per_second",
        "eta_seconds", "key_bytes_received", "stored_compression", "compressed_at_rest", "stored_bytes", "stored_sha256",
        "compression_problem", "decrypted_vmcore", "decryption_problem",
    ];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("web1\nFORGED", "web1 FORGED")]
    [InlineData("  a\t\u0085b\u2028c  ", "a b c")]
    [InlineData("\u001b]0;title\u0007web", "]0;title web")]
    [InlineData("web\u202e1gol", "web1gol")] // a right-to-left override would show the rest reversed
    [InlineData("a\u200bb\u2066c\u2069\ufeff", "abc")]
    public void One_line_text_has_no_breaks_controls_or_invisible_format_characters(string text, string expected) =>
        Assert.Equal(expected, DumpReport.OneLine(text));

    [Fact]
    public void A_computed_checksum_is_in_both_reports()
    {
        const string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        var record = Complete() with { Sha256 = sha256 };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        Assert.Equal(sha256, json.RootElement.GetProperty("sha256").GetString());
        var info = DumpReport.FormatInfo(record).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"  SHA-256: {sha256} (vmcore.gz)", info);
        Assert.Equal("Dump complete", info[^1]);
    }

    [Theory]
    [InlineData(ReportDurability.None)]
    [InlineData(ReportDurability.FilesOnly)]
    [InlineData(ReportDurability.Durable)]
    public void Every_durability_replaces_both_reports_whole_and_leaves_no_temporary_file(ReportDurability durability)
    {
        var record = Complete() with { Directory = _temp.Path };
        DumpReport.Write(record);
        var hashed = record with { Sha256 = new string('c', 64) };

        DumpReport.Write(hashed, durability);

        Assert.Equal(DumpReport.FormatJson(hashed), File.ReadAllText(Path.Combine(_temp.Path, DumpReport.JsonFileName)));
        Assert.Equal(DumpReport.FormatInfo(hashed), File.ReadAllText(Path.Combine(_temp.Path, DumpReport.InfoFileName)));
        Assert.Equal(new[] { DumpReport.InfoFileName, DumpReport.JsonFileName }.Order(StringComparer.Ordinal),
            Directory.GetFiles(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Json_of_a_complete_dump_carries_every_key_with_its_value()
    {
        var record = Complete();

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;

        Assert.Equal(AllKeys.Order(), root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("complete", root.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("reason").ValueKind);
        Assert.Equal("192.0.2.7", root.GetProperty("client_ip").GetString());
        Assert.Equal("198.51.100.1", root.GetProperty("server_ip").GetString());
        Assert.Equal("fleet/web", root.GetProperty("herald_path").GetString());
        Assert.Equal("/var/crash/fleet/web/192.0.2.7-2024-03-09-14:05:07", root.GetProperty("directory").GetString());
        Assert.Equal("2024-03-09T13:05:07.250Z", root.GetProperty("received_at").GetString());
        Assert.Equal("2024-03-09T13:06:10.000Z", root.GetProperty("finished_at").GetString());
        Assert.Equal("FreeBSD Kernel Dump", root.GetProperty("magic").GetString());
        Assert.Equal("web1.example.org", root.GetProperty("hostname").GetString());
        Assert.Equal("amd64", root.GetProperty("architecture").GetString());
        Assert.Equal(2u, root.GetProperty("architecture_version").GetUInt32());
        Assert.Equal("FreeBSD 14.1-RELEASE GENERIC", root.GetProperty("version_string").GetString());
        Assert.Equal("page fault while in kernel mode", root.GetProperty("panic_string").GetString());
        Assert.Equal("2024-03-09T13:04:00Z", root.GetProperty("dump_time").GetString());
        Assert.Equal(8192UL, root.GetProperty("dump_length").GetUInt64());
        Assert.Equal(512u, root.GetProperty("block_size").GetUInt32());
        Assert.Equal(0u, root.GetProperty("dump_key_size").GetUInt32());
        Assert.Equal(8192UL, root.GetProperty("bytes_received").GetUInt64());
        Assert.Equal([[0UL, 8192UL]], Pairs(root.GetProperty("ranges")));
        Assert.Empty(Pairs(root.GetProperty("holes")));
        Assert.Equal("gzip", root.GetProperty("compression").GetString());
        Assert.False(root.GetProperty("encrypted").GetBoolean());
        Assert.True(root.GetProperty("parity_ok").GetBoolean());
        Assert.Equal("vmcore.gz", root.GetProperty("vmcore").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("sha256").ValueKind); // not computed yet
        Assert.Equal(JsonValueKind.Null, root.GetProperty("superseded_by").ValueKind);
        Assert.False(root.GetProperty("recovered").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("herald_path_fallback").ValueKind);
        Assert.Equal(8192UL, root.GetProperty("holes_known_until").GetUInt64());
        foreach (var key in new[] { "rate_bytes_per_second", "average_rate_bytes_per_second", "eta_seconds" })
        {
            Assert.True(root.GetProperty(key).ValueKind == JsonValueKind.Null, $"{key} is null once the dump ended");
        }

        Assert.Equal(0UL, root.GetProperty("key_bytes_received").GetUInt64());
    }

    [Fact]
    public void Json_keeps_the_largest_u64_values_exact()
    {
        var record = Complete() with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.Parse("holes"),
            Header = Header() with { DumpLength = ulong.MaxValue },
            BytesReceived = ulong.MaxValue,
            Ranges = [new ByteRange(0, 4096), new ByteRange(ulong.MaxValue - 1, ulong.MaxValue)],
            Holes = [new ByteRange(4096, ulong.MaxValue - 1)],
        };

        var text = DumpReport.FormatJson(record);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;

        Assert.Contains("18446744073709551615", text);
        Assert.Equal(ulong.MaxValue, root.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(ulong.MaxValue, root.GetProperty("dump_length").GetUInt64());
        Assert.Equal([[0UL, 4096UL], [ulong.MaxValue - 1, ulong.MaxValue]], Pairs(root.GetProperty("ranges")));
        Assert.Equal([[4096UL, ulong.MaxValue - 1]], Pairs(root.GetProperty("holes")));
    }

    [Fact]
    public void Json_puts_one_range_pair_on_each_line()
    {
        var record = Complete() with { Ranges = [new ByteRange(0, 10), new ByteRange(20, 30)], Holes = [] };

        var text = DumpReport.FormatJson(record);

        Assert.Contains("  \"ranges\": [\n    [0, 10],\n    [20, 30]\n  ],\n", text);
        Assert.Contains("  \"holes\": [],\n", text);
    }

    [Fact]
    public void Json_of_a_dump_still_receiving_without_a_header_has_nulls_for_header_fields()
    {
        var record = Receiving();

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;

        Assert.Equal(AllKeys.Order(), root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("receiving", root.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("reason").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("finished_at").ValueKind);
        foreach (var key in new[]
                 {
                     "magic", "hostname", "architecture", "architecture_version", "version_string", "panic_string",
                     "dump_time", "dump_length", "block_size", "dump_key_size", "compression", "parity_ok",
                 })
        {
            Assert.True(root.GetProperty(key).ValueKind == JsonValueKind.Null, $"{key} should be null");
        }

        Assert.Equal(4096UL, root.GetProperty("bytes_received").GetUInt64());
        Assert.Equal("vmcore-incomplete", root.GetProperty("vmcore").GetString());
        Assert.Equal("", root.GetProperty("herald_path").GetString());
    }

    [Fact]
    public void Json_of_a_superseded_dump_gives_the_reason_and_the_new_directory()
    {
        var record = Receiving() with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.Parse("superseded"),
            FinishedAt = new DateTimeOffset(2024, 3, 9, 14, 10, 0, TimeSpan.FromHours(1)),
            SupersededBy = "/var/crash/192.0.2.7-2024-03-09-14:10:00",
        };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;

        Assert.Equal("incomplete", root.GetProperty("status").GetString());
        Assert.Equal("superseded", root.GetProperty("reason").GetString());
        Assert.Equal("2024-03-09T13:10:00.000Z", root.GetProperty("finished_at").GetString());
        Assert.Equal("/var/crash/192.0.2.7-2024-03-09-14:10:00", root.GetProperty("superseded_by").GetString());
    }

    [Fact]
    public void Json_of_a_recovered_dump_says_so_and_leaves_ranges_and_holes_empty()
    {
        using var json = JsonDocument.Parse(DumpReport.FormatJson(Recovered()));
        var root = json.RootElement;

        Assert.Equal(AllKeys.Order(), root.EnumerateObject().Select(p => p.Name).Order());
        Assert.True(root.GetProperty("recovered").GetBoolean());
        Assert.Equal("incomplete", root.GetProperty("status").GetString());
        Assert.Equal(2097152UL, root.GetProperty("bytes_received").GetUInt64());
        Assert.Empty(Pairs(root.GetProperty("ranges")));
        Assert.Empty(Pairs(root.GetProperty("holes")));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("holes_known_until").ValueKind);
    }

    [Fact]
    public void Info_of_a_recovered_dump_gives_the_core_size_as_an_upper_bound_and_unknown_holes()
    {
        var lines = InfoLines(Recovered());

        Assert.Contains("  Received: at most 2097152 bytes (the size of vmcore-incomplete; which ranges of it arrived is unknown: they were kept in memory only, and the server stopped)", lines);
        Assert.Contains("  Holes: unknown (the received ranges were lost when the server stopped)", lines);
        Assert.Equal("Dump incomplete: server stopped", lines[^1]);
    }

    [Fact]
    public void Json_of_a_complete_dump_has_a_null_reason_even_if_one_was_set()
    {
        var record = Complete() with { Reason = EndReason.Parse("stale") };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));

        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("reason").ValueKind);
    }

    [Theory]
    [InlineData(DumpCompression.None, "none")]
    [InlineData(DumpCompression.Gzip, "gzip")]
    [InlineData(DumpCompression.Zstd, "zstd")]
    public void Json_names_the_compression(DumpCompression compression, string name)
    {
        var record = Complete() with { Header = Header() with { Compression = compression } };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));

        Assert.Equal(name, json.RootElement.GetProperty("compression").GetString());
    }

    [Fact]
    public void Info_of_a_complete_dump_ends_with_dump_complete()
    {
        var lines = InfoLines(Complete());

        Assert.Equal("Dump from web1.example.org [192.0.2.7]", lines[0]);
        Assert.Equal("Dump complete", lines[^1]);
    }

    [Fact]
    public void Info_of_an_incomplete_dump_ends_with_the_reason()
    {
        var lines = InfoLines(Complete() with { Status = DumpStatus.Incomplete, Reason = EndReason.Parse("client timed out") });

        Assert.Equal("Dump incomplete: client timed out", lines[^1]);
    }

    [Fact]
    public void Info_of_a_dump_still_arriving_ends_with_dump_in_progress()
    {
        var lines = InfoLines(Receiving());

        Assert.Equal("Dump in progress", lines[^1]);
    }

    [Fact]
    public void Info_lists_the_header_facts_in_netdumpd_order()
    {
        var lines = InfoLines(Complete() with { Encrypted = true });

        Assert.Equal(
            [
                "Dump from web1.example.org [192.0.2.7]",
                "  Architecture: amd64",
                "  Architecture Version: 2",
                "  Dump Length: 8192B (0 MB), the dump data as the kernel dump header gives it",
                "  Blocksize: 512",
                "  Compression: gzip",
                "  Dumptime: 2024-03-09T13:04:00Z",
                "  Hostname: web1.example.org",
                "  Version String: FreeBSD 14.1-RELEASE GENERIC",
                "  Panic String: page fault while in kernel mode",
                "  Header Parity Check: Pass",
                "  Encrypted: yes",
                "  Received: 8192 bytes of the core in 1 range",
                "  Holes: none",
                "  Key: 0 bytes received, in key",
                "  Herald Path: fleet/web",
                "Dump complete",
            ],
            lines);
    }

    [Fact]
    public void Info_without_a_header_says_so_and_names_an_unknown_host()
    {
        var lines = InfoLines(Receiving());

        Assert.Equal("Dump from unknown host [192.0.2.7]", lines[0]);
        Assert.Contains("  Kernel Dump Header: not received", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("  Architecture:", StringComparison.Ordinal));
        Assert.Contains("  Received: 4096 bytes of the core in 1 range", lines);
        Assert.Contains("  Holes: none before byte 4096; beyond it unknown (no dump length: no kernel dump header)", lines);
        Assert.Contains("  Herald Path: none", lines);
    }

    [Fact]
    public void Info_lists_holes_and_a_failed_parity_check()
    {
        var record = Complete() with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.Parse("holes"),
            Header = Header() with { DumpLength = 3 * 1048576, ParityOk = false },
            BytesReceived = 3 * 1048576 - 2048,
            Ranges = [new ByteRange(0, 1024), new ByteRange(2048, 3 * 1048576 - 1024)],
            Holes = [new ByteRange(1024, 2048), new ByteRange(3 * 1048576 - 1024, 3 * 1048576)],
        };

        var lines = InfoLines(record);

        Assert.Contains("  Dump Length: 3145728B (3 MB), the dump data as the kernel dump header gives it", lines);
        Assert.Contains("  Header Parity Check: Fail", lines);
        Assert.Contains("  Received: 3143680 bytes of the core in 2 ranges", lines);
        Assert.Contains("  Holes: [1024, 2048), [3144704, 3145728) (2048 bytes missing)", lines);
        Assert.Equal("Dump incomplete: holes", lines[^1]);
    }

    [Fact]
    public void Without_a_header_the_gaps_between_received_ranges_are_listed_as_holes_in_both_reports()
    {
        var record = Receiving() with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.Parse("no kernel dump header"),
            BytesReceived = 6144,
            Ranges = [new ByteRange(1024, 4096), new ByteRange(8192, 11264)],
            Holes = [new ByteRange(0, 1024), new ByteRange(4096, 8192)],
        };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;
        Assert.Equal([[0UL, 1024UL], [4096UL, 8192UL]], Pairs(root.GetProperty("holes")));
        Assert.Equal(11264UL, root.GetProperty("holes_known_until").GetUInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dump_length").ValueKind);
        Assert.Contains(
            "  Holes: [0, 1024), [4096, 8192) (5120 bytes missing) before byte 11264; beyond it unknown (no dump length: no kernel dump header)",
            InfoLines(record));
    }

    [Fact]
    public void Without_a_header_or_any_data_the_holes_are_unknown()
    {
        var record = Receiving() with { BytesReceived = 0, Ranges = [] };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        Assert.Equal(0UL, json.RootElement.GetProperty("holes_known_until").GetUInt64());
        Assert.Contains("  Holes: unknown (nothing received, and no dump length: no kernel dump header)", InfoLines(record));
    }

    [Fact]
    public void An_encrypted_dump_says_what_its_received_bytes_count_and_gives_the_key_apart()
    {
        // the FreeBSD client pads a compressed core's last block to 4096: the core received is
        // longer than the KDH's dump length, and the key is a file of its own
        var record = Complete() with
        {
            Header = Header() with { DumpLength = 8388814, DumpKeySize = 4096, Compression = DumpCompression.Zstd },
            BytesReceived = 8392704,
            Ranges = [new ByteRange(0, 8392704)],
            Encrypted = true,
            KeyBytesReceived = 4096,
            Vmcore = "vmcore_encrypted.zst",
        };

        var lines = InfoLines(record);
        Assert.Contains("  Dump Length: 8388814B (8 MB), the dump data as the kernel dump header gives it", lines);
        Assert.Contains("  Received: 8392704 bytes of the core in 1 range, 3890 of them past the dump length (where the client pads its last block)", lines);
        Assert.Contains("  Key: 4096 of 4096 bytes received, in key", lines);
        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        Assert.Equal(4096UL, json.RootElement.GetProperty("key_bytes_received").GetUInt64());
        Assert.Equal(8392704UL, json.RootElement.GetProperty("bytes_received").GetUInt64());
    }

    [Fact]
    public void A_herald_path_that_was_not_used_is_given_with_why_and_where_the_dump_went()
    {
        var record = Complete() with
        {
            HeraldPath = "web",
            HeraldPathFallback = "herald path \"web\" does not exist under the dump directory",
            Directory = "/var/crash/192.0.2.7-2024-03-09-14:05:07",
        };

        Assert.Contains(
            "  Herald Path: web, not used: herald path \"web\" does not exist under the dump directory; the dump went to the dump directory instead",
            InfoLines(record));
        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        Assert.Equal("web", json.RootElement.GetProperty("herald_path").GetString());
        Assert.Equal("herald path \"web\" does not exist under the dump directory", json.RootElement.GetProperty("herald_path_fallback").GetString());
    }

    [Fact]
    public void A_herald_path_that_could_not_be_decoded_is_not_shown_as_none()
    {
        var record = Complete() with { HeraldPath = "", HeraldPathFallback = "herald path is not UTF-8" };

        Assert.Contains("  Herald Path: unreadable, not used: herald path is not UTF-8; the dump went to the dump directory instead", InfoLines(record));
    }

    [Fact]
    public void A_receiving_dump_gives_its_rates_and_the_time_left_once_the_length_is_known()
    {
        var record = Receiving() with
        {
            Header = Header() with { DumpLength = 10 * 1048576 },
            BytesReceived = 4 * 1048576,
            Ranges = [new ByteRange(0, 4 * 1048576)],
            Rate = new ReceiveRate(LastTick: 2 * 1048576, Average: 1048576),
        };

        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;
        Assert.Equal(2UL * 1048576, root.GetProperty("rate_bytes_per_second").GetUInt64());
        Assert.Equal(1048576UL, root.GetProperty("average_rate_bytes_per_second").GetUInt64());
        Assert.Equal(3UL, root.GetProperty("eta_seconds").GetUInt64());
        Assert.Contains("  Rate: 2.0 MiB/s over the last second, 1.0 MiB/s on average, about 3 s left", InfoLines(record));
    }

    [Fact]
    public void A_stalled_or_headerless_receiving_dump_has_no_time_left()
    {
        var stalled = Receiving() with { Header = Header(), Rate = new ReceiveRate(LastTick: 0, Average: 51200) };
        var headerless = Receiving() with { Rate = new ReceiveRate(LastTick: 51200, Average: 51200) };

        foreach (var record in new[] { stalled, headerless })
        {
            using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("eta_seconds").ValueKind);
        }

        Assert.Contains("  Rate: 0 B/s over the last second, 50.0 KiB/s on average", InfoLines(stalled));
    }

    [Fact]
    public void Info_flattens_kernel_strings_so_they_cannot_forge_the_last_line()
    {
        var record = Complete() with
        {
            Status = DumpStatus.Incomplete,
            Reason = EndReason.Parse("client timed out"),
            Header = Header() with
            {
                VersionString = "FreeBSD 14.1-RELEASE\n    root@builder:/usr/obj/GENERIC",
                PanicString = "oops\nDump complete",
            },
        };

        var lines = InfoLines(record);

        Assert.Contains("  Version String: FreeBSD 14.1-RELEASE root@builder:/usr/obj/GENERIC", lines);
        Assert.Contains("  Panic String: oops Dump complete", lines);
        Assert.Equal("Dump incomplete: client timed out", lines[^1]);
    }

    [Fact]
    public void Write_creates_both_files_with_mode_0600_and_leaves_no_temporary_files()
    {
        var record = Complete() with { Directory = _temp.Path };

        DumpReport.Write(record);

        var info = Path.Combine(_temp.Path, DumpReport.InfoFileName);
        var json = Path.Combine(_temp.Path, DumpReport.JsonFileName);
        Assert.Equal(DumpReport.FormatInfo(record), File.ReadAllText(info));
        Assert.Equal(DumpReport.FormatJson(record), File.ReadAllText(json));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(info));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(json));
        Assert.Equal(
            [DumpReport.JsonFileName, DumpReport.InfoFileName],
            Directory.GetFileSystemEntries(_temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Write_replaces_the_previous_files()
    {
        var receiving = Receiving() with { Directory = _temp.Path };
        DumpReport.Write(receiving);
        var complete = Complete() with { Directory = _temp.Path };

        DumpReport.Write(complete);

        Assert.EndsWith("Dump complete\n", File.ReadAllText(Path.Combine(_temp.Path, DumpReport.InfoFileName)));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_temp.Path, DumpReport.JsonFileName)));
        Assert.Equal("complete", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(2, Directory.GetFileSystemEntries(_temp.Path).Length);
    }

    [Fact]
    public void Write_into_a_missing_directory_throws_and_creates_nothing()
    {
        var record = Complete() with { Directory = _temp.Combine("missing") };

        Assert.ThrowsAny<IOException>(() => DumpReport.Write(record));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path));
    }

    [Fact]
    public void A_core_compressed_at_rest_is_described_as_stored_with_both_checksums_and_the_client_compression_kept()
    {
        var plain = Complete() with { Header = Header() with { Compression = DumpCompression.None }, Vmcore = "vmcore", Sha256 = new string('a', 64) };
        using (var before = JsonDocument.Parse(DumpReport.FormatJson(plain)))
        {
            Assert.Equal(JsonValueKind.Null, before.RootElement.GetProperty("stored_compression").ValueKind); // no size known yet
        }

        var record = plain with { Vmcore = "vmcore.zst", StoredBytes = 1234, StoredSha256 = new string('b', 64), CompressedAtRest = true };
        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));
        var root = json.RootElement;
        Assert.Equal("vmcore.zst", root.GetProperty("vmcore").GetString());
        Assert.Equal("zstd", root.GetProperty("stored_compression").GetString());
        Assert.Equal("none", root.GetProperty("compression").GetString()); // as it arrived
        Assert.True(root.GetProperty("compressed_at_rest").GetBoolean());
        Assert.Equal(1234UL, root.GetProperty("stored_bytes").GetUInt64());
        Assert.Equal(new string('a', 64), root.GetProperty("sha256").GetString());
        Assert.Equal(new string('b', 64), root.GetProperty("stored_sha256").GetString());
        var info = InfoLines(record);
        Assert.Contains($"  SHA-256: {new string('a', 64)} (the core as received; vmcore.zst decompresses to it)", info);
        Assert.Contains($"  Stored: vmcore.zst, compressed at rest with zstd, 1234 bytes, SHA-256 {new string('b', 64)}", info);
    }

    [Fact]
    public void Decryption_and_a_refused_compression_are_told_in_info()
    {
        var info = InfoLines(Complete() with { DecryptedVmcore = "vmcore", CompressionProblem = "the .zst did not verify" });
        Assert.Contains("  Decrypted: vmcore", info);
        Assert.Contains("  Stored: vmcore.gz, not compressed at rest: the .zst did not verify", info);
        Assert.Contains("  Decrypted: no: the key does not match", InfoLines(Complete() with { DecryptionProblem = "the key does not match" }));
    }

    private static string[] InfoLines(DumpRecord record)
    {
        var text = DumpReport.FormatInfo(record);
        Assert.EndsWith("\n", text);
        return text[..^1].Split('\n');
    }

    private static List<ulong[]> Pairs(JsonElement array) =>
        array.EnumerateArray().Select(p => p.EnumerateArray().Select(x => x.GetUInt64()).ToArray()).ToList();

    private static KernelDumpHeader Header() => new(
        Magic: KernelDumpHeader.KernelDumpMagic,
        Architecture: "amd64",
        Version: KernelDumpHeader.SupportedVersion,
        ArchitectureVersion: 2,
        DumpLength: 8192,
        DumpTime: (ulong)new DateTimeOffset(2024, 3, 9, 13, 4, 0, TimeSpan.Zero).ToUnixTimeSeconds(),
        DumpKeySize: 0,
        BlockSize: 512,
        Hostname: "web1.example.org",
        VersionString: "FreeBSD 14.1-RELEASE GENERIC",
        PanicString: "page fault while in kernel mode",
        Compression: DumpCompression.Gzip,
        DumpExtent: 0,
        Parity: 0);

    private static DumpRecord Complete() => new()
    {
        Status = DumpStatus.Complete,
        ClientIp = IPAddress.Parse("192.0.2.7"),
        ServerIp = IPAddress.Parse("198.51.100.1"),
        HeraldPath = "fleet/web",
        Directory = "/var/crash/fleet/web/192.0.2.7-2024-03-09-14:05:07",
        ReceivedAt = new DateTimeOffset(2024, 3, 9, 14, 5, 7, 250, TimeSpan.FromHours(1)),
        FinishedAt = new DateTimeOffset(2024, 3, 9, 13, 6, 10, TimeSpan.Zero),
        Header = Header(),
        BytesReceived = 8192,
        Ranges = [new ByteRange(0, 8192)],
        Holes = [],
        Vmcore = "vmcore.gz",
    };

    private static DumpRecord Recovered() => Complete() with
    {
        Status = DumpStatus.Incomplete,
        Reason = EndReason.Parse("server stopped"),
        BytesReceived = 2097152,
        Ranges = [],
        Holes = [],
        Vmcore = "vmcore-incomplete",
        Recovered = true,
    };

    private static DumpRecord Receiving() => new()
    {
        Status = DumpStatus.Receiving,
        ClientIp = IPAddress.Parse("192.0.2.7"),
        ServerIp = IPAddress.Parse("198.51.100.1"),
        HeraldPath = "",
        Directory = "/var/crash/192.0.2.7-2024-03-09-14:05:07",
        ReceivedAt = new DateTimeOffset(2024, 3, 9, 13, 5, 7, TimeSpan.Zero),
        BytesReceived = 4096,
        Ranges = [new ByteRange(0, 4096)],
        Vmcore = "vmcore-incomplete",
    };
}
