using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// Retention through the real executable: <c>netdump-server prune [--dry-run]</c> and the server's
/// own pass at start, with the keys from a conf file of the test's own.
/// </summary>
public sealed class RetentionProcessTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset LongAgo = DateTimeOffset.UtcNow.AddDays(-100);

    private readonly TempDirectory _temp = new();

    public RetentionProcessTests() => Directory.CreateDirectory(DumpDir);

    private string DumpDir => _temp.Combine("crash");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Prune_dry_run_should_print_what_would_go_and_why_and_remove_nothing()
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo);
        var recent = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", DateTimeOffset.UtcNow.AddMinutes(-10));

        using var run = await ServerProcess.RunAsync(RunTimeout, "prune", "--dry-run", "--dumpdir", DumpDir, "--config", Conf("max_age = 30d\n"));

        Assert.Equal(0, run.Process.ExitCode);
        var line = Assert.Single(run.StdoutLines);
        Assert.StartsWith($"would remove {old} (", line);
        Assert.Contains("): older than max_age 30d (received ", line);
        Assert.True(Directory.Exists(old) && Directory.Exists(recent));
        Assert.False(File.Exists(Path.Combine(DumpDir, RetentionRun.LogFileName)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Prune_with_nothing_to_remove_says_so_in_one_line(bool dryRun)
    {
        var recent = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo.AddDays(1));

        using var run = await ServerProcess.RunAsync(RunTimeout, ["prune", .. dryRun ? new[] { "--dry-run" } : [], "--dumpdir", DumpDir, "--config", Conf("max_age = 3650d\nkeep_per_host = 2\n")]);

        Assert.Equal(0, run.Process.ExitCode);
        Assert.Empty(run.StderrLines);
        Assert.StartsWith("nothing to remove: the retention keys keep every dump (", Assert.Single(run.StdoutLines));
        Assert.True(Directory.Exists(recent));
    }

    [Fact]
    public async Task Prune_should_remove_what_the_keys_no_longer_keep_and_record_it()
    {
        var oldest = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo);
        var older = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo.AddDays(1));
        var newest = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo.AddDays(2));

        using var run = await ServerProcess.RunAsync(RunTimeout, "prune", "--dumpdir", DumpDir, "--config", Conf("keep_per_host = 1\n"));

        Assert.Equal(0, run.Process.ExitCode);
        Assert.Equal(2, run.StdoutLines.Count);
        Assert.StartsWith($"removed {oldest} (", run.StdoutLines[0]);
        Assert.StartsWith($"removed {older} (", run.StdoutLines[1]);
        Assert.False(Directory.Exists(oldest) || Directory.Exists(older));
        Assert.True(Directory.Exists(newest));
        var log = File.ReadAllLines(Path.Combine(DumpDir, RetentionRun.LogFileName));
        Assert.Equal([oldest, older], log.Select(l => l.Split('\t')[1]));
        Assert.All(log, l => Assert.Contains("keep_per_host 1", l));
    }

    [Theory]
    [InlineData("max_age = 30m\n", "max_age: \"30m\" is less than the hour every dump is kept")]
    [InlineData("max_total = 5X\n", "max_total: \"5X\" has an unknown size suffix")]
    [InlineData("keep_per_host = -1\n", "keep_per_host: -1 must be 0 (no limit) or more")]
    public async Task Prune_should_refuse_a_bad_key_in_one_line_and_exit_1(string conf, string message)
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo);

        using var run = await ServerProcess.RunAsync(RunTimeout, "prune", "--dumpdir", DumpDir, "--config", Conf(conf));

        Assert.Equal(1, run.Process.ExitCode);
        var error = Assert.Single(run.StderrLines);
        Assert.StartsWith("netdump-server: ", error);
        Assert.Contains(message, error);
        Assert.True(Directory.Exists(old));
    }

    [Fact]
    public async Task Server_should_remove_an_old_dump_in_its_first_pass_and_log_it()
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "127.0.0.1", LongAgo);
        var port = FreeUdpPort();

        using var server = ServerProcess.Start(
            "--addr", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--dumpdir", DumpDir, "--config", Conf("max_total = 1K\n"));
        await server.WaitForOutputAsync("Retention: removed", RunTimeout);

        Assert.Contains(server.StdoutLines, l => l.Contains(old, StringComparison.Ordinal) && l.Contains("above max_total 1.0 KiB", StringComparison.Ordinal));
        Assert.False(Directory.Exists(old));
        Assert.Equal(old, File.ReadAllLines(Path.Combine(DumpDir, RetentionRun.LogFileName)).Single().Split('\t')[1]);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
    }

    private string Conf(string text)
    {
        var path = _temp.Combine($"netdump-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
