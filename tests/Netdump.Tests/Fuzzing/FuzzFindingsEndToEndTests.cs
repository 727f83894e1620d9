using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Fuzzing;

/// <summary>What the live fuzzing found that needs the whole server to show, cut down to one dump.</summary>
public sealed class FuzzFindingsEndToEndTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["secure"] = false });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>
    /// The KDH's hostname and panic string come from the client. The info file writes them on
    /// one line each; the log must not take them raw either, or a client writes whole log lines
    /// of its own (a fuzzed KDH put "Dump complete" on a log line by itself) and terminal escapes.
    /// </summary>
    [Fact]
    public async Task A_kernel_dump_header_cannot_forge_log_lines()
    {
        var client = new SimulatedClient(_server.Client("127.0.0.42") with
        {
            Size = 4096,
            Hostname = "web7\u001b[2J\r\nDump complete",
            Panic = "panic\n[Information] Client 127.0.0.1: dump complete",
        });

        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error);
        await _server.WaitForLogAsync("Client 127.0.0.42: dump complete");
        var forged = _server.LogLines.Where(l => l.Any(char.IsControl)).ToList();
        Assert.True(forged.Count == 0, $"log lines with control characters from the client:\n{string.Join("\n", forged)}");
    }
}
