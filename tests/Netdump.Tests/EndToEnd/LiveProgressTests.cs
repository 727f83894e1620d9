using System.Text.Json;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A dump read while it arrives (issue 18): a client paced by the test, one burst at a time,
/// and dump.json read between the bursts, as an operator or a script would.
/// </summary>
public sealed class LiveProgressTests : IAsyncLifetime
{
    private const string Client = "127.0.0.29";
    private const int Chunk = 1024;

    private ServerHarness _server = null!;
    private uint _sequence = 1;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Dump_json_shows_the_bytes_ranges_and_holes_growing_while_a_slow_dump_arrives()
    {
        using var socket = RawClient.Bind(Client);
        var session = RawClient.Herald(socket, _server.Endpoint);
        var dir = await _server.WaitForDumpOfAsync(Client);

        RawClient.SendUntilAcked(socket, session, Data(0, 16));
        var json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("bytes_received").GetUInt64() == 16 * Chunk);
        Assert.Equal("receiving", json.GetProperty("status").GetString());
        Assert.Equal(1, json.GetProperty("ranges").GetArrayLength());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("rate_bytes_per_second").ValueKind);

        RawClient.SendUntilAcked(socket, session, Data(16 * Chunk, 16));
        json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("bytes_received").GetUInt64() == 32 * Chunk);
        Assert.Equal("receiving", json.GetProperty("status").GetString());

        // a burst past a gap, with no KDH yet: the gap is a known hole, what lies beyond is not
        RawClient.SendUntilAcked(socket, session, Data(64 * Chunk, 16));
        json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("bytes_received").GetUInt64() == 48 * Chunk);
        Assert.Equal(2, json.GetProperty("ranges").GetArrayLength());
        Assert.Equal([32UL * Chunk, 64UL * Chunk], Hole(json));
        Assert.Equal(80UL * Chunk, json.GetProperty("holes_known_until").GetUInt64());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("dump_length").ValueKind);
        Assert.Contains(
            "  Holes: [32768, 65536) (32768 bytes missing) before byte 81920; beyond it unknown (no dump length: no kernel dump header)",
            File.ReadAllLines(Path.Combine(dir, "info")));

        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Kdh, ++_sequence, 0, Kdh(80 * Chunk))]);
        json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("dump_length").ValueKind == JsonValueKind.Number);
        Assert.Equal("receiving", json.GetProperty("status").GetString());
        Assert.Equal([32UL * Chunk, 64UL * Chunk], Hole(json));

        RawClient.SendUntilAcked(socket, session, Data(32 * Chunk, 32));
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Finished, ++_sequence, 0, [])]);
        json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal(80UL * Chunk, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("rate_bytes_per_second").ValueKind);
    }

    private List<byte[]> Data(int offset, int chunks) => RawClient.Data(ref _sequence, offset, chunks, Chunk);

    private static ulong[] Hole(JsonElement json) =>
        Assert.Single(json.GetProperty("holes").EnumerateArray()).EnumerateArray().Select(x => x.GetUInt64()).ToArray();

    private static byte[] Kdh(ulong dumpLength) => RawClient.Kdh(dumpLength, "slow.example.org", "FreeBSD 14.1-RELEASE GENERIC", "panic: slow");
}
