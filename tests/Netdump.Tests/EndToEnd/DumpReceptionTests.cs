using Netdump.Actors.Protocol;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Whole dumps over real loopback sockets: the simulated FreeBSD client against the real
/// server, and the stored files compared byte for byte with what was sent. Run once per
/// receive engine (the classes below).
/// </summary>
public abstract class DumpReceptionTests(string engine) : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["ingest_engine"] = engine });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(SimulatedClient Client, string Dir)> RunCompleteDump(SimulationOptions options)
    {
        var client = new SimulatedClient(options);
        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error);
        var dir = _server.SingleDumpOf(options.Source.ToString());
        return (client, dir);
    }

    private static void AssertStoredCore(SimulatedClient client, string dir, string name)
    {
        var stored = File.ReadAllBytes(Path.Combine(dir, name));
        Assert.Equal(client.Core.Length, stored.Length);
        Assert.True(client.Core.Span.SequenceEqual(stored), $"{name} differs from what the client sent");
        Assert.False(File.Exists(Path.Combine(dir, "vmcore-incomplete")));
    }

    [Fact]
    public async Task A_zero_byte_dump_is_complete()
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with { Size = 0 });
        AssertStoredCore(client, dir, "vmcore");
        var json = ServerHarness.ReadJson(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal(0UL, json.GetProperty("dump_length").GetUInt64());
    }

    [Fact]
    public async Task A_small_dump_is_stored_byte_exact_and_described()
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with
        {
            Size = 300_000,
            Hostname = "web7.example.org",
            Panic = "page fault while in kernel mode",
        });

        AssertStoredCore(client, dir, "vmcore");
        var json = ServerHarness.ReadJson(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("reason").ValueKind);
        Assert.Equal("127.0.0.1", json.GetProperty("client_ip").GetString());
        Assert.Equal("127.0.0.1", json.GetProperty("server_ip").GetString());
        Assert.Equal("web7.example.org", json.GetProperty("hostname").GetString());
        Assert.Equal("page fault while in kernel mode", json.GetProperty("panic_string").GetString());
        Assert.Equal(300_000UL, json.GetProperty("dump_length").GetUInt64());
        Assert.Equal(300_000UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal("none", json.GetProperty("compression").GetString());
        Assert.True(json.GetProperty("parity_ok").GetBoolean());
        Assert.False(json.GetProperty("encrypted").GetBoolean());
        Assert.Equal("vmcore", json.GetProperty("vmcore").GetString());
        Assert.Equal(0, json.GetProperty("holes").GetArrayLength());
        Assert.Equal(
            DateTimeOffset.FromUnixTimeSeconds((long)client.Header.DumpTime),
            json.GetProperty("dump_time").GetDateTimeOffset());

        var info = File.ReadAllLines(Path.Combine(dir, "info"));
        Assert.Contains(info, l => l.Contains("web7.example.org"));
        Assert.Contains(info, l => l.Contains("page fault while in kernel mode"));
        Assert.Contains(info, l => l.Contains("Header Parity Check: Pass"));
        Assert.Equal("Dump complete", info[^1]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "vmcore")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        // its start line comes if it lasts flush_interval (DumpLogLineTests)
        // the KDH comes just before FINISHED: its host and panic are on the end line, not a line of
        // their own; and so is how it started
        var end = await _server.WaitForLogAsync("127.0.0.1", "dump complete");
        Assert.Matches(@": web7\.example\.org, panic ""page fault while in kernel mode"", 300000 bytes \(293\.0 KiB\) in \d+\.\d s \(\d+\.\d [KM]iB/s\), \d+ packets, 0 dropped datagrams, SHA-256 [0-9a-f]{64}; HERALD 1 from port \d+ to 127\.0\.0\.1, path """", session port \d+$", end);
        Assert.DoesNotContain(_server.LogLines, l => l.Contains("kernel dump header"));
        var packets = int.Parse(System.Text.RegularExpressions.Regex.Match(end, @"(\d+) packets").Groups[1].Value);
        Assert.True(packets >= 208 + 2, $"{packets} packets for 300,000 bytes in 1448-byte payloads, a KDH and a FINISHED");
    }

    [Fact]
    public async Task A_64_MiB_dump_is_stored_byte_exact()
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with { Size = 64L << 20, Seed = 64 });
        AssertStoredCore(client, dir, "vmcore");
    }

    [Theory]
    [InlineData(1500, false, 1448)]
    [InlineData(9000, false, 8948)]
    [InlineData(9000, true, 4096)]
    public async Task Every_payload_size_is_accepted(int mtu, bool freeBsd12, int expectedPayload)
    {
        Assert.Equal(expectedPayload, freeBsd12 ? Math.Min(4096, mtu - 52) : mtu - 52);
        var (client, dir) = await RunCompleteDump(_server.Client() with { Size = 2_000_000, Mtu = mtu, FreeBsd12 = freeBsd12 });
        AssertStoredCore(client, dir, "vmcore");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_encrypted_dump_keeps_the_key_and_FreeBSD_names_in_either_order(bool freeBsd12)
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with { Size = 500_000, Encrypt = true, FreeBsd12 = freeBsd12 });
        AssertStoredCore(client, dir, "vmcore_encrypted");
        Assert.Equal(client.Key.ToArray(), File.ReadAllBytes(Path.Combine(dir, "key")));
        Assert.True(ServerHarness.ReadJson(dir).GetProperty("encrypted").GetBoolean());
    }

    [Theory]
    [InlineData(DumpCompression.Gzip, "vmcore.gz", "gzip")]
    [InlineData(DumpCompression.Zstd, "vmcore.zst", "zstd")]
    public async Task A_compressed_dump_is_named_for_its_compression_and_cut_to_its_length(DumpCompression compression, string name, string label)
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with { Size = 1_000_000, Compress = compression });
        AssertStoredCore(client, dir, name);
        Assert.Equal((long)client.Header.DumpLength, new FileInfo(Path.Combine(dir, name)).Length);
        Assert.Equal(label, ServerHarness.ReadJson(dir).GetProperty("compression").GetString());
    }

    [Fact]
    public async Task Loss_duplicates_and_reordering_still_give_a_byte_identical_dump()
    {
        var (client, dir) = await RunCompleteDump(_server.Client() with
        {
            Size = 4_000_000,
            Loss = 0.05,
            Duplicate = 0.05,
            Reorder = 0.3,
            Seed = 7,
        });
        AssertStoredCore(client, dir, "vmcore");
    }

    [Fact]
    public async Task Eight_clients_at_once_each_get_their_own_complete_dump()
    {
        var clients = Enumerable.Range(10, 8)
            .Select(i => new SimulatedClient(_server.Client($"127.0.0.{i}") with { Size = 3_000_000, Seed = i }))
            .ToList();
        var results = await Task.WhenAll(clients.Select(c => c.RunAsync()));
        Assert.All(results, r => Assert.True(r.Success, r.Error));
        Assert.Equal(8, results.Select(r => r.SessionPort).Distinct().Count());
        foreach (var client in clients)
        {
            AssertStoredCore(client, _server.SingleDumpOf(client.Options.Source.ToString()), "vmcore");
        }
    }
}

/// <summary>The Linux engine: recvmmsg, pwritev, sendmmsg.</summary>
public sealed class BatchedEngineDumpReceptionTests() : DumpReceptionTests("batched");

/// <summary>The portable fallback: one datagram per call.</summary>
public sealed class ManagedEngineDumpReceptionTests() : DumpReceptionTests("managed");

/// <summary>One epoll thread for all session sockets.</summary>
public sealed class EpollEngineDumpReceptionTests() : DumpReceptionTests("epoll");
