using System.Net;
using System.Text.Json;
using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Http;

public sealed class HttpSmokeTests
{
    [Fact]
    public async Task A_dump_run_end_to_end_is_listed_by_the_api()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0" });
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpUrl!) };
        var result = await new SimulatedClient(server.Client() with { Size = 256 * 1024 }).RunAsync();
        var dir = server.SingleDumpOf("127.0.0.1");
        await ServerHarness.WaitForEndAsync(dir);
        var json = JsonDocument.Parse(await http.GetStringAsync("/api/dumps")).RootElement;
        Console.WriteLine(json);
        Assert.Equal(1, json.GetProperty("total").GetInt32());
        var id = json.GetProperty("items")[0].GetProperty("id").GetString()!;
        var one = JsonDocument.Parse(await http.GetStringAsync($"/api/dumps/{Uri.EscapeDataString(id)}")).RootElement;
        Console.WriteLine(one);
        Console.WriteLine(await http.GetStringAsync("/api/groups"));
        Console.WriteLine(await http.GetStringAsync("/metrics"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/dumps/nope")).StatusCode);
    }
}
