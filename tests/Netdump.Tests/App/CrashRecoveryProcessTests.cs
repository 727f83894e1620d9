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
/// The real executable killed with SIGKILL in the middle of a dump, then started again on the
/// same dump directory: the start-up scan marks the dump it left receiving, without losing a
/// received byte, and the server takes new dumps as before. Loopback only.
/// </summary>
public sealed class CrashRecoveryProcessTests : IDisposable
{
    private const int MiB = 1024 * 1024;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DumpTimeout = TimeSpan.FromSeconds(60);
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.80");

    private readonly TempDirectory _temp = new();
    private readonly List<ServerProcess> _started = [];

    private string DumpDir => _temp.Combine("crash");

    [Fact]
    public async Task CrashRecovery_should_mark_the_dump_a_killed_server_left_receiving_and_take_new_dumps()
    {
        var port = FreeUdpPort();

        var first = Start(port);
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        var dying = new SimulatedClient(Options(port) with { DieAfterBytes = 2 * MiB });
        await dying.RunAsync().WaitAsync(DumpTimeout);

        var dir = Assert.Single(DumpDirectories());
        var core = Path.Combine(dir, CoreFileNames.Incomplete);
        // the first flush tick (flush_interval, 1 s) writes the "receiving" report
        var deadline = DateTime.UtcNow + DumpTimeout;
        while (!File.Exists(Path.Combine(dir, "dump.json")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        first.Process.Kill(); // SIGKILL: no shutdown, no final reports
        Assert.True(first.Process.WaitForExit(10_000), "the killed server exits");

        Assert.Equal("receiving", Status(dir).GetProperty("status").GetString());
        var received = File.ReadAllBytes(core);
        Assert.Equal(2 * MiB, received.Length);
        Assert.True(dying.Core.Span[..received.Length].SequenceEqual(received), "the core holds the acked bytes");

        var second = Start(port);
        await second.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        var recovered = Status(dir);
        Assert.Equal("incomplete", recovered.GetProperty("status").GetString());
        Assert.StartsWith($"{RecoveryScan.Reason}; vmcore-incomplete is {received.Length} bytes long, but which of its ranges arrived is unknown", recovered.GetProperty("reason").GetString());
        Assert.True(recovered.GetProperty("recovered").GetBoolean());
        Assert.Equal((ulong)received.Length, recovered.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(received, File.ReadAllBytes(core));
        Assert.Contains(second.StdoutLines, l => l.Contains("Recovered dump", StringComparison.Ordinal) && l.Contains(dir, StringComparison.Ordinal));

        var client = new SimulatedClient(Options(port));
        var result = await client.RunAsync().WaitAsync(DumpTimeout);

        Assert.True(result.Success, $"the new dump completes: {result.Error}");
        var fresh = Assert.Single(DumpDirectories(), d => d != dir);
        var report = Status(fresh);
        Assert.Equal("complete", report.GetProperty("status").GetString());
        Assert.False(report.GetProperty("recovered").GetBoolean());
        Assert.Equal(client.Core.ToArray(), File.ReadAllBytes(Path.Combine(fresh, report.GetProperty("vmcore").GetString()!)));
        Assert.Equal("incomplete", Status(dir).GetProperty("status").GetString());
    }

    /// <summary>
    /// Killed in a dump's first moments, before the first background flush wrote any report:
    /// the directory holds only the core and the reports' reserved files, and the next start
    /// still marks it.
    /// </summary>
    [Fact]
    public async Task CrashRecovery_should_mark_a_dump_killed_before_its_first_report()
    {
        var port = FreeUdpPort();

        var first = Start(port, "flush_interval = 600\n");
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        var dying = new SimulatedClient(Options(port) with { DieAfterBytes = MiB });
        await dying.RunAsync().WaitAsync(DumpTimeout);

        var dir = Assert.Single(DumpDirectories());
        first.Process.Kill();
        Assert.True(first.Process.WaitForExit(10_000), "the killed server exits");
        Assert.False(File.Exists(Path.Combine(dir, "dump.json")), "no report before the first flush");
        // nor the reports' files: the core alone says that a dump was arriving
        Assert.False(File.Exists(Path.Combine(dir, DumpReport.ReservedName(DumpReport.JsonFileName))));
        var received = File.ReadAllBytes(Path.Combine(dir, CoreFileNames.Incomplete));
        Assert.Equal(MiB, received.Length);

        var second = Start(port);
        await second.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        var recovered = Status(dir);
        Assert.Equal("incomplete", recovered.GetProperty("status").GetString());
        Assert.True(recovered.GetProperty("recovered").GetBoolean());
        Assert.Equal((ulong)MiB, recovered.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(received, File.ReadAllBytes(Path.Combine(dir, CoreFileNames.Incomplete)));
        Assert.False(File.Exists(Path.Combine(dir, DumpReport.ReservedName(DumpReport.JsonFileName))), "the reserve is removed");
    }

    /// <summary>
    /// Issue 13: HERALD paths into the server's own folders, deep down, and into a dump's
    /// directory, then SIGKILL. Each dump either went to dumpdir (the path refused, the reason
    /// logged) or where the scan finds it: after the restart none is left receiving.
    /// </summary>
    [Fact]
    public async Task CrashRecovery_should_find_every_dump_whatever_herald_path_its_client_chose()
    {
        var port = FreeUdpPort();
        var deep = string.Join('/', Enumerable.Range(1, 9).Select(i => $"l{i}"));
        Directory.CreateDirectory(Path.Combine(DumpDir, deep));
        foreach (var folder in new[] { "scripts", "magic", "lost+found", ".hidden" })
        {
            Directory.CreateDirectory(Path.Combine(DumpDir, folder));
        }

        var first = Start(port, "max_concurrent_dumps = 16\n");
        await first.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        var finished = new SimulatedClient(Options(port) with { Size = 64 * 1024 });
        Assert.True((await finished.RunAsync().WaitAsync(DumpTimeout)).Success);
        var done = Path.GetFileName(Assert.Single(DumpDirectories()));
        Directory.CreateDirectory(Path.Combine(DumpDir, done, "sub"));

        var paths = new[] { "scripts", "magic", "lost+found", ".hidden", deep, done, $"{done}/sub" };
        for (var i = 0; i < paths.Length; i++)
        {
            var dying = new SimulatedClient(Options(port) with
            {
                Source = IPAddress.Parse($"127.0.0.{90 + i}"),
                Path = paths[i],
                DieAfterBytes = 256 * 1024,
            });
            await dying.RunAsync().WaitAsync(DumpTimeout); // its data was acked: its dump exists
        }

        first.Process.Kill(); // SIGKILL
        Assert.True(first.Process.WaitForExit(10_000), "the killed server exits");
        foreach (var reason in new[] { "which is the server's own", "leads into the dump directory" })
        {
            Assert.Contains(first.StdoutLines, l => l.Contains(reason, StringComparison.Ordinal));
        }

        var second = Start(port);
        await second.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);

        var cores = Directory.GetFiles(DumpDir, CoreFileNames.Incomplete, SearchOption.AllDirectories);
        Assert.Equal(paths.Length, cores.Length);
        foreach (var core in cores)
        {
            var dir = Path.GetDirectoryName(core)!;
            var json = Status(dir);
            Assert.True(json.GetProperty("status").GetString() == "incomplete", $"{dir} is {json.GetProperty("status")}");
            Assert.True(json.GetProperty("recovered").GetBoolean());
        }

        // only the deep path was allowed; every other dump went to dumpdir itself
        Assert.Single(cores, c => c.StartsWith(Path.Combine(DumpDir, deep) + "/", StringComparison.Ordinal));
        Assert.Equal(paths.Length - 1, cores.Count(c => Path.GetDirectoryName(Path.GetDirectoryName(c)) == DumpDir));
        Assert.Equal("complete", Status(Path.Combine(DumpDir, done)).GetProperty("status").GetString());
    }

    public void Dispose()
    {
        foreach (var server in _started)
        {
            server.Dispose();
        }

        _temp.Dispose();
    }

    private static SimulationOptions Options(int port) => new()
    {
        Server = new IPEndPoint(IPAddress.Loopback, port),
        Source = ClientAddress,
        Size = 8 * MiB,
    };

    /// <summary>A port nobody uses right now: bound and released again.</summary>
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private IEnumerable<string> DumpDirectories() =>
        Directory.EnumerateDirectories(DumpDir, $"{ClientAddress}-*").Order(StringComparer.Ordinal);

    private static JsonElement Status(string dir)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, DumpReport.JsonFileName)));
        return json.RootElement.Clone();
    }

    private ServerProcess Start(int port, string config = "")
    {
        // a file of its own, so that no /etc/netdump.conf on this machine changes the test
        var path = _temp.Combine($"netdump-{_started.Count}.conf");
        File.WriteAllText(path, config);
        var server = ServerProcess.Start(
            "--addr", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--dumpdir", DumpDir, "--config", path);
        _started.Add(server);
        return server;
    }
}
