using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// The real executable as an operator runs it, on loopback: <c>--version</c>, <c>--help</c>, every
/// kind of bad start (one line on stderr, status 1), a clean start and SIGTERM (status 0), and the
/// descriptor table it starts with.
/// </summary>
public sealed partial class ServerProcessTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new();

    public ServerProcessTests()
    {
        File.WriteAllText(ConfPath, "");
    }

    private string ConfPath => _dir.Combine("netdump.conf");

    private string DumpDir => _dir.Combine("crash");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Server_version_should_print_the_project_version_and_exit_0()
    {
        using var run = await ServerProcess.RunAsync(RunTimeout, "--version");

        Assert.Equal(0, run.Process.ExitCode);
        Assert.Equal(["0.1.0"], run.StdoutLines);
        Assert.Empty(run.StderrLines);
    }

    [Fact]
    public async Task Server_help_should_list_every_option_and_exit_0()
    {
        using var run = await ServerProcess.RunAsync(RunTimeout, "--help");

        Assert.Equal(0, run.Process.ExitCode);
        foreach (var option in new[] { "--port", "--addr", "--concurrent", "--pidfile", "--daemon", "--secure", "--dumpdir", "--config", "--help", "--version", "simulate" })
        {
            Assert.Contains(option, run.Stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("foo = bar\n", "unknown key \"foo\"")]
    [InlineData("secure = maybe\n", "secure: \"maybe\" is not a boolean")]
    [InlineData("# a comment\nport = -1\n", "netdump.conf:2: port: -1 is out of range 0-65535")]
    [InlineData("allow = 10.0.0.0/99\n", "netdump.conf:1: allow: \"10.0.0.0/99\" is not an IPv4 CIDR prefix")]
    [InlineData("dumpdir = \"/srv/crash\n", "netdump.conf:1: dumpdir: unterminated quote")]
    [InlineData("secure = \"ma\u0000y\u001b[2Jbe\"\n", "secure: \"ma y [2Jbe\" is not a boolean")] // the value quoted without its control characters
    public async Task Server_should_exit_1_with_one_line_for_a_bad_conf_file(string conf, string expected)
    {
        File.WriteAllText(ConfPath, conf);

        // no --port: it would win over the file's
        var line = await FailingStartAsync("--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--port 70000", "--port: 70000 is out of range 0-65535")]
    [InlineData("--port abc", "--port: \"abc\" is not a number")]
    [InlineData("--concurrent 0", "--concurrent: 0 must be at least 1")]
    [InlineData("--addr example.org", "--addr: \"example.org\" is not an IPv4 address")]
    [InlineData("--secure maybe", "--secure: \"maybe\" is not 0 or 1")]
    [InlineData("--bogus", "Unrecognized command or argument '--bogus'")]
    [InlineData("--port", "Required argument missing for option: '--port'")]
    public async Task Server_should_exit_1_with_one_line_for_a_bad_command_line(string args, string expected)
    {
        var line = await FailingStartAsync(["--dumpdir", DumpDir, "--config", ConfPath, .. args.Split(' ')]);

        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_should_exit_1_when_an_explicit_config_file_does_not_exist()
    {
        var missing = _dir.Combine("missing.conf");

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "0", "--dumpdir", DumpDir, "--config", missing);

        Assert.Equal($"netdump-server: config file {missing} does not exist", line);
    }

    [Fact]
    public async Task Server_should_exit_1_when_the_dump_directory_cannot_be_made()
    {
        // a path under a regular file fails even for root, whom mode bits do not stop
        var file = _dir.Combine("file");
        File.WriteAllText(file, "");

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "0", "--dumpdir", Path.Combine(file, "crash"), "--config", ConfPath);

        Assert.Equal($"netdump-server: dumpdir {file}/crash cannot be created: {file} is not a directory", line);
        Assert.False(Directory.Exists(DumpDir));
    }

    [Fact]
    public async Task Server_should_exit_1_with_one_line_for_a_world_writable_dump_directory()
    {
        // issue 13: a root server trusted scripts/ and magic/ planted under a 1777 dumpdir
        Directory.CreateDirectory(DumpDir);
        File.SetUnixFileMode(DumpDir, (UnixFileMode)Convert.ToInt32("1777", 8));

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "0", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.StartsWith($"netdump-server: dumpdir {DumpDir} is not trusted: group or world writable (mode 1777); ", line);
    }

    [Fact]
    public async Task Server_should_exit_1_when_the_log_file_cannot_be_opened()
    {
        var file = _dir.Combine("file");
        File.WriteAllText(file, "");
        File.WriteAllText(ConfPath, $"log_file = {file}/netdump.log\n");

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "0", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.StartsWith($"netdump-server: cannot open log file {file}/netdump.log: ", line);
    }

    [Fact]
    public async Task Server_should_exit_1_when_the_port_is_in_use()
    {
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", port, "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal($"netdump-server: cannot bind 127.0.0.1:{port}: Address already in use", line);
    }

    [Fact]
    public async Task Server_should_exit_0_on_SIGTERM_during_its_start_up_scan_without_waiting_for_its_end()
    {
        // dumps a killed run left receiving: the scan rewrites each one's reports durably (fsyncs
        // of two files and the directory), so 2,000 of them take it seconds whatever the page
        // cache holds, and the signal, sent as soon as the scan begins, comes long before its end
        var dumps = KilledRunDumps.Make(DumpDir, 2_000);

        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--http", "127.0.0.1:0");
        await server.WaitForOutputAsync("Start-up scan of", RunTimeout);
        server.Terminate();
        var exitCode = await server.WaitForExitAsync(RunTimeout);

        Assert.True(exitCode == 0, $"exit {exitCode}; stderr:\n{server.Stderr}");
        Assert.Empty(server.StderrLines);
        // the scan stopped before its end: its closing line never came, nor did anything after it
        Assert.DoesNotContain(server.StdoutLines, l => l.Contains("Start-up scan: ", StringComparison.Ordinal));
        Assert.Contains(server.StdoutLines, l => l.Contains($"Start-up scan of {DumpDir} stopped after ", StringComparison.Ordinal));
        Assert.DoesNotContain(server.StdoutLines, l => l.Contains("Listening for netdump HERALDs", StringComparison.Ordinal));
        Assert.Contains(server.StdoutLines, l => l.Contains("Stopped while starting", StringComparison.Ordinal));

        // and between two dumps: each one it reached is marked whole, the others are as they were
        // (the last ones at least, which it never reached), and no report is left half written
        var statuses = dumps.Select(d => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(d, "dump.json"))).RootElement.GetProperty("status").GetString()).ToList();
        Assert.All(statuses, s => Assert.Contains(s, new[] { "receiving", "incomplete" }));
        Assert.Equal("receiving", statuses[^1]);
        Assert.All(dumps.Where((_, i) => statuses[i] == "incomplete"), d => Assert.True(File.Exists(Path.Combine(d, "info")), d));
        Assert.All(dumps.Where((_, i) => statuses[i] == "receiving"), d => Assert.False(File.Exists(Path.Combine(d, "info")), d));
        Assert.Empty(dumps.SelectMany(d => Directory.GetFiles(d, "*.tmp")));
    }

    [Fact]
    public async Task Server_should_start_with_the_command_line_over_the_conf_file_and_exit_0_on_SIGTERM()
    {
        // the file's port, address and dump directory would not start here; the command line wins
        File.WriteAllText(ConfPath, string.Join("\n",
            "# an old Red Hat file",
            "port = 1",
            "addr = 192.0.2.1",
            $"dumpdir = {_dir.Combine("file-dumpdir")}",
            "max_concurrent_dumps = 2",
            "space_check = 1",
            ""));
        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfPath);

        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);
        server.Terminate();
        var exitCode = await server.WaitForExitAsync(RunTimeout);

        Assert.True(exitCode == 0, $"exit {exitCode}; stderr:\n{server.Stderr}");
        Assert.Empty(server.StderrLines);
        Assert.Contains(server.StdoutLines, l => l.Contains($"{ConfPath}:6: space_check has no meaning for this server and is ignored", StringComparison.Ordinal));
        Assert.Contains(server.StdoutLines, l => l.Contains($"dumps go to {DumpDir}", StringComparison.Ordinal));
        Assert.True(Directory.Exists(DumpDir));
        Assert.False(Directory.Exists(_dir.Combine("file-dumpdir")));
    }

    [Fact]
    public async Task Server_should_refuse_a_bad_conf_value_that_the_command_line_overrides()
    {
        // issue 18: this started, and the broken line surfaced on the next start without --port
        File.WriteAllText(ConfPath, "# netdump.conf\nport = 70000\n");

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "20125", "--dumpdir", DumpDir, "--config", ConfPath);

        Assert.Equal($"netdump-server: {ConfPath}:2: port: 70000 is out of range 0-65535", line);
    }

    [Fact]
    public async Task Server_should_refuse_to_make_more_than_the_last_folder_of_dumpdir()
    {
        var dumpDir = _dir.Combine("typo", "b", "c");

        var line = await FailingStartAsync("--addr", "127.0.0.1", "--port", "0", "--dumpdir", dumpDir, "--config", ConfPath);

        Assert.Equal(
            $"netdump-server: dumpdir {dumpDir} cannot be created: its parent {_dir.Combine("typo", "b")} does not exist (only the last folder of dumpdir is made)",
            line);
        Assert.False(Path.Exists(_dir.Combine("typo")), "nothing was made");
    }

    [Fact]
    public async Task Server_log_should_warn_of_port_0_and_end_with_Stopped_without_the_hosts_boilerplate()
    {
        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfPath);
        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);
        server.Terminate();
        var exitCode = await server.WaitForExitAsync(RunTimeout);

        Assert.True(exitCode == 0, $"exit {exitCode}; stderr:\n{server.Stderr}");
        var listening = server.StdoutLines.Single(l => l.Contains("Listening for netdump HERALDs", StringComparison.Ordinal));
        var port = Regex.Match(listening, @"on 127\.0\.0\.1:(\d+),").Groups[1].Value;
        Assert.Contains(server.StdoutLines, l => l.EndsWith(
            $"[WRN] port = 0: listening on random port {port}, which no FreeBSD client can reach (they send to 20023); set port", StringComparison.Ordinal));
        foreach (var boilerplate in new[] { "Application started", "Hosting environment", "Content root path", "Application is shutting down", "CoordinatedShutdown invoked" })
        {
            Assert.DoesNotContain(server.StdoutLines, l => l.Contains(boilerplate, StringComparison.Ordinal));
        }

        Assert.EndsWith("[INF] Stopping: no new dumps; dumps in flight get up to 20 s to close", server.StdoutLines[^2]);
        Assert.EndsWith("[INF] Stopped", server.StdoutLines[^1]);
    }

    /// <summary>Runs the server, expects status 1, and returns its one line of stderr.</summary>
    private static async Task<string> FailingStartAsync(params string[] args)
    {
        using var run = await ServerProcess.RunAsync(RunTimeout, args);

        Assert.True(run.Process.ExitCode == 1, $"exit {run.Process.ExitCode}; stdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("netdump-server: ", line);
        return line;
    }
}
