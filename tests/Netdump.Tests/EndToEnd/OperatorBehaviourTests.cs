using Netdump.App.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// The operator's surface over real loopback dumps: the concurrency limit, secure mode, the
/// four scripts, disk space, session ports and a clean shutdown.
/// </summary>
public sealed class OperatorBehaviourTests(Xunit.Abstractions.ITestOutputHelper output) : ServerTests
{
    /// <summary>0700 for the folders tests make: under a umask of 002 the default would be group writable, and ignored.</summary>
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    protected override Dictionary<string, object?> Defaults() => new() { ["secure"] = false };

    internal static void Script(ServerHarness server, string name, string body)
    {
        var dir = Path.Combine(server.DumpDir, "scripts");
        Directory.CreateDirectory(dir, Private);
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, Private);
    }

    private static async Task<string> WaitForFile(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{path} never appeared");
            }

            await Task.Delay(20);
        }

        await Task.Delay(50); // let the script finish its write
        return File.ReadAllText(path);
    }

    [Fact]
    public async Task A_client_beyond_max_concurrent_dumps_is_ignored_and_logged_once_then_served_when_a_slot_frees()
    {
        var server = await Start(new() { ["max_concurrent_dumps"] = 2, ["session_timeout"] = "2s" });
        var holders = await Task.WhenAll(
            new SimulatedClient(server.Client("127.0.0.31") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync(),
            new SimulatedClient(server.Client("127.0.0.32") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync());
        Assert.All(holders, r => Assert.False(r.Success));

        var refused = await new SimulatedClient(server.Client("127.0.0.33") with { Size = 10_000, MaxSends = 5 }).RunAsync();
        Assert.False(refused.Success);
        Assert.Equal(0, refused.AcksReceived);
        Assert.Empty(server.DumpsOf("127.0.0.33"));
        Assert.Single(server.LogLines, l => l.Contains("Too many concurrent netdumps, ignoring dump from 127.0.0.33"));

        // the two dead clients time out, freeing their slots
        await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.31"));
        await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.32"));
        var later = await new SimulatedClient(server.Client("127.0.0.33") with { Size = 10_000 }).RunAsync();
        Assert.True(later.Success, later.Error);
    }

    [Fact]
    public async Task In_secure_mode_an_unknown_client_gets_silence_and_a_known_one_is_served()
    {
        var server = await Start(new() { ["secure"] = true, ["allow"] = "127.0.0.1/32, 127.0.2.0/24" });
        var unknown = await new SimulatedClient(server.Client("127.0.0.40") with { Size = 10_000, MaxSends = 4 }).RunAsync();
        Assert.False(unknown.Success);
        Assert.Empty(server.DumpsOf("127.0.0.40"));
        Assert.Single(server.LogLines, l => l.Contains("unknown client 127.0.0.40") && l.Contains("allow="));

        Assert.True((await new SimulatedClient(server.Client("127.0.2.7") with { Size = 10_000 }).RunAsync()).Success);

        Directory.CreateDirectory(Path.Combine(server.DumpDir, "magic"), Private);
        File.WriteAllText(Path.Combine(server.DumpDir, "magic", "127.0.0.41"), "");
        Assert.True((await new SimulatedClient(server.Client("127.0.0.41") with { Size = 10_000 }).RunAsync()).Success);
    }

    [Fact]
    public async Task Secure_mode_with_only_loopback_allowed_warns_at_start_that_real_clients_will_be_refused()
    {
        var server = await Start(new() { ["secure"] = true });
        await server.WaitForLogAsync("secure mode allows only loopback clients: real clients will be refused");
    }

    [Theory]
    [InlineData("127.0.0.0/8, 192.0.2.0/24", false)]
    [InlineData("127.0.0.0/8", true)]
    public async Task Secure_mode_does_not_warn_when_a_real_client_is_allowed(string allow, bool magicFile)
    {
        var dumpDir = Directory.CreateTempSubdirectory("netdump-secure-").FullName;
        if (magicFile)
        {
            Directory.CreateDirectory(Path.Combine(dumpDir, "magic"), Private);
            File.WriteAllText(Path.Combine(dumpDir, "magic", "192.0.2.8"), "");
        }

        var server = await Start(new() { ["secure"] = true, ["allow"] = allow, ["dumpdir"] = dumpDir });
        // a line the listener logs after its start-up warnings would have been: then none came
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                   System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            socket.SendTo(new byte[10], server.Endpoint);
        }

        await server.WaitForLogAsync("Dropped a datagram", "on the listen port");
        Assert.DoesNotContain(server.LogLines, l => l.Contains("only loopback clients"));
    }

    [Fact]
    public async Task Netdump_crash_exiting_non_zero_refuses_the_dump_and_removes_its_directory()
    {
        var server = await Start();
        Script(server, "netdump-crash", "exit 1");
        var result = await new SimulatedClient(server.Client("127.0.0.42") with { Size = 10_000, MaxSends = 4 }).RunAsync();
        Assert.False(result.Success);
        Assert.Equal(0, result.AcksReceived);
        await server.WaitForLogAsync("127.0.0.42", "netdump-crash exited 1");
        Assert.Empty(server.DumpsOf("127.0.0.42"));
    }

    [Fact]
    public async Task A_hung_netdump_crash_is_killed_and_the_dump_goes_ahead()
    {
        var server = await Start(new() { ["crash_script_timeout"] = "300ms" });
        Script(server, "netdump-crash", "sleep 30");
        var result = await new SimulatedClient(server.Client("127.0.0.43") with { Size = 10_000 }).RunAsync();
        Assert.True(result.Success, result.Error);
        Assert.Equal("complete", ServerHarness.ReadJson(server.SingleDumpOf("127.0.0.43")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Netdump_crash_and_netdump_reboot_get_their_arguments_and_environment()
    {
        var server = await Start();
        var log = Path.Combine(server.DumpDir, "script.log");
        Script(server, "netdump-crash", $"echo \"crash $1 $2 $NETDUMP_CLIENT_IP\" >> {log}");
        Script(server, "netdump-reboot", $"echo \"reboot $1 $2 $NETDUMP_STATUS $NETDUMP_HOSTNAME [$NETDUMP_PANIC] [$NETDUMP_REASON]\" >> {log}.reboot");
        var result = await new SimulatedClient(server.Client("127.0.0.44") with { Size = 10_000, Hostname = "db3", Panic = "double fault" }).RunAsync();
        Assert.True(result.Success, result.Error);

        var dir = server.SingleDumpOf("127.0.0.44");
        Assert.Equal($"crash 127.0.0.44 {dir} 127.0.0.44\n", File.ReadAllText(log));
        Assert.Equal($"reboot 127.0.0.44 {dir} complete db3 [double fault] []\n", await WaitForFile(log + ".reboot"));
    }

    [Fact]
    public async Task Netdump_reboot_runs_for_a_timed_out_dump_but_not_for_a_superseded_one()
    {
        // the client that dies comes back at once, not after a reboot: no retransmit window
        var server = await Start(new() { ["session_timeout"] = "1s", ["herald_retransmit_window"] = "0s" });
        var log = Path.Combine(server.DumpDir, "reboot.log");
        Script(server, "netdump-reboot", $"echo \"$NETDUMP_STATUS $NETDUMP_REASON $2\" >> {log}");

        Assert.False((await new SimulatedClient(server.Client("127.0.0.45") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync()).Success);
        Assert.True((await new SimulatedClient(server.Client("127.0.0.45") with { Size = 10_000, Seed = 3 }).RunAsync()).Success);
        var dumps = server.DumpsOf("127.0.0.45");
        Assert.Equal("superseded", (await ServerHarness.WaitForEndAsync(dumps[0])).GetProperty("reason").GetString());
        Assert.Equal($"complete  {dumps[1]}\n", await WaitForFile(log));

        File.Delete(log);
        Assert.False((await new SimulatedClient(server.Client("127.0.0.46") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync()).Success);
        Assert.Equal($"incomplete client timed out {server.SingleDumpOf("127.0.0.46")}\n", await WaitForFile(log));
    }

    [Theory]
    [InlineData("exit 0", "netdump-nospace exited 0")]
    [InlineData("exit 1", "needed")]
    public async Task Without_room_for_the_reserve_the_dump_is_given_up_as_no_space(string nospace, string why)
    {
        var server = await Start(new() { ["min_free_space"] = "1000000T" });
        Script(server, "netdump-nospace", nospace);
        // big enough that the decision (which never holds up an ack) comes before the end of the dump
        var result = await new SimulatedClient(server.Client("127.0.0.47") with { Size = 64L << 20, MaxSends = 4 }).RunAsync();
        Assert.False(result.Success);

        var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.47"));
        Assert.Equal("no space", json.GetProperty("reason").GetString());
        await server.WaitForLogAsync("127.0.0.47", "no space for the dump, even after netdump-nospace", why);
        Assert.Matches(
            @"Client 127\.0\.0\.47: \d+ bytes \(\d+(\.\d)? [KMGTPE]?i?B\) free on the dump file system, \d+ bytes \(976\.6 PiB\) needed; running netdump-nospace",
            await server.WaitForLogAsync("127.0.0.47", "free on the dump file system"));
    }

    [Fact]
    public Task A_file_system_filling_up_mid_dump_ends_the_dump_as_no_space_before_a_write_fails_and_the_server_serves_others() =>
        OnSmallFileSystem(async mount =>
        {
            var server = await Start(new() { ["dumpdir"] = mount, ["min_free_space"] = "0", ["max_dump_size"] = "1G" });
            var result = await new SimulatedClient(server.Client("127.0.0.48") with { Size = 8_000_000, MaxSends = 4 }).RunAsync();
            Assert.False(result.Success);
            var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.48"));
            Assert.Equal("incomplete", json.GetProperty("status").GetString());
            Assert.Equal("no space", json.GetProperty("reason").GetString()); // refused before the disk was full
            Assert.DoesNotContain(server.LogLines, l => l.Contains("No space left on device"));

            File.Delete(Path.Combine(server.SingleDumpOf("127.0.0.48"), "vmcore-incomplete"));
            Assert.True((await new SimulatedClient(server.Client("127.0.0.49") with { Size = 100_000 }).RunAsync()).Success);
        });

    [Fact]
    public Task A_dump_whose_reports_meet_a_full_disk_keeps_its_reason_and_gets_its_reports_once_there_is_room() =>
        OnSmallFileSystem(async mount =>
        {
            var server = await Start(new() { ["dumpdir"] = mount, ["min_free_space"] = "1M" });
            var filler = Path.Combine(mount, "filler"); // another program takes every last block
            using (var fill = new FileStream(filler, FileMode.CreateNew))
            {
                var block = new byte[64 << 10];
                Action fillUp = () =>
                {
                    while (true)
                    {
                        fill.Write(block);
                        fill.Flush();
                    }
                };
                Assert.Throws<IOException>(fillUp);
            }

            var result = await new SimulatedClient(server.Client("127.0.0.61") with { Size = 100_000, MaxSends = 4 }).RunAsync();
            Assert.False(result.Success);
            var dir = server.SingleDumpOf("127.0.0.61");
            await Waiting.Until(() => server.LogLines.Any(l => l.Contains("cannot write the reports of")), TimeSpan.FromSeconds(15), "the reports' failure");
            // the end as it was (the disk had no room for the core either), not the reports' error
            var end = Assert.Single(server.LogLines, l => l.Contains("Client 127.0.0.61: dump incomplete ("));
            var reason = end[(end.IndexOf("dump incomplete (", StringComparison.Ordinal) + "dump incomplete (".Length)..end.IndexOf(") in ", StringComparison.Ordinal)];
            Assert.DoesNotContain("final.tmp", reason);
            Assert.False(File.Exists(Path.Combine(dir, "dump.json")));

            File.Delete(filler);
            var json = await ServerHarness.WaitForEndAsync(dir, TimeSpan.FromSeconds(15));
            Assert.Equal(reason, json.GetProperty("reason").GetString());
            Assert.Equal($"Dump incomplete: {reason}", File.ReadAllLines(Path.Combine(dir, "info")).Last());
            Assert.Contains(server.LogLines, l => l.Contains("are written: there is room again"));
        }, size: "4m");

    [Fact]
    public Task By_default_a_dump_may_not_grow_beyond_the_free_space_at_its_HERALD() =>
        OnSmallFileSystem(async mount =>
        {
            var server = await Start(new() { ["dumpdir"] = mount, ["min_free_space"] = "0" });
            var result = await new SimulatedClient(server.Client("127.0.0.50") with { Size = 8_000_000, MaxSends = 4 }).RunAsync();
            Assert.False(result.Success);
            var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.50"));
            Assert.Contains("beyond max_dump_size", json.GetProperty("reason").GetString());
            Assert.True(new FileInfo(Path.Combine(server.SingleDumpOf("127.0.0.50"), "vmcore-incomplete")).Length <= 3 << 20);
        });

    [Fact]
    public Task On_a_filling_disk_the_dump_that_would_cross_the_reserve_stops_and_the_one_before_it_completes() =>
        OnSmallFileSystem(async mount =>
        {
            var server = await Start(new() { ["dumpdir"] = mount, ["min_free_space"] = "2M" });
            var nospaceLog = Path.Combine(Path.GetTempPath(), $"netdump-nospace-{Guid.NewGuid():N}.log");
            Script(server, "netdump-nospace", $"echo \"$1\" >> {nospaceLog}; exit 0");
            try
            {
                // a slow 1 MiB dump (every lost burst waits for the client's resend)...
                var slow = new SimulatedClient(server.Client("127.0.0.58") with
                {
                    Size = 1 << 20, Loss = 0.05, Seed = 58, ResendAfter = TimeSpan.FromMilliseconds(300),
                });
                var slowRun = slow.RunAsync();
                await ServerHarness.WaitForJsonAsync(await server.WaitForDumpOfAsync("127.0.0.58"), _ => true);

                // ...then a 32 MiB dump that would fill the 8 MiB file system in a fraction of a second
                var big = await new SimulatedClient(server.Client("127.0.0.59") with { Size = 32 << 20, MaxSends = 4 }).RunAsync();
                Assert.False(big.Success);
                var bigJson = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.0.59"));
                Assert.Equal("no space", bigJson.GetProperty("reason").GetString());
                Assert.Equal("127.0.0.59", File.ReadAllText(nospaceLog).Trim()); // nospace ran, for the big dump alone

                var done = await slowRun;
                Assert.True(done.Success, done.Error);
                var slowDir = server.SingleDumpOf("127.0.0.58");
                Assert.Equal("complete", ServerHarness.ReadJson(slowDir).GetProperty("status").GetString());
                Assert.True(slow.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(slowDir, "vmcore"))));
                Assert.DoesNotContain(server.LogLines, l => l.Contains("No space left on device"));
            }
            finally
            {
                File.Delete(nospaceLog);
            }
        }, size: "8m");

    /// <summary>
    /// Runs a test whose dump directory is a real tmpfs (3 MiB unless told). Only root can mount
    /// one; CI runs as root on this machine kind, elsewhere the test checks that it really is not root.
    /// </summary>
    private async Task OnSmallFileSystem(Func<string, Task> test, string size = "3m")
    {
        var mount = Path.Combine(Path.GetTempPath(), $"netdump-tmpfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(mount);
        if (!Tmpfs.TryMount(mount, $"size={size}"))
        {
            Assert.False(Tmpfs.IsRoot);
            output.WriteLine("SKIPPED: only root can mount the small tmpfs this test needs; the disk-full behaviour was not checked");
            Directory.Delete(mount);
            return;
        }

        try
        {
            await test(mount);
            await StopServerAsync(); // before the file system goes
        }
        finally
        {
            Tmpfs.Unmount(mount);
            Directory.Delete(mount, recursive: true);
        }
    }

    [Fact]
    public async Task Session_sockets_stay_in_the_session_ports_range()
    {
        var server = await Start(new() { ["session_ports"] = "40100-40109" });
        var results = await Task.WhenAll(Enumerable.Range(1, 3).Select(i =>
            new SimulatedClient(server.Client($"127.0.3.{i}") with { Size = 10_000 }).RunAsync()));
        Assert.All(results, r => Assert.InRange(r.SessionPort, 40100, 40109));
    }

    [Fact]
    public async Task At_shutdown_a_receiving_dump_is_marked_server_shut_down_and_netdump_reboot_runs()
    {
        var server = await Start();
        var log = Path.Combine(server.DumpDir, "reboot.log");
        Script(server, "netdump-reboot", $"echo \"$NETDUMP_STATUS $NETDUMP_REASON\" >> {log}");
        Assert.False((await new SimulatedClient(server.Client("127.0.0.51") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync()).Success);
        var dir = server.SingleDumpOf("127.0.0.51");

        await server.StopAsync();
        var json = ServerHarness.ReadJson(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("server shut down", json.GetProperty("reason").GetString());
        Assert.Equal("incomplete server shut down\n", File.ReadAllText(log));
    }

    [Fact]
    public async Task At_shutdown_a_netdump_reboot_longer_than_akkas_default_phase_timeout_runs_to_its_end_within_shutdown_timeout()
    {
        // Akka gives up a shutdown phase after 5 s unless told otherwise: the drain, and this
        // script with it, were cut short there whatever shutdown_timeout said
        var server = await Start();
        var log = Path.Combine(server.DumpDir, "reboot.log");
        Script(server, "netdump-reboot", $"sleep 6; echo \"$NETDUMP_STATUS $NETDUMP_REASON\" >> {log}");
        Assert.False((await new SimulatedClient(server.Client("127.0.0.52") with { Size = 1_000_000, DieAfterBytes = 100_000 }).RunAsync()).Success);

        await server.StopAsync();
        Assert.Equal("incomplete server shut down\n", File.ReadAllText(log));
        Assert.DoesNotContain(server.LogLines, l => l.Contains("stopping anyway"));
    }
}
