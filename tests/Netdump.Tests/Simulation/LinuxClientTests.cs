using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Netdump.Actors.Protocol.Linux;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

public sealed class LinuxClientTests
{
    private const string StartupLine = "[...network console startup...]\n";

    private static string Ascii(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    private static async Task Reboot(LinuxFakeServer server, Task<LinuxSimulationResult> run)
    {
        server.Send(LinuxCommand.Reboot, 1000);
        var result = await run;
        Assert.True(result.Success, result.Error);
        Assert.Equal(LinuxClientEnd.Rebooted, result.End);
    }

    [Fact]
    public async Task Console_text_then_start_carry_the_running_offset_and_the_machine()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with { Console = ["Oops: 0002 [1]", "Kernel panic - not syncing: simulated panic\n"] });
        var run = server.Run(client);

        var replies = await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump);

        Assert.Equal(
            [(0u, StartupLine), (32u, "Oops: 0002 [1]\n"), (47u, "Kernel panic - not syncing: simulated panic\n")],
            replies[..^1].Select(r => (r.Header.Info, Ascii(r.Payload))));
        Assert.All(replies, r => Assert.Equal(LinuxSimulatedClient.NetdumpVersion, r.Header.Version));
        Assert.All(replies[..^1], r => Assert.Equal((LinuxReplyCode.Log, 0u), (r.Header.Code, r.Header.Sequence)));
        var start = replies[^1];
        Assert.True(LinuxStart.TryParse(start.Header, start.Payload, out var parsed, out var problem), problem);
        Assert.Equal(new LinuxStart(62, 5, LinuxMachine.X86_64.TaskStruct, 0x100_0000_0000, 0x1111_1111_1111_1111), parsed);
        Assert.Equal($"task_struct:0x{LinuxMachine.X86_64.TaskStruct:x} page_offset:0x10000000000 netdump_magic:0x1111111111111111\n", Ascii(start.Payload));
        Assert.Equal(client.Start, parsed);
        server.Send(LinuxCommand.StartNetdumpAck, 0, 5);
        await Reboot(server, run);
    }

    [Fact]
    public async Task Without_the_startup_line_the_console_offsets_still_count_it()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with { StartupLine = false, Machine = LinuxMachine.I386 });
        var run = server.Run(client);

        var replies = await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump);

        var log = Assert.Single(replies[..^1]);
        Assert.Equal((32u, "Kernel panic - not syncing: simulated panic\n"), (log.Header.Info, Ascii(log.Payload)));
        Assert.Equal(3u, replies[^1].Header.Sequence);
        Assert.Contains("page_offset:0xc0000000 ", Ascii(replies[^1].Payload));
        server.Send(LinuxCommand.StartNetdumpAck, 0, 5);
        await Reboot(server, run);
    }

    [Fact]
    public async Task Start_is_resent_while_no_ack_comes()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with { ResendAfter = TimeSpan.FromMilliseconds(20), MaxSends = 1000 });
        var run = server.Run(client);

        for (var i = 0; i < 3; i++)
        {
            await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump);
        }

        server.Send(LinuxCommand.StartNetdumpAck, 0, 5);
        Assert.Equal(LinuxReplyCode.Hello, (await server.AskAsync(LinuxCommand.Hello, 1)).Header.Code);
        await Reboot(server, run);
        Assert.True((await run).StartsSent >= 3);
    }

    [Fact]
    public async Task A_request_before_the_ack_is_dropped_and_start_is_sent_again_at_once()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options()));
        await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump);

        // A minute between resends: only the HELLO can make this second START come.
        server.Send(LinuxCommand.Hello, 1);
        var next = await server.ReceiveAsync();

        Assert.Equal(LinuxReplyCode.StartNetdump, next.Header.Code);
        server.Send(LinuxCommand.StartNetdumpAck, 2, 5);
        var hello = await server.AskAsync(LinuxCommand.Hello, 3);
        Assert.Equal(3u, hello.Header.Sequence);
        await Reboot(server, run);
        Assert.Equal(2, (await run).StartsSent);
        Assert.DoesNotContain(server.Drain(), r => r.Header.Sequence == 1);
    }

    [Fact]
    public async Task The_client_gives_up_after_max_sends_without_an_ack()
    {
        using var server = new LinuxFakeServer();
        var options = server.Options() with { ResendAfter = TimeSpan.FromMilliseconds(10), MaxSends = 3, StartupLine = false, Console = [] };

        var result = await server.Run(new LinuxSimulatedClient(options));

        Assert.Equal((LinuxClientEnd.NoAck, 3L), (result.End, result.StartsSent));
        Assert.False(result.Success);
        Assert.Contains("no START_NETDUMP_ACK after 3 STARTs", result.Error);
        Assert.Equal(3, server.Drain().Count(r => r.Header.Code == LinuxReplyCode.StartNetdump));
    }

    public static TheoryData<string> Machines => ["x86_64", "i386"];

    [Theory]
    [MemberData(nameof(Machines))]
    public async Task Each_command_gets_the_reply_netdump_c_sends(string name)
    {
        using var server = new LinuxFakeServer();
        var machine = LinuxMachine.Find(name)!;
        var client = new LinuxSimulatedClient(server.Options() with { Machine = machine, Reserved = [new PfnRange(0x10, 0x14)] });
        var run = server.Run(client);
        await server.AckAsync();

        var hello = await server.AskAsync(LinuxCommand.Hello, 11);
        var pageSize = await server.AskAsync(LinuxCommand.GetPageSize, 12);
        var pages = await server.AskAsync(LinuxCommand.GetNrPages, 13);
        var regs = await server.AskAsync(LinuxCommand.GetRegs, 14);
        var unknown = await server.AskAsync((LinuxCommand)42, 15);
        var lateAck = await server.AskAsync(LinuxCommand.StartNetdumpAck, 16, 5);

        Assert.Equal((LinuxReplyCode.Hello, 11u, 4u, "Hello, this is netdump version 0.04\n"), (hello.Header.Code, hello.Header.Sequence, hello.Header.Info, Ascii(hello.Payload)));
        Assert.Equal((LinuxReplyCode.PageSize, 12u, 4096u, "PAGE_SIZE: 4096\n"), (pageSize.Header.Code, pageSize.Header.Sequence, pageSize.Header.Info, Ascii(pageSize.Payload)));
        Assert.Equal((LinuxReplyCode.NrPages, 13u, 64u, "Number of pages: 64\n"), (pages.Header.Code, pages.Header.Sequence, pages.Header.Info, Ascii(pages.Payload)));
        Assert.Equal((LinuxReplyCode.Regs, 14u, 60u), (regs.Header.Code, regs.Header.Sequence, regs.Header.Info));
        Assert.True(LinuxRegisters.TryRead(machine.ElfMachine, regs.Payload, out var gregs, out var problem), problem);
        Assert.Equal(machine.Gregset(), gregs.ToArray());
        var ip = machine.WordSize == 8
            ? BinaryPrimitives.ReadUInt64LittleEndian(gregs[(16 * 8)..])
            : BinaryPrimitives.ReadUInt32LittleEndian(gregs[(12 * 4)..]);
        Assert.Equal(machine.InstructionPointer, ip);
        Assert.Equal((LinuxReplyCode.Error, 15u, 42u, "Got unknown command code 42!\n"), (unknown.Header.Code, unknown.Header.Sequence, unknown.Header.Info, Ascii(unknown.Payload)));
        Assert.Equal((LinuxReplyCode.Error, 16u, 7u), (lateAck.Header.Code, lateAck.Header.Sequence, lateAck.Header.Info));
        Assert.All([hello, pageSize, pages, regs, unknown, lateAck], r => Assert.Equal(5, r.Header.Version));
        await Reboot(server, run);
    }

    [Theory]
    [InlineData("x86_64", 5u, 5)]
    [InlineData("x86_64", 4u, 4)]
    [InlineData("x86_64", 9u, 5)]
    [InlineData("i386", 0u, 4)]
    [InlineData("x86_64", 0u, 0)]
    [InlineData("i386", 0x100u, 0)]
    public async Task The_replies_carry_the_version_the_ack_gives(string name, uint serverVersion, byte effective)
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options() with { Machine = LinuxMachine.Find(name)! }));
        await server.AckAsync(serverVersion);

        if (effective == 0)
        {
            var result = await run;
            Assert.Equal(LinuxClientEnd.VersionRefused, result.End);
            Assert.Contains("server cannot handle this client", result.Error);
            return;
        }

        var hello = await server.AskAsync(LinuxCommand.Hello, 1);
        Assert.Equal((effective, 4u), (hello.Header.Version, hello.Header.Info));
        await Reboot(server, run);
        Assert.Equal(effective, (await run).Version);
    }

    [Fact]
    public async Task Send_mem_sends_the_page_in_four_chunks()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with { Seed = 7 });
        var run = server.Run(client);
        await server.AckAsync();
        var pfn = Enumerable.Range(0, 64).Select(p => (uint)p).First(p => !client.Memory.IsZero(p));

        var page = await server.PageAsync(pfn, 21);

        var expected = new byte[LinuxMemory.PageSize];
        client.Memory.ReadPage(pfn, expected);
        Assert.Equal(expected, page);
        Assert.Contains(page, b => b != 0);
        await Reboot(server, run);
        Assert.Equal(1, (await run).PagesSent);
    }

    [Fact]
    public async Task Zero_pages_are_sent_as_zeros()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options());
        var run = server.Run(client);
        await server.AckAsync();
        var frames = Enumerable.Range(0, 64).Select(p => (uint)p).ToList();
        var zero = frames.First(client.Memory.IsZero);
        Assert.Contains(frames, p => !client.Memory.IsZero(p));

        var page = await server.PageAsync(zero, 22);

        Assert.All(page, b => Assert.Equal(0, b));
        await Reboot(server, run);
    }

    [Fact]
    public async Task Reserved_frames_name_the_next_ram_frame_and_frames_beyond_memory_are_errors()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with { Reserved = [new PfnRange(0x10, 0x18), new PfnRange(0x14, 0x20), new PfnRange(0x30, 0x40)] });
        var run = server.Run(client);
        await server.AckAsync();

        var first = await server.AskAsync(LinuxCommand.SendMem, 31, 0x10);
        var middle = await server.AskAsync(LinuxCommand.SendMem, 32, 0x1f);
        var last = await server.AskAsync(LinuxCommand.SendMem, 33, 0x35);
        var beyond = await server.AskAsync(LinuxCommand.SendMem, 34, 0x40);
        var regs = await server.AskAsync(LinuxCommand.GetRegs, 35);

        Assert.Equal((LinuxReplyCode.Reserved, 31u, 0x20u), (first.Header.Code, first.Header.Sequence, first.Header.Info));
        Assert.Empty(first.Payload);
        Assert.Equal((LinuxReplyCode.Reserved, 32u, 0x20u), (middle.Header.Code, middle.Header.Sequence, middle.Header.Info));
        Assert.Equal((LinuxReplyCode.Reserved, 33u, 0u), (last.Header.Code, last.Header.Sequence, last.Header.Info));
        Assert.Equal((LinuxReplyCode.Error, 34u, 0u, "page 00000040 is bigger than max page # 00000040!\n"), (beyond.Header.Code, beyond.Header.Sequence, beyond.Header.Info, Ascii(beyond.Payload)));
        Assert.Equal(64u - 16 - 16, regs.Header.Info);
        await Reboot(server, run);
        Assert.Equal(0, (await run).PagesSent);
    }

    [Fact]
    public async Task Show_state_sends_console_text_then_the_reply_with_the_last_command_text()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options()));
        var console = (await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump))[..^1];
        server.Send(LinuxCommand.StartNetdumpAck, 0, 5);
        await server.AskAsync(LinuxCommand.GetNrPages, 40);

        server.Send(LinuxCommand.ShowState, 41);
        var replies = await server.ReceiveThroughAsync(LinuxReplyCode.ShowState);

        var log = replies[..^1].Where(r => r.Header.Code == LinuxReplyCode.Log).ToList();
        Assert.NotEmpty(log);
        var offset = console[^1].Header.Info + (uint)console[^1].Payload.Length;
        foreach (var line in log)
        {
            Assert.Equal((0u, offset), (line.Header.Sequence, line.Header.Info));
            offset += (uint)line.Payload.Length;
        }

        Assert.Contains(log, l => Ascii(l.Payload).Contains($"RIP: 0010:[<{LinuxMachine.X86_64.InstructionPointer:x16}>]"));
        var reply = replies[^1];
        Assert.Equal((41u, 0u, "Number of pages: 64\n"), (reply.Header.Sequence, reply.Header.Info, Ascii(reply.Payload)));
        await Reboot(server, run);
    }

    [Fact]
    public async Task Exit_answers_end_netdump_with_nr_0_and_leaves_netdump_mode()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options()));
        await server.AckAsync();

        var end = await server.AskAsync(LinuxCommand.Exit, 50);

        Assert.Equal((LinuxReplyCode.EndNetdump, 0u, 0u, "NETDUMP end.\n"), (end.Header.Code, end.Header.Sequence, end.Header.Info, Ascii(end.Payload)));
        var result = await run;
        Assert.Equal(LinuxClientEnd.Exited, result.End);
        Assert.False(result.Success);
    }

    [Fact]
    public async Task Datagrams_that_are_not_requests_from_the_server_are_ignored()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options()));
        await server.AckAsync();
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        var request = new byte[LinuxRequest.Size];
        new LinuxRequest(LinuxFakeServer.RequestMagic, 60, LinuxCommand.Hello, 0).Write(request);

        stranger.SendTo(request, server.Client!);
        server.SendRaw(request[..(LinuxRequest.Size - 1)]);
        var hello = await server.AskAsync(LinuxCommand.Hello, 61);

        Assert.Equal(61u, hello.Header.Sequence);
        await Reboot(server, run);
        Assert.Equal(3, (await run).RequestsReceived); // the ACK, HELLO 61 and REBOOT
    }

    [Fact]
    public async Task A_client_that_dies_stops_answering_after_its_pages()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options() with { DieAfterPages = 2 }));
        await server.AckAsync();

        await server.PageAsync(0, 70);
        await server.PageAsync(1, 71);
        server.Send(LinuxCommand.SendMem, 72, 2);
        var result = await run;

        Assert.Equal((LinuxClientEnd.Died, 2L), (result.End, result.PagesSent));
        Assert.DoesNotContain(server.Drain(), r => r.Header.Code == LinuxReplyCode.Mem);
    }

    [Fact]
    public async Task A_silent_server_ends_the_dump_after_max_sends_intervals()
    {
        using var server = new LinuxFakeServer();
        var run = server.Run(new LinuxSimulatedClient(server.Options() with { ResendAfter = TimeSpan.FromMilliseconds(10), MaxSends = 50 }));
        await server.AckAsync();

        Assert.Equal(LinuxClientEnd.ServerSilent, (await run).End);
    }
}
