using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Netdump.Actors.Ingest;
using Netdump.Actors.Ingest.Linux;
using Netdump.Actors.Native;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;

using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Ingest;

/// <summary>The Linux port's datagrams in and out (both ways of doing it), and a pull's packet path without allocations.</summary>
public sealed class LinuxPortIoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-linux-io-").FullName;

    /// <summary>recvmmsg/sendmmsg, and the managed fallback used where they are not supported.</summary>
    public static TheoryData<bool> Ways => new() { true, false };

    [Fact]
    public void Batches_are_supported_on_this_machine() => Assert.True(LinuxIo.Supported);

    [Theory]
    [MemberData(nameof(Ways))]
    public void Datagrams_come_with_their_sources_and_requests_go_to_theirs(bool batched)
    {
        using var server = Bound("127.0.0.1");
        server.ReceiveTimeout = 50;
        using var io = new LinuxPortIo(server, batched);
        using var a = Bound("127.0.0.2");
        using var b = Bound("127.0.0.3");
        var to = server.LocalEndPoint!;
        a.SendTo(new byte[] { 1 }, to);
        b.SendTo(new byte[] { 2, 2 }, to);
        a.SendTo(new byte[] { 3, 3, 3 }, to);

        var got = new List<string>();
        while (got.Count < 3)
        {
            var count = io.Receive();
            Assert.True(count > 0, "a datagram waits");
            for (var i = 0; i < count; i++)
            {
                Assert.True(io.TryGet(i, out var from, out var datagram));
                got.Add($"{from.ToEndPoint()} {Convert.ToHexString(datagram)}");
            }
        }

        Assert.Equal([$"{a.LocalEndPoint} 01", $"{b.LocalEndPoint} 0202", $"{a.LocalEndPoint} 030303"], got);
        Assert.Equal(0, io.Receive()); // nothing waits: the timeout

        io.Queue(Peer.Of((IPEndPoint)a.LocalEndPoint!), new LinuxRequest(7, 1, LinuxCommand.SendMem, 10));
        io.Queue(Peer.Of((IPEndPoint)b.LocalEndPoint!), new LinuxRequest(7, 2, LinuxCommand.GetRegs, 0));
        Assert.Equal(0, b.Available); // queued, not sent
        io.Flush();
        Assert.Equal(new LinuxRequest(7, 1, LinuxCommand.SendMem, 10), ReceiveRequest(a));
        Assert.Equal(new LinuxRequest(7, 2, LinuxCommand.GetRegs, 0), ReceiveRequest(b));
    }

    [Theory]
    [MemberData(nameof(Ways))]
    public void A_datagram_longer_than_any_reply_is_told_apart(bool batched)
    {
        using var server = Bound("127.0.0.1");
        using var io = new LinuxPortIo(server, batched);
        using var client = Bound("127.0.0.2");
        client.SendTo(new byte[3000], server.LocalEndPoint!);
        client.SendTo(new byte[LinuxReplyHeader.Size + LinuxReplyHeader.MaxPayload], server.LocalEndPoint!);

        var verdicts = new List<bool>();
        while (verdicts.Count < 2)
        {
            var count = io.Receive();
            Assert.True(count > 0, "a datagram waits");
            for (var i = 0; i < count; i++)
            {
                verdicts.Add(io.TryGet(i, out var from, out _));
                Assert.Equal(client.LocalEndPoint, from.ToEndPoint());
            }
        }

        Assert.Equal([false, true], verdicts);
    }

    /// <summary>
    /// A reply that carries an outstanding request's sequence but makes no progress (a code that
    /// does not answer it, or a chunk that came already while SEND_MEM was sent once) is no sign
    /// of life, and is reported once a dump for each kind, naming the request.
    /// </summary>
    [Fact]
    public void Replies_that_make_no_progress_are_reported_once_each_and_are_no_sign_of_life()
    {
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.8");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-noprogress"), ulong.MaxValue);
        var events = new System.Collections.Concurrent.ConcurrentQueue<object>();
        var pull = Described(port, client, core, events.Enqueue, 16u);
        pull.PullMemory(4096);
        var request = ReceiveRequest(client);
        var chunk = new byte[LinuxReplyHeader.MemChunk];
        chunk.AsSpan().Fill(9);
        pull.Handle(new LinuxReplyHeader(5, request.Sequence, LinuxReplyCode.Mem, 0), chunk); // progress
        var lastHeard = pull.LastPacketTicks;
        Assert.True(SpinWait.SpinUntil(() => Environment.TickCount64 > lastHeard, TimeSpan.FromSeconds(5)));

        for (var i = 0; i < 3; i++)
        {
            pull.Handle(new LinuxReplyHeader(5, request.Sequence, LinuxReplyCode.PageSize, 4096), []); // not an answer to SEND_MEM
            pull.Handle(new LinuxReplyHeader(5, request.Sequence, LinuxReplyCode.Mem, 0), chunk); // the same chunk again
        }

        Assert.Equal(lastHeard, pull.LastPacketTicks);
        var reported = events.OfType<PumpEvent.Dropped>().Select(d => d.Reason).ToList();
        Assert.Equal(2, reported.Count);
        Assert.Contains(reported, r => r.StartsWith("PageSize does not answer SendMem", StringComparison.Ordinal));
        Assert.Contains(reported, r => r.StartsWith($"Mem at offset 0 of frame {request.From} came again, SEND_MEM having been sent once", StringComparison.Ordinal));
        pull.Stop();
    }

    /// <summary>
    /// SPEC §7: the free-space check, then SEND_MEM. A pull whose room is awaited (netdump-nospace
    /// deciding) asks for no page until it is resumed, as after a page that found no room.
    /// </summary>
    [Fact]
    public void A_pull_whose_room_is_awaited_asks_for_no_page_until_it_is_resumed()
    {
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.7");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-awaited"), ulong.MaxValue);
        var pull = Described(port, client, core, _ => { }, 16u);

        pull.PullMemory(4096, roomAwaited: true);

        Assert.Equal(0, client.Available); // a SEND_MEM on loopback would be in the socket already
        pull.ResumeWrites();
        Assert.Equal(LinuxCommand.SendMem, ReceiveRequest(client).Command);
        pull.Stop();
    }

    /// <summary>
    /// A pull that ran out of room asks nothing while netdump-nospace decides: when there is room
    /// again, the client's silence counts from then, not from its last answer before.
    /// </summary>
    [Fact]
    public void A_clients_silence_counts_again_from_the_pulls_resumption_after_a_shortage()
    {
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.5");
        ulong free = 0; // no room: the first page written finds none
        var space = new DiskSpace(_dir, reserve: 0, _ => Volatile.Read(ref free));
        using var account = space.Open();
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-shortage"), ulong.MaxValue, space: account);
        var events = new System.Collections.Concurrent.ConcurrentQueue<object>();
        var pull = Described(port, client, core, events.Enqueue, 16u);

        pull.PullMemory(4096);
        var request = ReceiveRequest(client);
        Assert.Equal(LinuxCommand.SendMem, request.Command);
        var chunk = new byte[LinuxReplyHeader.MemChunk];
        chunk.AsSpan().Fill(7);
        for (uint offset = 0; offset < 4096; offset += LinuxReplyHeader.MemChunk)
        {
            pull.Handle(new LinuxReplyHeader(5, request.Sequence, LinuxReplyCode.Mem, offset), chunk);
        }

        Assert.Contains(events, e => e is PumpEvent.OutOfRoom);
        Volatile.Write(ref free, 1UL << 30);
        AssertSilenceCountsAfresh(pull, pull.ResumeWrites, "the answer before the shortage");
        pull.Stop();
    }

    /// <summary>
    /// A client is asked nothing between its last query's answer and the pull (the header written,
    /// netdump-nospace deciding, which may take longer than session_timeout): its silence counts
    /// from the first SEND_MEM. Once it counted from the GET_REGS answer, and a dump whose
    /// netdump-nospace found room could time out before its client had been asked for a page.
    /// </summary>
    [Fact]
    public void A_clients_silence_counts_from_the_pulls_first_question_not_from_its_last_answer_before()
    {
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.6");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-silence"), ulong.MaxValue);
        var pull = Described(port, client, core, _ => { }, 16u);

        AssertSilenceCountsAfresh(pull, () => pull.PullMemory(4096), "the last query's answer");
        Assert.Equal(LinuxCommand.SendMem, ReceiveRequest(client).Command);
        pull.Stop();
    }

    /// <summary>
    /// The port's thread's work for a page, played on the test thread: four REPLY_MEM chunks
    /// into the pull, the page written, the next SEND_MEM sent. Once the window's requests and
    /// their page buffers exist (made once, then reused) it allocates nothing.
    /// </summary>
    [Fact]
    public void Pulling_pages_allocates_nothing_per_page()
    {
        const uint pages = 2048;
        const byte version = 5;
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.2");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore"), ulong.MaxValue);
        var pull = Described(port, client, core, _ => { }, pages);

        pull.PullMemory(4096);
        var buffer = new byte[LinuxRequest.Size];
        var chunk = new byte[LinuxReplyHeader.MemChunk];
        long before = 0, allocated = 0;
        var wrong = 0;
        for (var answered = 0; answered < pages; answered++)
        {
            // measured from the 512th page to the 1536th: not the first use of everything, nor
            // the end, where the window empties and its requests pile up for reuse
            if (answered == 512)
            {
                before = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (answered == 1536)
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }

            var length = client.Receive(buffer);
            if (!LinuxRequest.TryRead(buffer.AsSpan(0, length), out var request) || request.Command != LinuxCommand.SendMem)
            {
                wrong++; // counted, not asserted: an assertion allocates
                continue;
            }

            chunk.AsSpan().Fill((byte)(request.From | 1)); // never a page of zeros: it is written
            for (uint offset = 0; offset < 4096; offset += LinuxReplyHeader.MemChunk)
            {
                pull.Handle(new LinuxReplyHeader(version, request.Sequence, LinuxReplyCode.Mem, offset), chunk);
            }
        }

        Assert.Equal(0, wrong);
        Assert.Equal(0, allocated);
        Assert.True(core.Covers(4096, 4096 + (ulong)pages * 4096));
        pull.Stop();
    }

    /// <summary>
    /// A pull that stopped on a failed write has pages in its core: it is not an empty dump that
    /// a silent timeout, a yield or a supersede may remove with its directory.
    /// </summary>
    [Fact]
    public void A_pull_stopped_by_a_failed_write_after_answers_is_not_empty()
    {
        const byte version = 5;
        using var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        using var client = Bound("127.0.0.3");
        var disk = new FaultyDisk { FailWritesFrom = 4096 + 4096 }; // the header's page and frame 0 fit
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-failing"), ulong.MaxValue, disk);
        var events = new System.Collections.Concurrent.ConcurrentQueue<object>();
        var pull = Described(port, client, core, events.Enqueue, 64u);

        pull.PullMemory(4096);
        var chunk = Enumerable.Repeat((byte)0x5a, (int)LinuxReplyHeader.MemChunk).ToArray();
        while (!events.OfType<PumpEvent.WriteFailed>().Any())
        {
            var request = ReceiveRequest(client);
            for (uint offset = 0; offset < 4096; offset += LinuxReplyHeader.MemChunk)
            {
                pull.Handle(new LinuxReplyHeader(version, request.Sequence, LinuxReplyCode.Mem, offset), chunk);
            }
        }

        Assert.False(pull.TryRetire());
        pull.Stop();
    }

    /// <summary>A pull of <paramref name="pages"/> 4 KiB pages that has its START acked and its three questions answered: ready for <c>PullMemory</c>.</summary>
    private static LinuxPull Described(LinuxPort port, Socket client, CoreFile core, ControlEvents events, uint pages)
    {
        var pull = new LinuxPull(port, (IPEndPoint)client.LocalEndPoint!, new LinuxStart(ElfMachine.X86_64, 5, 0, 0, 7));
        pull.Start(core, events);
        pull.Ack(1);
        Assert.Equal(LinuxCommand.StartNetdumpAck, ReceiveRequest(client).Command);
        for (var i = 0; i < 3; i++)
        {
            var query = ReceiveRequest(client);
            var (code, info) = query.Command switch
            {
                LinuxCommand.GetNrPages => (LinuxReplyCode.NrPages, pages),
                LinuxCommand.GetPageSize => (LinuxReplyCode.PageSize, 4096u),
                _ => (LinuxReplyCode.Regs, 0u),
            };
            pull.Handle(new LinuxReplyHeader(5, query.Sequence, code, info), []);
        }

        return pull;
    }

    /// <summary>Once the pull's last sign of life is over 50 ms old, <paramref name="act"/> must restart the count of its client's silence.</summary>
    private static void AssertSilenceCountsAfresh(LinuxPull pull, Action act, string lastHeard)
    {
        var before = pull.LastPacketTicks;
        Assert.True(SpinWait.SpinUntil(() => Environment.TickCount64 > before + 50, TimeSpan.FromSeconds(5)));

        act();

        Assert.True(pull.LastPacketTicks > before + 50, $"the silence still counts from {lastHeard}");
    }

    private static LinuxRequest ReceiveRequest(Socket socket)
    {
        var buffer = new byte[64];
        var length = socket.Receive(buffer);
        Assert.True(LinuxRequest.TryRead(buffer.AsSpan(0, length), out var request));
        return request;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
