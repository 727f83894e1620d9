using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>Linux clients (SPEC §7): clients that fail or lie: lost, repeated and reordered replies, a client that dies or answers wrongly, garbage and spoofed packets.</summary>
public sealed partial class LinuxDumpTests
{
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
}
