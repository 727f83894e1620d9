using System.Net;
using System.Net.Sockets;
using Netdump.App.Daemon;
using Netdump.App.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// The real executable, started as an operator would start it, on loopback with port 0: the
/// pidfile, SIGTERM, and <c>--daemon</c> reporting readiness or the reason it could not start.
/// </summary>
public sealed class DaemonProcessTests : IDisposable
{
    private const int SIGINT = 2;
    private const int SIGTERM = 15;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new();
    private readonly List<ServerProcess> _started = [];
    private readonly List<int> _daemons = [];

    public DaemonProcessTests()
    {
        File.WriteAllText(ConfigPath, "");
    }

    private string PidPath => _dir.Combine("nd.pid");

    private string ConfigPath => _dir.Combine("netdump.conf");

    [Theory]
    [InlineData(SIGTERM)]
    [InlineData(SIGINT)]
    public async Task Daemon_foreground_server_should_hold_the_pidfile_and_exit_0_on_SIGTERM_or_SIGINT(int signal)
    {
        var server = Start();
        await server.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        Assert.Equal($"{server.Process.Id}\n", File.ReadAllText(PidPath));

        if (signal == SIGINT && IgnoredHere(SIGINT))
        {
            // this test run was started in the background (`cmd &` in a script), which ignores
            // SIGINT for it and every process it starts, the server included: a Unix program
            // keeps an ignored SIGINT ignored (as under nohup), so only SIGTERM can stop it here
            signal = SIGTERM;
        }

        Assert.Equal(0, Posix.Kill(server.Process.Id, signal));
        var exitCode = await server.WaitForExitAsync(StopTimeout);

        Assert.Equal(0, exitCode);
        Assert.False(File.Exists(PidPath), "the pidfile is removed at exit");
    }

    /// <summary>Whether this process ignores <paramref name="signal"/> (SigIgn in /proc/self/status), as its children then do.</summary>
    private static bool IgnoredHere(int signal)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        var mask = Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
        return (mask & (1UL << (signal - 1))) != 0;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Daemon_foreground_server_should_reopen_its_log_file_on_SIGHUP_and_go_on_serving(bool hangupIgnoredAtStart)
    {
        // issue 13: SIGHUP ended the server on the spot (status 129, pidfile left behind); and a
        // server started under nohup inherited SIGHUP ignored, so logrotate's HUP did nothing.
        // Both ways set explicitly: this test run may itself have been started under nohup.
        var logFile = _dir.Combine("netdump.log");
        var rotated = _dir.Combine("netdump.log.1");
        File.WriteAllText(ConfigPath, $"log_file = \"{logFile}\"\n");
        var port = FreeUdpPort();
        var server = Start([hangupIgnoredAtStart ? "--ignore-signal=HUP" : "--default-signal=HUP"], "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await server.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        File.Move(logFile, rotated); // what logrotate does before its postrotate kill -HUP
        Assert.Equal(0, Posix.Kill(server.Process.Id, Posix.SIGHUP));
        await Waiting.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains($"SIGHUP: reopened log file {logFile}", StringComparison.Ordinal),
            StopTimeout, "the server logs to a new log file");

        var client = new SimulatedClient(new SimulationOptions { Server = new IPEndPoint(IPAddress.Loopback, port), Source = IPAddress.Parse("127.0.0.82"), Size = 100_000 });
        var result = await client.RunAsync().WaitAsync(StopTimeout);
        Assert.True(result.Success, result.Error);
        Assert.Contains("Listening for netdump HERALDs", File.ReadAllText(rotated), StringComparison.Ordinal);

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(StopTimeout));
        Assert.False(File.Exists(PidPath), "the pidfile is removed at exit");
    }

    [Fact]
    public async Task Daemon_should_reopen_its_log_file_on_SIGHUP()
    {
        var logFile = _dir.Combine("netdump.log");
        File.WriteAllText(ConfigPath, $"log_file = \"{logFile}\"\n");
        var launcher = Start("--daemon");
        Assert.Equal(0, await launcher.WaitForExitAsync(StartTimeout));
        var daemon = Assert.IsType<int>(PidFile.Read(PidPath).Pid);
        _daemons.Add(daemon);

        File.Move(logFile, _dir.Combine("netdump.log.1"));
        Assert.Equal(0, Posix.Kill(daemon, Posix.SIGHUP));
        await Waiting.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("SIGHUP: reopened log file", StringComparison.Ordinal),
            StopTimeout, "the daemon logs to a new log file");
        Assert.True(IsRunning(daemon), "the daemon runs on after SIGHUP");

        Assert.Equal(0, Posix.Kill(daemon, SIGTERM));
        await Waiting.Until(() => !IsRunning(daemon), StopTimeout, "the daemon exits on SIGTERM");
        Assert.False(File.Exists(PidPath), "the pidfile is removed at exit");
    }

    [Fact]
    public async Task Daemon_server_should_take_over_a_pidfile_naming_a_live_process_that_is_no_server()
    {
        // issue 13: a server killed outright leaves its pidfile, and its pid may since belong
        // to another program (here: this test run)
        File.WriteAllText(PidPath, $"{Environment.ProcessId}\n");

        var server = Start();
        await server.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        Assert.Equal($"{server.Process.Id}\n", File.ReadAllText(PidPath));
        Assert.Contains(server.StdoutLines, l => l.Contains($"named process {Environment.ProcessId}, which holds no netdump-server lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Daemon_launcher_should_exit_0_once_a_detached_daemon_listens()
    {
        var logFile = _dir.Combine("netdump.log");
        File.WriteAllText(ConfigPath, $"log_file = \"{logFile}\"\n");
        var launcher = Start("--daemon");
        var exitCode = await launcher.WaitForExitAsync(StartTimeout);

        Assert.True(exitCode == 0, $"launcher exit {exitCode}, stderr: {launcher.Stderr}");
        Assert.Equal("", launcher.Stderr);
        var daemon = Assert.IsType<int>(PidFile.Read(PidPath).Pid);
        _daemons.Add(daemon);
        Assert.NotEqual(launcher.Process.Id, daemon);
        Assert.True(IsRunning(daemon), "the daemon runs on after the launcher exits");

        var stat = Stat(daemon);
        Assert.Equal(daemon, stat.Session);
        Assert.Equal(0, stat.Terminal);
        // Akka's log reaches Serilog asynchronously: the line may trail the READY by a moment.
        await Waiting.Until(() => File.ReadAllText(logFile).Contains("Listening for netdump HERALDs", StringComparison.Ordinal), StopTimeout, "the daemon logs to log_file");

        Assert.Equal(0, Posix.Kill(daemon, SIGTERM));
        await Waiting.Until(() => !IsRunning(daemon), StopTimeout, "the daemon exits on SIGTERM");
        Assert.False(File.Exists(PidPath), "the pidfile is removed at exit");
    }

    [Fact]
    public async Task Daemon_launcher_should_fail_with_one_line_when_the_port_is_in_use()
    {
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port;

        var launcher = Start("--daemon", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var exitCode = await launcher.WaitForExitAsync(StartTimeout);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(launcher.StderrLines);
        Assert.StartsWith("netdump-server: ", line);
        Assert.Contains("in use", line);
        Assert.False(File.Exists(PidPath), "a daemon that failed to start leaves no pidfile");
    }

    [Fact]
    public async Task Daemon_launcher_should_say_the_daemon_was_stopped_when_a_SIGTERM_ends_its_start_up_scan()
    {
        var logFile = _dir.Combine("netdump.log");
        File.WriteAllText(ConfigPath, $"log_file = \"{logFile}\"\n");
        KilledRunDumps.Make(_dir.Combine("crash"), 2_000); // seconds of start-up scan

        var launcher = Start("--daemon");
        await Waiting.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("Start-up scan of", StringComparison.Ordinal),
            StartTimeout, "the daemon's start-up scan begins");
        var daemon = Assert.IsType<int>(PidFile.Read(PidPath).Pid);
        _daemons.Add(daemon);
        Assert.Equal(0, Posix.Kill(daemon, SIGTERM));
        var exitCode = await launcher.WaitForExitAsync(StartTimeout);

        // before, the launcher said "the daemon exited with status 0 before it was listening"
        Assert.NotEqual(0, exitCode);
        Assert.Equal($"netdump-server: {Netdump.App.CommandLine.ServerCommand.StoppedWhileStarting}", Assert.Single(launcher.StderrLines));
        await Waiting.Until(() => !IsRunning(daemon), StopTimeout, "the daemon exits");
        Assert.Contains("Stopped while starting", File.ReadAllText(logFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_second_server_should_refuse_a_pidfile_held_by_the_first()
    {
        var first = Start();
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        var second = Start();
        var exitCode = await second.WaitForExitAsync(StartTimeout);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(second.StderrLines);
        Assert.Contains($"is held by running process {first.Process.Id}", line);
        Assert.Equal($"{first.Process.Id}\n", File.ReadAllText(PidPath));
        Assert.False(first.Process.HasExited, "the first server runs on");
    }

    [Fact]
    public async Task Daemon_launcher_should_print_the_daemons_reason_when_it_cannot_start()
    {
        var first = Start();
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        // The pidfile is the daemon's own business: this refusal travels back over the status pipe.
        var launcher = Start("--daemon");
        var exitCode = await launcher.WaitForExitAsync(StartTimeout);

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(launcher.StderrLines);
        Assert.Equal($"netdump-server: pidfile {PidPath} is held by running process {first.Process.Id}", line);
        Assert.Equal($"{first.Process.Id}\n", File.ReadAllText(PidPath));
    }

    public void Dispose()
    {
        foreach (var pid in _daemons.Where(IsRunning))
        {
            _ = Posix.Kill(pid, 9);
        }

        foreach (var server in _started)
        {
            server.Dispose();
        }

        _dir.Dispose();
    }

    private ServerProcess Start(params string[] extra) => Start(signals: [], extra);

    /// <param name="signals">coreutils <c>env</c> options for the server's inherited signal dispositions (<see cref="ServerProcess.Start(IReadOnlyList{string}, string[])"/>)</param>
    private ServerProcess Start(IReadOnlyList<string> signals, params string[] extra)
    {
        var arguments = new List<string>
        {
            "--addr", "127.0.0.1", "--port", "0", "--dumpdir", _dir.Combine("crash"),
            "--config", ConfigPath, "--pidfile", PidPath,
        };
        if (extra.Contains("--port"))
        {
            arguments.RemoveRange(2, 2);
        }

        arguments.AddRange(extra);
        var server = ServerProcess.Start(signals, [.. arguments]);
        _started.Add(server);
        return server;
    }

    /// <summary>A port nobody uses right now: bound and released again.</summary>
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Alive and not a zombie (a daemon's reaper here may be slow or absent).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            return Stat(pid).State != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The fields of /proc/PID/stat this test needs (state, session id, controlling tty).</summary>
    private static (char State, int Session, int Terminal) Stat(int pid)
    {
        var stat = ProcStat.Read($"/proc/{pid}/stat");
        return (stat.Field(3)[0], (int)stat.Number(6), (int)stat.Number(7));
    }
}
