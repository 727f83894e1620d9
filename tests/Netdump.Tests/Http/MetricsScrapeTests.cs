using System.Net;
using Netdump.Actors.Scripts;
using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Http;

/// <summary>A scrape of <c>/metrics</c>, parsed, after dumps run end to end: the numbers are those of the dumps.</summary>
public sealed class MetricsScrapeTests : IAsyncLifetime
{
    private const int Size = 512 * 1024;
    private ServerHarness _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0", ["session_timeout"] = "1s" });
        _http = new HttpClient { BaseAddress = new Uri(_server.HttpUrl!) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_metrics_count_a_complete_dump_an_abandoned_one_and_a_script_run()
    {
        var scripts = Path.Combine(_server.DumpDir, ScriptNames.Directory);
        Directory.CreateDirectory(scripts, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var reboot = Path.Combine(scripts, ScriptNames.Reboot);
        File.WriteAllText(reboot, "#!/bin/sh\nexit 0\n");
        File.SetUnixFileMode(reboot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var complete = await new SimulatedClient(_server.Client("127.0.0.41") with { Size = Size }).RunAsync();
        Assert.True(complete.Success, complete.Error);
        var abandoned = await new SimulatedClient(_server.Client("127.0.0.42") with { Size = Size, DieAfterBytes = Size / 4 }).RunAsync();
        Assert.False(abandoned.Success);
        await ServerHarness.WaitForEndAsync(_server.SingleDumpOf("127.0.0.41"));
        await ServerHarness.WaitForEndAsync(_server.SingleDumpOf("127.0.0.42"));
        await _server.WaitForLogAsync("netdump-reboot for 127.0.0.42 exited with code 0");
        await _server.WaitForLogAsync("netdump-reboot for 127.0.0.41 exited with code 0");

        using var response = await _http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
        var metrics = new Exposition(await response.Content.ReadAsStringAsync());

        Assert.Equal(2, metrics.Value("netdump_dumps_started_total"));
        Assert.Equal(1, metrics.Value("netdump_dumps_finished_total", ("status", "complete"), ("reason", "none")));
        Assert.Equal(1, metrics.Value("netdump_dumps_finished_total", ("status", "incomplete"), ("reason", "client_timed_out")));
        Assert.Equal(2, metrics.Sum("netdump_dumps_finished_total"));
        var bytes = metrics.Value("netdump_received_bytes_total");
        Assert.InRange(bytes, Size + Size / 4, (Size + Size / 4) * 1.2); // the data, resent packets counted again
        Assert.True(metrics.Value("netdump_received_packets_total") >= (Size + Size / 4) / 1448);
        Assert.Equal(0, metrics.Value("netdump_dropped_datagrams_total", ("reason", "malformed")));
        Assert.Equal(2, metrics.Value("netdump_script_runs_total", ("script", "netdump-reboot"), ("result", "exit_zero")));
        Assert.Equal(2, metrics.Value("netdump_herald_ack_seconds_count"));
        Assert.Equal(1, metrics.Value("netdump_dump_duration_seconds_count", ("status", "complete")));
        Assert.Equal(1, metrics.Value("netdump_dump_duration_seconds_count", ("status", "incomplete")));
        Assert.Equal(4, metrics.Value("netdump_slots"));
        Assert.Equal(0, metrics.Value("netdump_slots_in_use"));
        Assert.Equal(2, metrics.Value("netdump_catalog_dumps"));
        Assert.Equal(1, metrics.Value("netdump_panic_groups")); // the abandoned dump sent no KDH: no panic, no group
        Assert.True(metrics.Value("netdump_free_space_bytes") > 0);
        Assert.All(metrics.Names, name => Assert.True(name.StartsWith("netdump_", StringComparison.Ordinal), name));
    }

    [Fact]
    public async Task A_refused_unknown_client_and_a_bad_herald_are_counted()
    {
        // secure mode with the default allow list (loopback): a client outside it is refused
        await using var secure = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0", ["allow"] = "127.0.0.1/32" });
        using var http = new HttpClient { BaseAddress = new Uri(secure.HttpUrl!) };
        using var socket = RawClient.Bind("127.0.0.43");
        socket.SendTo(RawClient.Message(Netdump.Actors.Protocol.MessageType.Herald, 1, 0, []), secure.Endpoint);
        socket.SendTo(new byte[7], secure.Endpoint);
        await secure.WaitForLogAsync("Refusing dump from unknown client 127.0.0.43");
        await secure.WaitForLogAsync("Dropped a datagram from 127.0.0.43");

        var metrics = new Exposition(await http.GetStringAsync("/metrics"));

        Assert.Equal(1, metrics.Value("netdump_refused_clients_total", ("reason", "not_allowed")));
        Assert.Equal(1, metrics.Value("netdump_dropped_datagrams_total", ("reason", "listen_port")));
        Assert.Equal(0, metrics.Value("netdump_dumps_started_total"));
    }
}
