using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A client that scatters tiny writes (issue 13: 1-byte writes at descending offsets, each a
/// range of its own). No FreeBSD client writes so; the dump ends "too fragmented" at
/// <see cref="CoreFile.MaxRanges"/> ranges, keeping every byte acked before.
/// </summary>
public sealed class FragmentationTests : IAsyncLifetime
{
    private const string Client = "127.0.0.28";
    private const int Window = 64; // a FreeBSD client's most packets in flight

    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Descending_one_byte_writes_past_the_bound_end_the_dump_too_fragmented_and_keep_what_was_acked()
    {
        using var socket = RawClient.Bind(Client);
        var session = RawClient.Herald(socket, _server.Endpoint);

        // range k (k = 0 .. MaxRanges - 1) is the byte at offset 2 * (MaxRanges - k), a gap
        // below each: every write is a range of its own, each before all the others
        const int ranges = CoreFile.MaxRanges;
        var sequence = 2u;
        for (var first = 0; first < ranges; first += Window)
        {
            var packets = Enumerable.Range(first, Math.Min(Window, ranges - first))
                .Select(k => Data(sequence++, Offset(k)))
                .ToList();
            RawClient.SendUntilAcked(socket, session, packets);
        }

        // one more range: refused, never acked, and the dump ends
        socket.SendTo(Data(sequence, 0), session);
        var dir = _server.SingleDumpOf(Client);
        var json = await ServerHarness.WaitForEndAsync(dir);

        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.StartsWith("too fragmented", json.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal((ulong)ranges, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(ranges, json.GetProperty("ranges").GetArrayLength());
        await _server.WaitForLogAsync(Client, "too fragmented");
        var core = File.ReadAllBytes(Path.Combine(dir, "vmcore-incomplete"));
        Assert.Equal((int)Offset(0) + 1, core.Length);
        for (var k = 0; k < ranges; k++)
        {
            Assert.Equal(ByteAt(Offset(k)), core[Offset(k)]);
        }

        Assert.Equal(0, core[0]); // the refused write was not written
    }

    private static ulong Offset(int k) => 2UL * (ulong)(CoreFile.MaxRanges - k);

    private static byte ByteAt(ulong offset) => (byte)((offset / 2 % 255) + 1);

    private static byte[] Data(uint sequence, ulong offset) => RawClient.Message(MessageType.Vmcore, sequence, offset, [ByteAt(offset)]);
}
