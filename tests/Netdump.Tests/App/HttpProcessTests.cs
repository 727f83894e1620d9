using System.Text.Json;
using System.Text.RegularExpressions;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>The HTTP side of the real executable: its start line, a request, and the one-line refusals.</summary>
public sealed partial class HttpProcessTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _dir = new();

    public HttpProcessTests() => File.WriteAllText(ConfPath, "");

    private string ConfPath => _dir.Combine("netdump.conf");

    private string DumpDir => _dir.Combine("dumps");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_server_says_where_http_listens_and_answers_there()
    {
        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--http", "127.0.0.1:0", "--dumpdir", DumpDir, "--config", ConfPath);
        await server.WaitForOutputAsync("HTTP API, /metrics and dashboard on http://127.0.0.1:", RunTimeout);
        var url = HttpUrl().Match(server.StdoutLines.First(l => l.Contains("HTTP API", StringComparison.Ordinal))).Value;
        using var http = new HttpClient();

        var health = JsonDocument.Parse(await http.GetStringAsync(url + "/healthz")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Contains("netdump_dumps_started_total 0", await http.GetStringAsync(url + "/metrics"));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
        Assert.DoesNotContain(server.StdoutLines, l => l.Contains("Request starting", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_non_loopback_http_without_a_token_file_stops_the_start_with_one_line()
    {
        using var run = await ServerProcess.RunAsync(RunTimeout, "--port", "0", "--addr", "127.0.0.1", "--http", "0.0.0.0:0", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal(1, run.Process.ExitCode);
        Assert.Equal(
            "netdump-server: --http: 0.0.0.0:0 is not a loopback address, and dumps are kernel memory: set http_token_file (every request must then carry its bearer token) or listen on 127.0.0.1",
            Assert.Single(run.StderrLines));
    }

    [Fact]
    public async Task A_missing_token_file_stops_the_start_with_one_line()
    {
        File.WriteAllText(ConfPath, $"http_token_file = {_dir.Combine("no-such-token")}\n");
        using var run = await ServerProcess.RunAsync(RunTimeout, "--port", "0", "--addr", "127.0.0.1", "--http", "127.0.0.1:0", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal(1, run.Process.ExitCode);
        Assert.StartsWith($"netdump-server: http_token_file {_dir.Combine("no-such-token")} is not usable: it does not exist", Assert.Single(run.StderrLines));
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex HttpUrl();
}
