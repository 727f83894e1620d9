using Netdump.Tests.Native;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// The real server's descriptor table, grown at start to what a storm at its concurrency limit
/// may hold (docs/operations.md, "Open files"), under an open files limit set for the test
/// (<c>prlimit</c>): a fresh process each, so nothing another test grew can stand in for it.
/// </summary>
public sealed class DescriptorTableProcessTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new();

    public DescriptorTableProcessTests()
    {
        File.WriteAllText(ConfPath, "");
    }

    private string ConfPath => _dir.Combine("netdump.conf");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_server_starts_with_room_for_a_storm_at_its_concurrency_limit()
    {
        // 512 + 4 x 1000: a fresh server holds about 250 descriptors, in a table of 256
        using var server = Start(openFiles: 8192, concurrent: 1000);

        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);

        Assert.True(DescriptorTableTests.TableSize(server.Process.Id) >= 4512, $"FDSize {DescriptorTableTests.TableSize(server.Process.Id)}");
        Assert.DoesNotContain(server.StdoutLines, l => l.Contains("open files limit", StringComparison.Ordinal));
        await StopAsync(server);
    }

    [Fact]
    public async Task A_server_whose_open_files_limit_is_below_that_says_so_and_takes_what_it_may()
    {
        using var server = Start(openFiles: 600, concurrent: 100);

        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);

        Assert.Contains(server.StdoutLines, l => l.Contains(
            "[WRN] The open files limit allows 600 descriptors; a storm of max_concurrent_dumps = 100 dumps may need 912 (raise the limit: ulimit -n, or LimitNOFILE= under systemd)",
            StringComparison.Ordinal));
        Assert.True(DescriptorTableTests.TableSize(server.Process.Id) >= 600, $"FDSize {DescriptorTableTests.TableSize(server.Process.Id)}");
        await StopAsync(server);
    }

    private ServerProcess Start(int openFiles, int concurrent) =>
        ServerProcess.StartUnder(["prlimit", $"--nofile={openFiles}:{openFiles}"],
            "--port", "0", "--addr", "127.0.0.1", "--dumpdir", _dir.Combine("crash"), "--config", ConfPath, "--concurrent", $"{concurrent}");

    private static async Task StopAsync(ServerProcess server)
    {
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
    }
}
