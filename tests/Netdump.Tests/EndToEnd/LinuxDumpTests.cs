using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Linux (Red Hat) netdump clients, simulated as the RHEL4 module behaves, dumping over
/// loopback into a real server (SPEC §7): the pull, the ELF core, the console log, the reboot.
/// </summary>
public sealed class LinuxDumpTests : ServerTests
{
    /// <summary>The Linux port on a free loopback port (0 would turn it off).</summary>
    protected override Dictionary<string, object?> Defaults() => new() { ["secure"] = false, ["linux_port"] = FreeUdpPort() };

    internal static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static LinuxSimulationOptions Client(ServerHarness server, string source) => new()
    {
        Server = server.LinuxEndpoint!,
        Source = IPAddress.Parse(source),
        ResendAfter = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>Completes once the server asked the client for its first page: the dump is under way.</summary>
    private static Task FirstPageRequested(LinuxSimulatedClient client)
    {
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Progress = line =>
        {
            if (line.StartsWith("memory: first page requested", StringComparison.Ordinal))
            {
                requested.TrySetResult();
            }
        };
        return requested.Task;
    }

    /// <summary>Every page of the client's memory at its place in the core: RAM byte-exact, the rest zeros.</summary>
    private static void AssertCoreHoldsMemory(LinuxSimulatedClient client, string vmcore)
    {
        using var file = File.OpenRead(vmcore);
        var header = new byte[4096];
        file.ReadExactly(header);
        Assert.True(ElfCoreLayout.TryCreate(client.Start.Machine, LinuxMemory.PageSize, client.Memory.Pages, client.Start.PageOffset, out var layout, out var problem), problem);
        Assert.Equal(layout!.FileSize, file.Length);
        var expected = new byte[LinuxMemory.PageSize];
        var actual = new byte[LinuxMemory.PageSize];
        for (uint pfn = 0; pfn < client.Memory.Pages; pfn++)
        {
            if (client.Memory.IsRam(pfn))
            {
                client.Memory.ReadPage(pfn, expected);
            }
            else
            {
                Array.Clear(expected);
            }

            file.Position = ElfCoreSample.OffsetOf(layout, pfn);
            file.ReadExactly(actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"page {pfn} differs");
        }
    }

    [Fact]
    public async Task A_Linux_client_dumps_its_memory_byte_exact_into_an_ELF_core_with_its_console_log_and_is_rebooted()
    {
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.1") with
        {
            Memory = 2 << 20,
            Reserved = [new PfnRange(0x9f, 0x100), new PfnRange(0x180, 0x1a0)],
        });

        var result = await client.RunAsync();

        Assert.True(result.Success, $"{result.End}: {result.Error}");
        var dir = server.SingleDumpOf("127.0.9.1");
        var json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal("linux", json.GetProperty("dialect").GetString());
        var end = await server.WaitForLogAsync("Client 127.0.9.1:", "dump complete");
        Assert.Matches(@"; Linux START from port \d+ \(ELF machine 62, protocol version 5\)$", end);
        Assert.Equal(512UL, json.GetProperty("pages").GetUInt64());
        Assert.Equal(4096U, json.GetProperty("page_size").GetUInt32());
        Assert.True(json.GetProperty("registers").GetBoolean());
        Assert.Equal("Kernel panic - not syncing: simulated panic", json.GetProperty("panic_string").GetString());
        Assert.Equal(2, json.GetProperty("reserved").GetArrayLength());
        Assert.Equal(0, json.GetProperty("holes").GetArrayLength());
        var info = File.ReadAllText(Path.Combine(dir, "info"));
        Assert.Contains("  Holes: none\n", info);
        Assert.Contains("  Dialect: Linux netdump, protocol version 5", info);
        AssertCoreHoldsMemory(client, Path.Combine(dir, "vmcore"));
        Assert.Equal((ulong)new FileInfo(Path.Combine(dir, "vmcore")).Length, json.GetProperty("dump_length").GetUInt64());
        Assert.Contains("Kernel panic - not syncing: simulated panic", File.ReadAllText(Path.Combine(dir, "log")));

        // no hostname comes from a Linux client: its link is named by its address
        json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("sha256").ValueKind == System.Text.Json.JsonValueKind.String);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "vmcore")))), json.GetProperty("sha256").GetString());
        Assert.Equal(Path.GetFileName(dir), new FileInfo(Path.Combine(server.DumpDir, "127.0.9.1.last")).LinkTarget);

        // zero and reserved pages were never written: the file's blocks hold the other pages only
        var written = Enumerable.Range(0, (int)client.Memory.Pages).Count(pfn => !client.Memory.IsZero((uint)pfn));
        var blocks = Storage.ElfCoreToolTests.Run("stat", "-c", "%b %B", Path.Combine(dir, "vmcore")).Split(' ');
        var allocated = long.Parse(blocks[0]) * long.Parse(blocks[1]);
        Assert.InRange(allocated, written * 4096L, (written + 8) * 4096L); // plus the header page and the file system's own rounding
    }

    [Theory]
    [InlineData("x86_64", "rip")]
    [InlineData("i386", "eip")]
    public async Task The_core_opens_in_gdb_with_the_registers_the_client_sent(string arch, string register)
    {
        var server = await Start();
        var machine = LinuxMachine.All.Single(m => m.Name == arch);
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.2") with { Memory = 1 << 20, Machine = machine });

        var result = await client.RunAsync();

        Assert.True(result.Success, $"{result.End}: {result.Error}");
        var core = Path.Combine(server.SingleDumpOf("127.0.9.2"), "vmcore");
        await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.2"));
        var readelf = Storage.ElfCoreToolTests.Run("readelf", "-W", "-h", "-l", "-n", core);
        Assert.Contains("NT_PRSTATUS", readelf);
        Assert.Contains(arch == "i386" ? "ELF32" : "ELF64", readelf);
        var gdb = Storage.ElfCoreToolTests.Run("gdb", "-batch", "-nx", "-c", core, "-ex", $"info registers {register}");
        Assert.Contains($"0x{machine.InstructionPointer:x}", gdb);
    }

    [Fact]
    public async Task Loss_duplication_and_reordering_cost_retransmissions_not_bytes()
    {
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.3") with
        {
            Memory = 1 << 20,
            Loss = 0.05,
            Duplicate = 0.05,
            Reorder = 0.3,
            Seed = 3,
        });

        var result = await client.RunAsync();

        Assert.True(result.Success, $"{result.End}: {result.Error}");
        Assert.True(result.RepeatedRequests > 0, "with 5 % loss some requests must have been resent");
        var dir = server.SingleDumpOf("127.0.9.3");
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(dir)).GetProperty("status").GetString());
        AssertCoreHoldsMemory(client, Path.Combine(dir, "vmcore"));
    }

    [Fact]
    public async Task A_client_whose_reserved_frames_make_too_many_ranges_ends_too_fragmented_with_a_readable_report()
    {
        // every other frame reserved: one range of reserved frames per two frames, beyond the
        // bound of a dump's ranges
        var ranges = Netdump.Actors.Ingest.Linux.LinuxPull.MaxReservedRanges + 1;
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.9") with
        {
            Memory = 2L * ranges * Netdump.App.Simulation.LinuxMemory.PageSize + Netdump.App.Simulation.LinuxMemory.PageSize,
            Reserved = Enumerable.Range(0, ranges).Select(i => new Netdump.App.Simulation.PfnRange((uint)(2 * i + 1), (uint)(2 * i + 2))).ToList(),
        });

        await client.RunAsync();

        var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.9"), TimeSpan.FromSeconds(30));
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal($"too fragmented: frame {2L * ranges - 1} would make more than {ranges - 1} separate ranges of reserved (not RAM) frames",
            json.GetProperty("reason").GetString());
        Assert.True(json.GetProperty("reserved").GetArrayLength() < ranges, "the reserved frames listed stay within the bound");
        Assert.True(new FileInfo(Path.Combine(server.SingleDumpOf("127.0.9.9"), "dump.json")).Length < 32 << 20, "dump.json stays readable");
    }

    [Fact]
    public async Task A_client_that_dies_mid_dump_leaves_an_incomplete_dump_with_the_reason()
    {
        var server = await Start();
        var result = await new LinuxSimulatedClient(Client(server, "127.0.9.4") with { Memory = 2 << 20, DieAfterPages = 100 }).RunAsync();

        Assert.Equal(LinuxClientEnd.Died, result.End);
        var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.4"), TimeSpan.FromSeconds(15));
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("client timed out", json.GetProperty("reason").GetString());
        Assert.True(File.Exists(Path.Combine(server.SingleDumpOf("127.0.9.4"), "vmcore-incomplete")));
    }

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
    public async Task A_client_that_dies_mid_dump_lists_the_reserved_frames_met_before_as_reserved_not_received()
    {
        // SPEC §7: reserved frames are recorded as reserved, not as holes; an incomplete dump too
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.10") with
        {
            Memory = 2 << 20, // 512 frames
            Reserved = [new PfnRange(0x10, 0x20), new PfnRange(0x1c0, 0x1d0)],
            DieAfterPages = 40, // within the pull's window of the first range, far before the second
        });

        Assert.Equal(LinuxClientEnd.Died, (await client.RunAsync()).End);

        var json = await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.10"), TimeSpan.FromSeconds(15));
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        var reserved = json.GetProperty("reserved").EnumerateArray()
            .Select(r => (r[0].GetUInt64(), r[1].GetUInt64())).ToList();
        Assert.Equal([(0x10UL, 0x20UL)], reserved);
        var info = File.ReadAllText(Path.Combine(server.SingleDumpOf("127.0.9.10"), "info"));
        Assert.Contains(", 16 pages not RAM", info);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")] // the default addr: the wake-up goes to 127.0.0.1
    public async Task A_client_silent_after_its_START_is_asked_its_first_questions_again(string address)
    {
        // The port's thread waits without a tick while no dump pulls; the dump that starts must
        // wake it, or a client whose first answers are lost is never asked again.
        var server = await Start(new() { ["addr"] = address });
        var port = new IPEndPoint(IPAddress.Loopback, server.LinuxEndpoint!.Port);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Parse("127.0.9.8"), 0));
        client.ReceiveTimeout = 10_000;
        var simulated = new LinuxSimulatedClient(Client(server, "127.0.9.8"));
        var start = simulated.Start.Payload();
        var datagram = new byte[Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size + start.Length];
        new Netdump.Actors.Protocol.Linux.LinuxReplyHeader(4, simulated.Start.Machine, Netdump.Actors.Protocol.Linux.LinuxReplyCode.StartNetdump, 5).Write(datagram);
        start.CopyTo(datagram, Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size);
        client.SendTo(datagram, port); // once: a resent START would wake the thread itself

        var asked = new Dictionary<uint, int>(); // GET_NR_PAGES by sequence: how often
        var buffer = new byte[2048];
        while (!asked.ContainsValue(2))
        {
            var length = client.Receive(buffer); // a SocketException after 10 s of silence fails the test
            if (Netdump.Actors.Protocol.Linux.LinuxRequest.TryRead(buffer.AsSpan(0, length), out var request)
                && request.Command == Netdump.Actors.Protocol.Linux.LinuxCommand.GetNrPages)
            {
                asked[request.Sequence] = asked.GetValueOrDefault(request.Sequence) + 1;
            }
        }

        // the wake-up is the port's own datagram, never a drop to report
        Assert.DoesNotContain(server.LogLines, line => line.Contains("on the Linux port", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_secure_mode_a_client_whose_magic_matches_its_magic_file_dumps_and_a_mismatch_is_rebooted_with_nothing_kept()
    {
        var server = await Start(new() { ["secure"] = true, ["allow"] = "127.0.9.30/32" });
        var magic = Path.Combine(server.DumpDir, "magic");
        Directory.CreateDirectory(magic, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(magic, "127.0.9.10"), "0000abcd12345678\n"); // MAGIC2MAGIC1, leading zeros as the init script writes
        File.WriteAllText(Path.Combine(magic, "127.0.9.11"), "1111111111111111\n");

        var matching = await new LinuxSimulatedClient(Client(server, "127.0.9.10") with { Memory = 256 << 10, Magic = 0xabcd12345678 }).RunAsync();
        var wrong = await new LinuxSimulatedClient(Client(server, "127.0.9.11") with { Memory = 256 << 10, Magic = 0x2222222222222222 }).RunAsync();
        var allowed = await new LinuxSimulatedClient(Client(server, "127.0.9.30") with { Memory = 256 << 10 }).RunAsync();

        Assert.True(matching.Success, $"{matching.End}: {matching.Error}");
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.10"))).GetProperty("status").GetString());
        Assert.Equal(LinuxClientEnd.Rebooted, wrong.End); // "logged and then rebooted"
        Assert.Empty(server.DumpsOf("127.0.9.11"));
        await server.WaitForLogAsync("Refusing Linux dump from 127.0.9.11", "does not match");
        Assert.True(allowed.Success, $"{allowed.End}: {allowed.Error}");
    }

    [Fact]
    public async Task A_START_with_a_wrong_magic_from_a_dumping_clients_address_is_logged_and_reboots_no_one()
    {
        var server = await Start(new() { ["secure"] = true, ["allow"] = "127.0.9.30/32" }); // 127.0.9.14 by its magic alone
        var magic = Path.Combine(server.DumpDir, "magic");
        Directory.CreateDirectory(magic, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(magic, "127.0.9.14"), "0000abcd12345678\n");
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.14") with { Memory = 2 << 20, Magic = 0xabcd12345678 });
        var running = FirstPageRequested(client);
        var run = client.RunAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        // a forger at the client's address without its magic: a reboot sent to its address
        // would reach the dumping kernel, which obeys whatever magic it carries
        using var forger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        forger.Bind(new IPEndPoint(IPAddress.Parse("127.0.9.14"), 0));
        var start = (client.Start with { Magic = 0x2222222222222222 }).Payload();
        var forged = new byte[Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size + start.Length];
        new Netdump.Actors.Protocol.Linux.LinuxReplyHeader(4, client.Start.Machine, Netdump.Actors.Protocol.Linux.LinuxReplyCode.StartNetdump, 5).Write(forged);
        start.CopyTo(forged, Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size);
        forger.SendTo(forged, server.LinuxEndpoint!);
        await server.WaitForLogAsync("Ignoring a Linux START from 127.0.9.14", "not rebooted");

        var result = await run;
        Assert.True(result.Success, $"{result.End}: {result.Error}");
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.14"))).GetProperty("status").GetString());
        Assert.Equal(0, forger.Available); // no COMM_REBOOT came back to the forged address either
    }

    [Fact]
    public async Task A_netdump_crash_refusal_is_answered_with_COMM_REBOOT()
    {
        var server = await Start();
        OperatorBehaviourTests.Script(server, "netdump-crash", "exit 1");

        var result = await new LinuxSimulatedClient(Client(server, "127.0.9.5") with { Memory = 256 << 10 }).RunAsync();

        Assert.Equal(LinuxClientEnd.Rebooted, result.End);
        Assert.Equal(0, result.PagesSent);
        await WaitFor(() => server.DumpsOf("127.0.9.5").Count == 0); // its empty directory is removed
    }

    [Fact]
    public async Task One_exact_limit_holds_for_FreeBSD_and_Linux_clients_at_once()
    {
        var server = await Start(new() { ["max_concurrent_dumps"] = 1, ["session_timeout"] = "10s" });
        // a FreeBSD dump holds the only slot (its client stops sending, its session waits)
        var freebsd = await new SimulatedClient(server.Client("127.0.9.20") with { Size = 1 << 20, DieAfterBytes = 100_000 }).RunAsync();
        Assert.False(freebsd.Success);

        var linux = await new LinuxSimulatedClient(Client(server, "127.0.9.21") with { Memory = 256 << 10 }).RunAsync();

        Assert.Equal(LinuxClientEnd.Rebooted, linux.End); // refused: rebooted without a memory dump
        Assert.Equal(0, linux.PagesSent);
        await server.WaitForLogAsync("Too many concurrent netdumps, ignoring dump from 127.0.9.21");

        // only its console text is kept, in a directory that holds no slot
        var refused = await server.WaitForDumpOfAsync("127.0.9.21");
        var json = await ServerHarness.WaitForJsonAsync(refused, _ => true);
        Assert.Equal("refused", json.GetProperty("status").GetString());
        Assert.Equal("Kernel panic - not syncing: simulated panic", json.GetProperty("panic_string").GetString());
        Assert.Contains("Kernel panic - not syncing: simulated panic", File.ReadAllText(Path.Combine(refused, "log")));
        Assert.Equal(["dump.json", "info", "log"], Directory.GetFiles(refused).Select(Path.GetFileName).Order(StringComparer.Ordinal));
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

    [Fact]
    public async Task Garbage_and_spoofed_packets_to_the_Linux_port_do_not_disturb_a_running_dump()
    {
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.7") with { Memory = 2 << 20 });
        // the noise begins once the dump runs (its first page answered): a forged START before
        // any data is a new dump by design (SPEC §4; docs/reliability.md), and on a loaded
        // machine the 500th datagram could come before the first reply
        var running = FirstPageRequested(client);
        var run = client.RunAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        using var noise = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        noise.Bind(new IPEndPoint(IPAddress.Parse("127.0.9.7"), 0)); // the client's address, another port
        var random = new Random(7);
        var sent = 0;
        // a forged START (right magic, the client's address, another port): it must not take the dump over
        var start = client.Start.Payload();
        var forgedStart = new byte[Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size + start.Length];
        new Netdump.Actors.Protocol.Linux.LinuxReplyHeader(4, client.Start.Machine,
            Netdump.Actors.Protocol.Linux.LinuxReplyCode.StartNetdump, 5).Write(forgedStart);
        start.CopyTo(forgedStart, Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size);
        while (!run.IsCompleted && sent < 20_000)
        {
            var datagram = new byte[random.Next(0, 1100)];
            random.NextBytes(datagram);
            if (datagram.Length > 13 && sent % 2 == 0)
            {
                datagram[5] = datagram[6] = datagram[7] = 0;
                datagram[8] = 3; // REPLY_MEM-shaped
            }

            if (sent % 500 == 499)
            {
                datagram = forgedStart;
            }

            noise.SendTo(datagram, server.LinuxEndpoint!);
            sent++;
        }

        var result = await run;
        Assert.True(result.Success, $"{result.End}: {result.Error}");
        var dir = server.SingleDumpOf("127.0.9.7"); // one dump: no forged START superseded it
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(dir)).GetProperty("status").GetString());
        AssertCoreHoldsMemory(client, Path.Combine(dir, "vmcore"));
    }

    [Fact]
    public async Task A_FreeBSD_HERALD_from_a_Linux_clients_address_supersedes_its_dump_without_rebooting_it()
    {
        var server = await Start();
        // a client that gives up on a silent server within 2 s: rebooted or left alone, the run ends
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.13") with
        {
            Memory = 64 << 20,
            ResendAfter = TimeSpan.FromMilliseconds(100),
            MaxSends = 20,
        });
        var running = FirstPageRequested(client);
        var run = client.RunAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(30));
        var linuxDump = server.SingleDumpOf("127.0.9.13");

        using var freebsd = RawClient.Bind("127.0.9.13");
        RawClient.Herald(freebsd, server.Endpoint);

        var json = await ServerHarness.WaitForEndAsync(linuxDump, TimeSpan.FromSeconds(15));
        Assert.Equal("superseded", json.GetProperty("reason").GetString());
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(LinuxClientEnd.ServerSilent, result.End); // no COMM_REBOOT out of its new dump
    }

    [Fact]
    public async Task At_shutdown_a_Linux_dump_is_marked_server_shut_down_and_the_client_rebooted()
    {
        var server = await Start();
        var run = new LinuxSimulatedClient(Client(server, "127.0.9.8") with { Memory = 64 << 20 }).RunAsync();
        var dir = await server.WaitForDumpOfAsync("127.0.9.8");
        await ServerHarness.WaitForJsonAsync(dir, json => json.GetProperty("bytes_received").GetUInt64() > 0);

        await server.StopAsync();

        var json = ServerHarness.ReadJson(dir);
        Assert.Equal("server shut down", json.GetProperty("reason").GetString());
        Assert.Equal(LinuxClientEnd.Rebooted, (await run).End);
    }

    [Fact]
    public async Task Without_room_for_the_memory_netdump_nospace_decides_before_any_page_is_asked_and_the_dump_is_given_up_as_no_space()
    {
        var server = await Start(new() { ["min_free_space"] = "1000000T" });
        var log = Path.Combine(server.DumpDir, "nospace.log");
        var go = Path.Combine(server.DumpDir, "nospace.go");
        // the script decides once the test has seen the memory described (the core's size known)
        OperatorBehaviourTests.Script(server, "netdump-nospace", $"echo \"$1 $2\" >> {log}; i=0; while [ ! -e {go} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 0");
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.9") with { Memory = 4 << 20 });
        var firstPage = FirstPageRequested(client);

        var run = client.RunAsync();
        await server.WaitForLogAsync("Client 127.0.9.9: 1024 pages of 4096 bytes", "pulling the memory");
        await WaitFor(() => File.Exists(log));
        File.WriteAllText(go, "");
        var result = await run;

        // SPEC §7: the free-space check, then SEND_MEM: no page was asked of a dump given up for space
        Assert.False(firstPage.IsCompleted);
        Assert.Equal(0, result.PagesSent);
        Assert.Equal(LinuxClientEnd.Rebooted, result.End);
        var dir = server.SingleDumpOf("127.0.9.9");
        var json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Equal("no space", json.GetProperty("reason").GetString());
        await WaitFor(() => File.Exists(log));
        Assert.StartsWith("127.0.9.9 ", File.ReadAllText(log));
    }

    /// <summary>
    /// A client with 64 KiB pages (ia64, ppc64 kernels): 64 chunks a page. A page's chunks were
    /// once tracked in 32 bits, so such a page never completed and the dump never ended.
    /// </summary>
    [Fact]
    public async Task A_client_with_64_KiB_pages_dumps_complete()
    {
        var server = await Start();
        var client = new HandAnsweredClient(server, "127.0.9.12", pageSize: 64 << 10, pages: 3, seed: 12);

        client.AnswerUntilRebooted();

        var dir = server.SingleDumpOf("127.0.9.12");
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(dir)).GetProperty("status").GetString());
        client.AssertCoreHoldsMemory(dir);
    }

    [Fact]
    public async Task A_server_stopping_while_a_client_prints_its_console_after_its_last_page_keeps_the_dump_complete_with_the_kernels_registers()
    {
        var server = await Start();
        // REPLY_REGS as RHEL's platform_get_regs sends it: strlen ran into the registers, up to
        // their first zero byte, and as many bytes of the kernel's buffer follow them
        var gregs = Enumerable.Range(1, 27 * 8).Select(i => (byte)i).ToArray();
        gregs[9] = 0;
        Task? stopping = null;
        var client = new HandAnsweredClient(server, "127.0.9.13", pageSize: 4096, pages: 16, seed: 13)
        {
            Registers = [.. "Sending register info.\n"u8, .. gregs, .. Enumerable.Repeat((byte)0xAA, 9)],
            // every page is in; the task list would come now, as console text: the server stops first
            OnShowState = () =>
            {
                stopping ??= server.StopAsync();
                return false;
            },
        };

        client.AnswerUntilRebooted();

        await stopping!;
        var dir = server.SingleDumpOf("127.0.9.13");
        var json = ServerHarness.ReadJson(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.True(json.GetProperty("registers").GetBoolean());
        client.AssertCoreHoldsMemory(dir);
    }

    [Fact]
    public async Task A_client_is_told_to_reboot_once_its_dump_is_final_and_its_reports_are_written()
    {
        // SPEC §7: fsync, reports, then the reboot. Reports that find no room (dump.json cannot be
        // renamed into place) hold the reboot until they are written, and not a moment longer
        var server = await Start();
        string? blocker = null;
        var client = new HandAnsweredClient(server, "127.0.9.14", pageSize: 4096, pages: 8, seed: 14)
        {
            OnPage = () =>
            {
                if (blocker is null)
                {
                    var json = Path.Combine(server.SingleDumpOf("127.0.9.14"), "dump.json");
                    File.Delete(json); // a first receiving report, should a flush tick have come already
                    blocker = Directory.CreateDirectory(Path.Combine(json, "x")).Parent!.FullName;
                }
            },
            OnShowState = () =>
            {
                _ = Task.Run(async () =>
                {
                    await server.WaitForLogAsync("Client 127.0.9.14: cannot write the reports of");
                    Directory.Delete(blocker!, recursive: true); // room again: the reports are written
                });
                return true;
            },
        };

        client.AnswerUntilRebooted();

        var json = ServerHarness.ReadJson(server.SingleDumpOf("127.0.9.14")); // there when the reboot came
        Assert.Equal("complete", json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_client_that_answers_a_frame_only_outside_its_page_times_out_with_one_warning_naming_it()
    {
        // each of those replies carries the request's sequence, and once counted as the client
        // alive: SEND_MEM is resent every 250 ms without limit, so the dump never ended, and no
        // line said why
        var server = await Start(new() { ["session_timeout"] = "2s" });
        var client = new HandAnsweredClient(server, "127.0.9.16", pageSize: 4096, pages: 8, seed: 16) { AnsweredOutsideItsPage = 3 };
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(() => client.AnswerUntilRebooted(stop.Token));
        var dir = await server.WaitForDumpOfAsync("127.0.9.16");

        System.Text.Json.JsonElement json;
        try
        {
            json = await ServerHarness.WaitForEndAsync(dir, TimeSpan.FromSeconds(15));
        }
        finally
        {
            await stop.CancelAsync(); // a dump that never ends must not leave the client answering
        }

        await answering; // rebooted
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("client timed out", json.GetProperty("reason").GetString());
        await server.WaitForLogAsync("Client 127.0.9.16:", "outside frame 3's 4096-byte page");
        Assert.Single(server.LogLines, line => line.Contains("Client 127.0.9.16:", StringComparison.Ordinal)
            && line.Contains("Mem at offset 4096 is outside frame 3's 4096-byte page; ignored, and not taken as a sign of life", StringComparison.Ordinal));
    }

    /// <summary>
    /// A Linux client answered by hand, as the kernel answers, from one loopback address: its
    /// START, then each of the server's requests until COMM_REBOOT (at most 8 s between two).
    /// </summary>
    private sealed class HandAnsweredClient(ServerHarness server, string address, uint pageSize, uint pages, int seed)
    {
        private readonly byte[] _memory = Memory(pageSize * pages, seed);
        private readonly Netdump.Actors.Protocol.Linux.LinuxStart _start = new(Netdump.Actors.Protocol.Linux.ElfMachine.X86_64, 5, 0xffff810000001000, 0xffff810000000000, 0x1111111111111111);

        /// <summary>The payload of REPLY_REGS: the preamble and an x86_64 gregset of zeros unless set.</summary>
        public byte[] Registers { get; init; } = [.. "Sending register info.\n"u8, .. new byte[27 * 8]];

        /// <summary>Before each page's answer.</summary>
        public Action? OnPage { get; init; }

        /// <summary>At SHOW_STATE: whether to answer it (default yes).</summary>
        public Func<bool>? OnShowState { get; init; }

        /// <summary>A frame whose every SEND_MEM is answered with one REPLY_MEM at offset = page size: no piece of its page.</summary>
        public uint? AnsweredOutsideItsPage { get; init; }

        /// <summary>Answers until COMM_REBOOT, or until <paramref name="stop"/> (checked between requests).</summary>
        public void AnswerUntilRebooted(CancellationToken stop = default)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.Bind(new IPEndPoint(IPAddress.Parse(address), 0));
            client.ReceiveTimeout = 8000;
            var to = server.LinuxEndpoint!;
            Reply(client, to, 4, 62, Netdump.Actors.Protocol.Linux.LinuxReplyCode.StartNetdump, 5, _start.Payload());
            var buffer = new byte[2048];
            while (!stop.IsCancellationRequested)
            {
                var length = client.Receive(buffer);
                Assert.True(Netdump.Actors.Protocol.Linux.LinuxRequest.TryRead(buffer.AsSpan(0, length), out var request));
                var nr = request.Sequence;
                switch (request.Command)
                {
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.GetNrPages:
                        Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.NrPages, pages, []);
                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.GetPageSize:
                        Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.PageSize, pageSize, []);
                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.GetRegs:
                        Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Regs, pages, Registers);
                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.SendMem when request.From == AnsweredOutsideItsPage:
                        Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Mem, pageSize, new byte[1024]);
                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.SendMem:
                        OnPage?.Invoke();
                        for (var chunk = 0u; chunk < pageSize; chunk += 1024)
                        {
                            Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.Mem, chunk,
                                _memory.AsSpan((int)(request.From * pageSize + chunk), 1024).ToArray());
                        }

                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.ShowState when OnShowState?.Invoke() ?? true:
                        Reply(client, to, 5, nr, Netdump.Actors.Protocol.Linux.LinuxReplyCode.ShowState, 0, []);
                        break;
                    case Netdump.Actors.Protocol.Linux.LinuxCommand.Reboot:
                        return;
                }
            }
        }

        /// <summary>The dump's vmcore holds the client's memory where its ELF layout puts it.</summary>
        public void AssertCoreHoldsMemory(string dir)
        {
            Assert.True(ElfCoreLayout.TryCreate(Netdump.Actors.Protocol.Linux.ElfMachine.X86_64, pageSize, pages, _start.PageOffset, out var layout, out _));
            var core = File.ReadAllBytes(Path.Combine(dir, "vmcore"));
            Assert.True(_memory.AsSpan().SequenceEqual(core.AsSpan((int)layout!.DataOffset, _memory.Length)));
        }

        private static byte[] Memory(uint length, int seed)
        {
            var memory = new byte[length];
            new Random(seed).NextBytes(memory);
            return memory;
        }
    }

    private static void Reply(Socket client, IPEndPoint server, byte version, uint sequence,
        Netdump.Actors.Protocol.Linux.LinuxReplyCode code, uint info, byte[] payload)
    {
        var datagram = new byte[Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size + payload.Length];
        new Netdump.Actors.Protocol.Linux.LinuxReplyHeader(version, sequence, code, info).Write(datagram);
        payload.CopyTo(datagram, Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size);
        client.SendTo(datagram, server);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met");
            await Task.Delay(20);
        }
    }
}
