using System.Net;
using System.Net.Sockets;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>Linux clients (SPEC §7): the operator's side: secure mode and magic files, netdump-crash, the one limit, netdump-nospace, a server that stops.</summary>
public sealed partial class LinuxDumpTests
{
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
}
