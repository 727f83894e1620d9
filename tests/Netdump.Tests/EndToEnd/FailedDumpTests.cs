using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>Dumps that cannot be complete, and HERALDs that ask for something they may not have.</summary>
public sealed class FailedDumpTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    // clients here die and come back at once, not after a reboot: no HERALD retransmit window
    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(
        new Dictionary<string, object?> { ["session_timeout"] = "1s", ["herald_retransmit_window"] = "0s" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_client_that_dies_mid_dump_leaves_an_incomplete_dump_after_the_timeout()
    {
        var client = new SimulatedClient(_server.Client("127.0.0.21") with { Size = 2_000_000, DieAfterBytes = 500_000 });
        var result = await client.RunAsync();
        Assert.False(result.Success);

        var dir = _server.SingleDumpOf("127.0.0.21");
        var json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("client timed out", json.GetProperty("reason").GetString());
        Assert.Equal("vmcore-incomplete", json.GetProperty("vmcore").GetString());
        Assert.True(json.GetProperty("bytes_received").GetUInt64() >= 500_000);
        Assert.True(File.Exists(Path.Combine(dir, "vmcore-incomplete")));
        Assert.Equal("Dump incomplete: client timed out", File.ReadAllLines(Path.Combine(dir, "info"))[^1]);
        var stored = File.ReadAllBytes(Path.Combine(dir, "vmcore-incomplete"));
        Assert.True(client.Core.Span[..500_000].SequenceEqual(stored.AsSpan(0, 500_000)), "received bytes were not kept");
    }

    [Fact]
    public async Task A_dump_with_a_hole_is_never_complete_and_lists_the_hole()
    {
        var client = new SimulatedClient(_server.Client("127.0.0.22") with { Size = 1_000_000, Hole = (200_000, 3000) });
        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error); // the client believes it finished

        var json = ServerHarness.ReadJson(_server.SingleDumpOf("127.0.0.22"));
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Contains("hole", json.GetProperty("reason").GetString());
        var holes = json.GetProperty("holes").EnumerateArray().Select(h => (h[0].GetUInt64(), h[1].GetUInt64())).ToList();
        var (start, end) = Assert.Single(holes);
        Assert.True(start <= 200_000 && end >= 203_000, $"hole [{start}, {end}) does not cover the bytes never sent");
        Assert.Equal("vmcore-incomplete", json.GetProperty("vmcore").GetString());
    }

    [Theory]
    [InlineData("/etc", "absolute")]
    [InlineData("crash/../..", "..")]
    [InlineData("missing", "does not exist")]
    [InlineData("crash\u0001x", "control character")]
    [InlineData("crash\u001b[2J", "control character")]
    [InlineData("outside-link", "outside the dump directory")]
    public async Task A_herald_path_that_may_not_be_used_sends_the_dump_to_the_dump_directory_with_a_logged_reason(string path, string reason)
    {
        Directory.CreateDirectory(Path.Combine(_server.DumpDir, "crash"));
        var outside = Directory.CreateTempSubdirectory("netdump-outside-").FullName;
        File.CreateSymbolicLink(Path.Combine(_server.DumpDir, "outside-link"), outside);
        var client = new SimulatedClient(_server.Client("127.0.0.23") with { Size = 10_000, Path = path });
        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error);

        var dir = _server.SingleDumpOf("127.0.0.23");
        await _server.WaitForLogAsync("127.0.0.23", reason);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside)); // never a file outside the dump directory
        Directory.Delete(outside);
    }

    [Fact]
    public async Task An_over_long_herald_path_is_not_used_and_the_reason_is_logged()
    {
        // no kernel sends this (net.netdump.path holds 1024 bytes): a raw HERALD
        var payload = new byte[2001];
        payload.AsSpan(0, 2000).Fill((byte)'a');
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(MessageType.Herald, 1, 0, (uint)payload.Length, 0).Write(datagram);
        payload.CopyTo(datagram, MessageHeader.Size);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.27"), 0));
        socket.SendTo(datagram, _server.Endpoint);

        var ack = new byte[8];
        Assert.Equal(Ack.Size, socket.Receive(ack)); // the dump goes ahead, in the dump directory itself
        await _server.WaitForLogAsync("127.0.0.27", "exceeds 1024");
        Assert.Single(_server.DumpsOf("127.0.0.27"));
    }

    [Fact]
    public async Task A_herald_path_that_exists_under_the_dump_directory_is_used()
    {
        var sub = Path.Combine(_server.DumpDir, "fleet", "web");
        Directory.CreateDirectory(sub);
        var result = await new SimulatedClient(_server.Client("127.0.0.24") with { Size = 10_000, Path = "fleet/web" }).RunAsync();
        Assert.True(result.Success, result.Error);
        Assert.Equal("complete", ServerHarness.ReadJson(_server.SingleDumpOf("127.0.0.24", sub)).GetProperty("status").GetString());
        Assert.Empty(_server.DumpsOf("127.0.0.24"));
    }

    [Fact]
    public async Task A_second_panic_while_the_first_dump_is_receiving_supersedes_it()
    {
        var first = await new SimulatedClient(_server.Client("127.0.0.25") with { Size = 2_000_000, DieAfterBytes = 300_000 }).RunAsync();
        Assert.False(first.Success);

        var second = new SimulatedClient(_server.Client("127.0.0.25") with { Size = 200_000, Seed = 2 });
        var result = await second.RunAsync();
        Assert.True(result.Success, result.Error);

        var dumps = _server.DumpsOf("127.0.0.25");
        Assert.Equal(2, dumps.Count);
        var old = await ServerHarness.WaitForEndAsync(dumps[0]); // the old dump ends while the new one runs
        var renewed = ServerHarness.ReadJson(dumps[1]);
        Assert.Equal("incomplete", old.GetProperty("status").GetString());
        Assert.Equal("superseded", old.GetProperty("reason").GetString());
        Assert.Equal(dumps[1], old.GetProperty("superseded_by").GetString());
        Assert.Equal("complete", renewed.GetProperty("status").GetString());
        Assert.True(second.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(dumps[1], "vmcore"))));
    }

    [Fact]
    public async Task A_second_panic_after_a_finished_dump_starts_a_new_dump_and_leaves_the_first_untouched()
    {
        var first = new SimulatedClient(_server.Client("127.0.0.26") with { Size = 100_000, Seed = 1 });
        Assert.True((await first.RunAsync()).Success);
        var firstDir = _server.SingleDumpOf("127.0.0.26");
        // its last report is the one with its checksum, written after the FINISHED ack
        await ServerHarness.WaitForJsonAsync(firstDir, j => j.GetProperty("sha256").ValueKind == System.Text.Json.JsonValueKind.String);
        var firstJson = File.ReadAllText(Path.Combine(firstDir, "dump.json"));

        var second = new SimulatedClient(_server.Client("127.0.0.26") with { Size = 100_000, Seed = 2 });
        Assert.True((await second.RunAsync()).Success);

        var dumps = _server.DumpsOf("127.0.0.26");
        Assert.Equal(2, dumps.Count);
        Assert.Equal(firstJson, File.ReadAllText(Path.Combine(firstDir, "dump.json")));
        Assert.True(first.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(dumps[0], "vmcore"))));
        Assert.True(second.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(dumps[1], "vmcore"))));
    }
}
