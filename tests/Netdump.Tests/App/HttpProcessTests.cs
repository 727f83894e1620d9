using System.Net;
using System.Net.Sockets;
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

    [Fact]
    public async Task An_http_port_in_use_stops_the_start_with_one_line_and_no_stack_trace_in_the_log()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var endpoint = (IPEndPoint)holder.LocalEndpoint;

        using var run = await ServerProcess.RunAsync(RunTimeout, "--port", "0", "--addr", "127.0.0.1", "--http", endpoint.ToString(), "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal(1, run.Process.ExitCode);
        Assert.Equal($"netdump-server: http: cannot listen on {endpoint}: Address already in use", Assert.Single(run.StderrLines));
        AssertOneErrorLineInTheLog(run, $"[ERR] http: cannot listen on {endpoint}: Address already in use");
    }

    [FactWhereLowPortsArePrivileged]
    public async Task An_http_bind_refused_for_another_reason_stops_the_start_with_one_line()
    {
        // EACCES, not EADDRINUSE: a port below ip_unprivileged_port_start without
        // CAP_NET_BIND_SERVICE (root drops it for the server; anyone else never had it)
        var wrapper = Environment.UserName == "root" ? new[] { "setpriv", "--bounding-set=-net_bind_service" } : [];
        var endpoint = $"127.0.0.1:{FactWhereLowPortsArePrivilegedAttribute.PrivilegedPort}";

        using var run = await ServerProcess.RunUnderAsync(RunTimeout, wrapper, "--port", "0", "--addr", "127.0.0.1", "--http", endpoint, "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal(1, run.Process.ExitCode);
        Assert.Equal($"netdump-server: http: cannot listen on {endpoint}: Permission denied", Assert.Single(run.StderrLines));
        AssertOneErrorLineInTheLog(run, $"[ERR] http: cannot listen on {endpoint}: Permission denied");
    }

    /// <summary>The log says why the start failed once, in one line: no exception, no host's "Hosting failed to start".</summary>
    private static void AssertOneErrorLineInTheLog(ServerProcess run, string error)
    {
        Assert.Single(run.StdoutLines, l => l.EndsWith(error, StringComparison.Ordinal));
        Assert.DoesNotContain(run.StdoutLines, l => l.Contains("Hosting failed", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal) || l.StartsWith("   at ", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex HttpUrl();
}

/// <summary>
/// A test that needs a port only a privileged process may bind (below
/// <c>net.ipv4.ip_unprivileged_port_start</c>, 1024 by default) and, for root, <c>setpriv</c>
/// to give up that privilege; skipped with the reason where either is missing.
/// </summary>
internal sealed class FactWhereLowPortsArePrivilegedAttribute : FactAttribute
{
    /// <summary>Port 1 (tcpmux): privileged wherever any port is, and nothing here listens on it.</summary>
    public const int PrivilegedPort = 1;

    public FactWhereLowPortsArePrivilegedAttribute()
    {
        const string sysctl = "/proc/sys/net/ipv4/ip_unprivileged_port_start";
        if (!File.Exists(sysctl) || int.Parse(File.ReadAllText(sysctl).Trim(), System.Globalization.CultureInfo.InvariantCulture) <= PrivilegedPort)
        {
            Skip = $"every port may be bound without privilege here ({sysctl})";
        }
        else if (Environment.UserName == "root" && !Netdump.Tests.Packaging.Tool.OnPath("setpriv"))
        {
            Skip = "setpriv is not installed (apt-get install util-linux)";
        }
    }
}
