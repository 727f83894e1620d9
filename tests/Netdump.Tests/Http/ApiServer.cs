using System.Text.Json;
using Netdump.Actors.Storage;
using Netdump.Tests.Catalog;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Http;

/// <summary>
/// A server with HTTP on 127.0.0.1 port 0 over a dump directory generated before it starts
/// (<see cref="CatalogTree"/>): twelve dumps from six hosts, a third incomplete, two panics,
/// one under a HERALD path. Shared by the API contract tests, which only read.
/// </summary>
public sealed class ApiServer : IAsyncLifetime
{
    public const int Dumps = 12;

    public ServerHarness Server { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public List<DumpRecord> Records { get; } = [];

    public async Task InitializeAsync()
    {
        var dumpDir = Path.Combine(Path.GetTempPath(), $"netdump-api-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dumpDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(dumpDir, "rack1"));
        for (var i = 0; i < Dumps; i++)
        {
            var client = $"192.0.2.{i % 6 + 1}";
            var status = i % 3 == 2 ? DumpStatus.Incomplete : DumpStatus.Complete;
            var panic = i % 2 == 0 ? $"page fault at 0x{i:x} pid {100 + i}" : "double fault";
            Records.Add(CatalogTree.Write(CatalogTree.Record(dumpDir, client, CatalogTree.Start.AddMinutes(i), $"web{i % 6 + 1}.example.org", panic, status,
                under: i == 7 ? "rack1" : null)));
        }

        Server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["dumpdir"] = dumpDir, ["http"] = "127.0.0.1:0" });
        Http = new HttpClient { BaseAddress = new Uri(Server.HttpUrl!) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
