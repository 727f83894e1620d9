using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Netdump.Actors;
using Netdump.Actors.Storage;
using Netdump.App.Daemon;
using Netdump.App.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// Issue 13: two real servers on one dump directory. The second is refused before its start-up
/// recovery scan could take the first one's live dump for a killed run's leftovers; a daemon
/// holds the lock as well as a foreground server.
/// </summary>
public sealed class DumpDirectoryLockProcessTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.81");

    private readonly TempDirectory _temp = new();
    private readonly List<ServerProcess> _started = [];
    private readonly List<int> _daemons = [];

    public DumpDirectoryLockProcessTests()
    {
        File.WriteAllText(ConfigPath, "");
    }

    private string DumpDir => _temp.Combine("crash");

    private string ConfigPath => _temp.Combine("netdump.conf");

    [Fact]
    public async Task A_second_server_on_the_same_dump_directory_is_refused_and_leaves_the_live_dump_alone()
    {
        var port = FreeUdpPort();
        var first = Start("--port", Text(port));
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        var client = new SimulatedClient(new SimulationOptions
        {
            Server = new IPEndPoint(IPAddress.Loopback, port),
            Source = ClientAddress,
            Size = 8 * MiB,
            DieAfterBytes = MiB,
        });
        await client.RunAsync().WaitAsync(StartTimeout);
        var dump = Assert.Single(Directory.GetDirectories(DumpDir, $"{ClientAddress}-*"));
        var reserve = Path.Combine(dump, DumpReport.ReservedName(DumpReport.JsonFileName));
        // made at the dump's first flush tick, a second after its HERALD's ack
        await Waiting.Until(() => File.Exists(reserve), StartTimeout, "the live dump has room for its final report");

        var second = Start("--port", "0");
        var exitCode = await second.WaitForExitAsync(StartTimeout);

        Assert.Equal(1, exitCode);
        Assert.Equal(
            $"netdump-server: dumpdir {DumpDir} is in use by another netdump-server (pid {first.Process.Id}); one dump directory takes one server",
            Assert.Single(second.StderrLines));
        Assert.DoesNotContain(second.StdoutLines, l => l.Contains("Recovered dump", StringComparison.Ordinal));
        Assert.True(File.Exists(reserve), "the live dump keeps its room");
        Assert.True(File.Exists(Path.Combine(dump, CoreFileNames.Incomplete)));
        var json = Path.Combine(dump, DumpReport.JsonFileName);
        if (File.Exists(json))
        {
            using var report = JsonDocument.Parse(File.ReadAllBytes(json));
            Assert.Equal("receiving", report.RootElement.GetProperty("status").GetString());
        }

        Assert.False(first.Process.HasExited, "the first server runs on");
    }

    [Fact]
    public async Task A_daemon_holds_its_dump_directory_after_its_launcher_exits()
    {
        var pidPath = _temp.Combine("nd.pid");

        // a daemon needs somewhere to log, and this machine may have no /dev/log
        File.WriteAllText(ConfigPath, $"log_file = \"{_temp.Combine("netdump.log")}\"\n");
        var launcher = Start("--port", "0", "--daemon", "--pidfile", pidPath);
        var launched = await launcher.WaitForExitAsync(StartTimeout);
        Assert.True(launched == 0, $"launcher exit {launched}: {launcher.Stderr}");
        var daemon = Assert.IsType<int>(PidFile.Read(pidPath).Pid);
        _daemons.Add(daemon);

        var second = Start("--port", "0");
        var exitCode = await second.WaitForExitAsync(StartTimeout);

        Assert.Equal(1, exitCode);
        Assert.Equal(
            $"netdump-server: dumpdir {DumpDir} is in use by another netdump-server (pid {daemon}); one dump directory takes one server",
            Assert.Single(second.StderrLines));
    }

    [Fact]
    public async Task The_dump_directory_is_free_again_once_its_server_stopped()
    {
        var first = Start("--port", "0");
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        first.Terminate();
        Assert.Equal(0, await first.WaitForExitAsync(StartTimeout));

        var second = Start("--port", "0");

        await second.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
    }

    public void Dispose()
    {
        foreach (var pid in _daemons)
        {
            _ = Posix.Kill(pid, 9);
        }

        foreach (var server in _started)
        {
            server.Dispose();
        }

        _temp.Dispose();
    }

    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);

    /// <summary>A port nobody uses right now: bound and released again.</summary>
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private ServerProcess Start(params string[] extra)
    {
        var server = ServerProcess.Start(["--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfigPath, .. extra]);
        _started.Add(server);
        return server;
    }
}
