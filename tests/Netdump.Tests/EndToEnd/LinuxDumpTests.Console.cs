using System.Net;
using System.Net.Sockets;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>Linux clients (SPEC §7): the console log: the client console file across boots, the crash a dump is named by, replayed and restarted consoles.</summary>
public sealed partial class LinuxDumpTests
{
    [Fact]
    public async Task A_client_that_boots_again_mid_dump_leaves_its_dump_named_by_its_crash_and_its_new_boot_in_its_console_file()
    {
        var server = await Start(new() { ["session_timeout"] = "3s" });
        var started = Path.Combine(server.DumpDir, "started.log");
        OperatorBehaviourTests.Script(server, "netdump-start", $"echo \"$1\" >> {started}");
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.18") with
        {
            Memory = 2 << 20,
            DieAfterPages = 100,
            StartupLine = false, // its console began before the server listened
            Console = ["Oops: 0002 [#1] C", "Pid: 1, comm: x Not tainted 2.6.9-3.EL", "Kernel panic - not syncing: C"],
        });
        var running = FirstPageRequested(client);
        var run = client.RunAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        var dir = server.SingleDumpOf("127.0.9.18");
        Assert.Equal(LinuxClientEnd.Died, (await run).End);

        // a watchdog resets it within session_timeout: its new boot's console starts over
        using var console = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        console.Bind(new IPEndPoint(IPAddress.Parse("127.0.9.18"), 6664));
        var startup = System.Text.Encoding.ASCII.GetBytes(Netdump.Actors.Storage.ConsoleLog.StartupLine + "\n");
        Reply(console, server.LinuxEndpoint!, 4, 0, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Log, 0, startup);
        var booted = System.Text.Encoding.ASCII.GetBytes("Linux version 2.6.9-3.EL booted again\n");
        Reply(console, server.LinuxEndpoint!, 4, 0, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Log, (uint)startup.Length, booted);

        var json = await ServerHarness.WaitForEndAsync(dir, TimeSpan.FromSeconds(15));
        Assert.Equal("client timed out", json.GetProperty("reason").GetString());
        Assert.Equal("Kernel panic - not syncing: C", json.GetProperty("panic_string").GetString());
        Assert.DoesNotContain("booted again", File.ReadAllText(Path.Combine(dir, "log")));
        var consoleFile = Path.Combine(server.DumpDir, ".console", "127.0.9.18.log");
        await WaitFor(() => File.Exists(consoleFile) && File.ReadAllText(consoleFile).Contains("booted again"));
        // no netdump-start for an address whose dump runs: anyone can send that line (the dump
        // ended 3 s after it; the script would have run at once)
        Assert.False(File.Exists(started));
    }

    [Theory]
    [InlineData(false)] // the same REPLY_LOG again and again
    [InlineData(true)] // a new line each time
    public async Task Console_text_every_second_from_a_dead_clients_address_does_not_keep_its_dump_receiving(bool newLines)
    {
        // console text is matched by address only (netconsole sends it from port 6664, not the
        // START's), and anyone can send it: one REPLY_LOG of the dump's own text, sent again every
        // second, once kept a dead client's dump "receiving", and its slot, for ever. During the
        // pull only answers to its requests are a sign of life, new text or not
        var server = await Start(new() { ["session_timeout"] = "3s" });
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.15") with { Memory = 2 << 20, DieAfterPages = 100 });
        var consoleBytes = new TaskCompletionSource<uint>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Progress = line =>
        {
            if (line.StartsWith("console: ", StringComparison.Ordinal))
            {
                consoleBytes.TrySetResult(uint.Parse(line.Split(' ')[1]));
            }
            else if (line.StartsWith("memory: first page requested", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        var run = client.RunAsync();
        await running.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var dir = server.SingleDumpOf("127.0.9.15");

        using var console = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        console.Bind(new IPEndPoint(IPAddress.Parse("127.0.9.15"), 6664));
        var offset = await consoleBytes.Task; // right after the client's console text: the dump's own
        using var stop = new CancellationTokenSource();
        var replaying = Task.Run(async () =>
        {
            using var everySecond = new PeriodicTimer(TimeSpan.FromSeconds(1));
            var line = 0;
            do
            {
                var text = System.Text.Encoding.ASCII.GetBytes($"netdump: line {line}\n");
                Reply(console, server.LinuxEndpoint!, 4, 0, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Log, offset, text);
                if (newLines)
                {
                    offset += (uint)text.Length;
                    line++;
                }
            }
            while (await everySecond.WaitForNextTickAsync(stop.Token));
        });

        Assert.Equal(LinuxClientEnd.Died, (await run).End);
        var json = await ServerHarness.WaitForEndAsync(dir, TimeSpan.FromSeconds(15));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replaying);

        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("client timed out", json.GetProperty("reason").GetString());
        Assert.Contains("netdump: line 0\n", File.ReadAllText(Path.Combine(dir, "log"))); // the dump's own text, in its log
    }

    [Fact]
    public async Task The_console_startup_line_runs_netdump_start_once_a_minute_at_most_and_console_text_lands_in_the_client_console_file()
    {
        var server = await Start();
        var log = Path.Combine(server.DumpDir, "start.log");
        OperatorBehaviourTests.Script(server, "netdump-start", $"echo \"$1\" >> {log}");

        // two boots in a row: one netdump-start
        for (var i = 0; i < 2; i++)
        {
            Assert.True((await new LinuxSimulatedClient(Client(server, "127.0.9.6") with { Memory = 64 << 10, Seed = i }).RunAsync()).Success);
        }

        await server.WaitForLogAsync("Client 127.0.9.6: its netdump module started");
        await WaitFor(() => File.Exists(log));
        Assert.Equal(["127.0.9.6"], File.ReadAllLines(log));
        // the console file is written off the port's thread, soon after
        var console = Path.Combine(server.DumpDir, ".console", "127.0.9.6.log");
        await WaitFor(() => File.Exists(console) && File.ReadAllText(console).Contains("[...network console startup...]"));
        // the text before the panic is in each dump's log too
        Assert.All(server.DumpsOf("127.0.9.6"), dir => Assert.Contains("Kernel panic - not syncing", File.ReadAllText(Path.Combine(dir, "log"))));
    }

    [Fact]
    public async Task A_dump_after_a_reboot_names_its_own_oops_and_kernel_not_the_previous_boots_panic()
    {
        var server = await Start();
        var earlier = new LinuxSimulatedClient(Client(server, "127.0.9.15") with
        {
            Memory = 64 << 10,
            Console = ["Oops: 0002 [#1] A", "Pid: 1, comm: x Not tainted 2.6.9-1.EL", "Kernel panic - not syncing: A"],
        });
        Assert.True((await earlier.RunAsync()).Success);
        var first = server.SingleDumpOf("127.0.9.15");
        await ServerHarness.WaitForEndAsync(first);

        // the client booted again (its startup line) and oopsed; RHEL4's die() calls netdump
        // with no panic line: the console file the dump's log starts with holds both boots
        var current = new LinuxSimulatedClient(Client(server, "127.0.9.15") with
        {
            Memory = 64 << 10,
            Seed = 2,
            Console = ["Oops: 0002 [#1] B", "Pid: 1, comm: x Not tainted 2.6.9-2.EL"],
        });
        Assert.True((await current.RunAsync()).Success);

        var dir = Assert.Single(server.DumpsOf("127.0.9.15"), d => d != first);
        var json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Contains("Kernel panic - not syncing: A", File.ReadAllText(Path.Combine(dir, "log")));
        Assert.Equal("Oops: 0002 [#1] B", json.GetProperty("panic_string").GetString());
        Assert.Equal("2.6.9-2.EL", json.GetProperty("kernel_version").GetString());
    }
}
