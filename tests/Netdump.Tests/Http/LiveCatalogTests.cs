using System.Text.Json;
using Netdump.Actors.Catalog;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Netdump.Tests.Catalog;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Http;

/// <summary>
/// The catalog of a server started on a generated dump directory, then kept current by a real
/// dump sent by a paced client: its live session with progress, then its end, first in the list.
/// </summary>
public sealed class LiveCatalogTests : IAsyncLifetime
{
    private const string Client = "127.0.0.44";
    private const int Chunk = 1024;
    private const int Chunks = 64;
    private ServerHarness _server = null!;
    private HttpClient _http = null!;
    private uint _sequence = 1;

    public async Task InitializeAsync()
    {
        var dumpDir = Path.Combine(Path.GetTempPath(), $"netdump-live-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dumpDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        for (var i = 0; i < 3; i++)
        {
            CatalogTree.Write(CatalogTree.Record(dumpDir, $"192.0.2.{i + 1}", CatalogTree.Start.AddMinutes(i), $"old{i}", "slow panic"));
        }

        _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["dumpdir"] = dumpDir, ["http"] = "127.0.0.1:0" });
        _http = new HttpClient { BaseAddress = new Uri(_server.HttpUrl!) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_dump_shows_as_a_live_session_with_progress_then_first_in_the_list_and_in_its_group()
    {
        Assert.Equal(3, (await GetAsync("/api/dumps")).GetProperty("total").GetInt32());
        using var socket = RawClient.Bind(Client);
        var session = RawClient.Herald(socket, _server.Endpoint);

        // the KDH first, so that the length is known and the progress has a share and a time left
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Kdh, ++_sequence, 0, Kdh(Chunks * Chunk))]);
        RawClient.SendUntilAcked(socket, session, Data(0, Chunks / 4));
        var live = await WaitForAsync("/api/sessions", json => json.GetProperty("items").GetArrayLength() == 1
            && json.GetProperty("items")[0].GetProperty("progress").GetProperty("bytes_received").GetUInt64() == Chunks / 4 * Chunk);
        var item = live.GetProperty("items")[0];
        Assert.Equal("receiving", item.GetProperty("status").GetString());
        Assert.Equal("slow.example.org", item.GetProperty("host").GetString());
        var progress = item.GetProperty("progress");
        Assert.Equal(Chunks * Chunk, progress.GetProperty("dump_length").GetInt64());
        Assert.Equal(25.0, progress.GetProperty("percent").GetDouble());

        // more data moves the bar
        RawClient.SendUntilAcked(socket, session, Data(Chunks / 4 * Chunk, Chunks / 4));
        await WaitForAsync("/api/sessions", json => json.GetProperty("items")[0].GetProperty("progress").GetProperty("percent").GetDouble() == 50.0);

        RawClient.SendUntilAcked(socket, session, Data(Chunks / 2 * Chunk, Chunks / 2));
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Finished, ++_sequence, 0, [])]);
        var list = await WaitForAsync("/api/dumps", json => json.GetProperty("items")[0].GetProperty("status").GetString() == "complete"
            && json.GetProperty("total").GetInt32() == 4);
        var done = list.GetProperty("items")[0];
        Assert.Equal(Client, done.GetProperty("client_ip").GetString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("progress").ValueKind);
        Assert.Empty((await GetAsync("/api/sessions")).GetProperty("items").EnumerateArray());

        var group = Assert.Single((await GetAsync("/api/groups")).GetProperty("items").EnumerateArray());
        Assert.Equal(4, group.GetProperty("dumps").GetInt32());
        Assert.Contains("slow.example.org", group.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(done.GetProperty("group").GetString(), group.GetProperty("id").GetString());
    }

    private async Task<JsonElement> GetAsync(string path) => JsonDocument.Parse(await _http.GetStringAsync(path)).RootElement.Clone();

    /// <summary>Polls (bounded) until the answer is as awaited: progress reaches the catalog about once a second.</summary>
    private async Task<JsonElement> WaitForAsync(string path, Func<JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var json = await GetAsync(path);
            if (until(json))
            {
                return json;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{path}: not as awaited: {json}");
            }

            await Task.Delay(50);
        }
    }

    private List<byte[]> Data(int offset, int chunks) => RawClient.Data(ref _sequence, offset, chunks, Chunk);

    private static byte[] Kdh(ulong dumpLength) => RawClient.Kdh(dumpLength, "slow.example.org", "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8: Fri May 31 05:41:19 UTC 2024\n", "slow panic");
}
