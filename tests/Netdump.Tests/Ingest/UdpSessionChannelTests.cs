using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Xunit.Abstractions;

using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Ingest;

/// <summary>A session channel over real loopback sockets, with a probe as its session actor.</summary>
public sealed class UdpSessionChannelTests(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(NetdumpSettings.BuiltInConfig(), output: output), IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-channel-").FullName;

    /// <summary>Every receive engine: the channel behaves alike on each.</summary>
    public static TheoryData<IngestEngine> Engines => new() { IngestEngine.Batched, IngestEngine.Managed, IngestEngine.Epoll };

    [Fact]
    public void The_batched_engine_runs_on_this_machine()
    {
        using var channel = new UdpSessionChannel(IPAddress.Loopback, Nobody, engine: IngestEngine.Batched);
        Assert.Equal(IngestEngine.Batched, channel.Engine);
    }

    [Fact]
    public void The_epoll_engine_runs_when_given_a_pump_and_falls_back_to_batched_without_one()
    {
        using (var shared = Channel(Nobody, IngestEngine.Epoll))
        {
            Assert.Equal(IngestEngine.Epoll, shared.Engine);
        }

        using var alone = new UdpSessionChannel(IPAddress.Loopback, Nobody, engine: IngestEngine.Epoll);
        Assert.Equal(IngestEngine.Batched, alone.Engine);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void Data_is_written_and_acked_to_its_client_and_no_other_source_reaches_the_session(IngestEngine engine)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20);
        using var client = Bound("127.0.0.30");
        using var otherPort = Bound("127.0.0.30");
        using var spoofer = Bound("127.0.0.31");
        using var channel = Channel(client, engine);
        channel.Start(core, TestActor.Tell);

        var payload = new byte[1448];
        new Random(5).NextBytes(payload);
        var heraldSent = DateTimeOffset.UtcNow;
        client.SendTo(Datagram(MessageType.Herald, 1, 0, []), channel.LocalEndpoint);
        var herald = ExpectMsg<PumpEvent.HeraldRetransmitted>();
        Assert.InRange(herald.ReceivedAt, heraldSent, DateTimeOffset.UtcNow);
        Assert.Null(channel.FirstDataAt); // a HERALD is no data

        spoofer.SendTo(Datagram(MessageType.Vmcore, 7, 0, payload), channel.LocalEndpoint);
        otherPort.SendTo(Datagram(MessageType.Vmcore, 9, 2896, payload), channel.LocalEndpoint);
        client.SendTo(Datagram(MessageType.Vmcore, 8, 1448, payload), channel.LocalEndpoint);

        Assert.Equal(8u, ReceiveAck(client));
        ExpectMsg<PumpEvent.FirstData>();
        Assert.InRange(channel.FirstDataAt!.Value, herald.ReceivedAt, DateTimeOffset.UtcNow);
        Assert.False(spoofer.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "another address was acked");
        Assert.Equal(0, otherPort.Available);
        Assert.Equal(new PumpCounters(Packets: 2, Dropped: 0), channel.Counters); // the HERALD and the data
        Assert.Equal([new ByteRange(1448, 2896)], core.Ranges());
        Assert.Equal(payload, File.ReadAllBytes(core.Path).AsSpan(1448).ToArray());
    }

    /// <summary>
    /// A connected socket reports an ICMP port-unreachable (an ack to a client port that was
    /// closed for a moment) as ECONNREFUSED on its next receive: the pump goes on, and the data
    /// that follows is written and acked.
    /// </summary>
    [Theory]
    [MemberData(nameof(Engines))]
    public void A_refused_ack_does_not_stop_the_pump(IngestEngine engine)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20);
        IPEndPoint clientEndpoint;
        using (var closed = Bound("127.0.0.36"))
        {
            clientEndpoint = (IPEndPoint)closed.LocalEndPoint!; // a port the client had, closed for a moment
        }

        using var channel = Channel(clientEndpoint, engine);
        channel.Start(core, TestActor.Tell);

        channel.SendAck(1); // to a closed port: the kernel answers port-unreachable
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 3000 };
        client.Bind(clientEndpoint);
        client.SendTo(Datagram(MessageType.Vmcore, 2, 0, new byte[1448]), channel.LocalEndpoint);

        Assert.Equal(2u, ReceiveAck(client));
        ExpectMsg<PumpEvent.FirstData>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // no Faulted
        Assert.Equal([new ByteRange(0, 1448)], core.Ranges());
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_malformed_datagram_is_dropped_and_reported_and_a_write_past_the_cap_is_refused(IngestEngine engine)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 4096);
        using var client = Bound("127.0.0.32");
        using var channel = Channel(client, engine);
        channel.Start(core, TestActor.Tell);

        var bad = Datagram(MessageType.Vmcore, 3, 0, new byte[100]);
        client.SendTo(bad.AsSpan(0, 50), channel.LocalEndpoint); // size differs from 24 + len
        Assert.Contains("24 + len", ExpectMsg<PumpEvent.Dropped>().Reason);

        client.SendTo(Datagram(MessageType.Vmcore, 4, ulong.MaxValue - 10, new byte[100]), channel.LocalEndpoint);
        ExpectMsg<PumpEvent.FirstData>();
        Assert.Contains("beyond max_dump_size", ExpectMsg<PumpEvent.WriteFailed>().Reason?.Text);
        Assert.Equal(0, new FileInfo(core.Path).Length);
        Assert.False(client.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "a refused write was acked");
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_write_error_mid_dump_stops_the_acks_and_tells_the_session_the_error(IngestEngine engine)
    {
        var disk = new Netdump.Tests.Storage.FaultyDisk { FailWritesFrom = 3000 };
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20, disk);
        using var client = Bound("127.0.0.33");
        using var channel = Channel(client, engine);
        channel.Start(core, TestActor.Tell);

        client.SendTo(Datagram(MessageType.Vmcore, 2, 0, new byte[1448]), channel.LocalEndpoint);
        Assert.Equal(2u, ReceiveAck(client));
        ExpectMsg<PumpEvent.FirstData>();
        client.SendTo(Datagram(MessageType.Vmcore, 3, 1448, new byte[1448]), channel.LocalEndpoint);
        Assert.Equal(3u, ReceiveAck(client));
        client.SendTo(Datagram(MessageType.Vmcore, 4, 2896, new byte[1448]), channel.LocalEndpoint);

        Assert.Equal("write error at offset 2896: Input/output error", ExpectMsg<PumpEvent.WriteFailed>().Reason?.Text);
        Assert.False(client.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "a failed write was acked");
        Assert.Equal([new ByteRange(0, 2896)], core.Ranges());
    }

    [Fact]
    public void At_finished_the_pump_thread_is_freed_for_the_next_dump_and_the_linger_pump_serves_the_client()
    {
        using var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        using var linger = new EpollPump();
        using var client = Bound("127.0.0.36");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-1"), 1 << 20);
        using var first = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null, threads, linger);
        first.Start(core, TestActor.Tell);
        var payload = new byte[1448];
        new Random(6).NextBytes(payload);
        client.SendTo(Datagram(MessageType.Vmcore, 1, 0, payload), first.LocalEndpoint);
        Assert.Equal(1u, ReceiveAck(client));
        ExpectMsg<PumpEvent.FirstData>();
        Assert.Equal(0, threads.Idle);

        client.SendTo(Datagram(MessageType.Finished, 2, 0, []), first.LocalEndpoint);
        Assert.Equal(MessageType.Finished, ExpectMsg<PumpEvent.ControlPacket>().Type);
        AwaitCondition(() => threads.Idle == 1); // the thread left the lingering session

        // lingering, in the linger pump: a retransmitted FINISHED still reaches the session and a
        // late duplicate of held data is still acked
        client.SendTo(Datagram(MessageType.Finished, 3, 0, []), first.LocalEndpoint);
        Assert.Equal(3u, ExpectMsg<PumpEvent.ControlPacket>().Sequence);
        client.SendTo(Datagram(MessageType.Vmcore, 4, 0, payload), first.LocalEndpoint);
        Assert.Equal(4u, ReceiveAck(client));
        // data it does not hold is dropped, and the session hears why
        client.SendTo(Datagram(MessageType.Vmcore, 6, 1 << 16, payload), first.LocalEndpoint);
        Assert.Contains("after FINISHED, which the dump does not hold", ExpectMsg<PumpEvent.Dropped>().Reason);

        // the next dump runs on the same thread
        using var nextClient = Bound("127.0.0.37");
        using var nextCore = CoreFile.Create(Path.Combine(_dir, "vmcore-2"), 1 << 20);
        using var next = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)nextClient.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null, threads, linger);
        next.Start(nextCore, TestActor.Tell);
        nextClient.SendTo(Datagram(MessageType.Vmcore, 5, 0, payload), next.LocalEndpoint);
        Assert.Equal(5u, ReceiveAck(nextClient));
        ExpectMsg<PumpEvent.FirstData>();
        Assert.Equal(0, threads.Idle); // it took the waiting thread (a new thread would have left that one waiting)

        first.Dispose();
        next.Dispose();
        Assert.Equal(payload, File.ReadAllBytes(core.Path));
        Assert.Equal(payload, File.ReadAllBytes(nextCore.Path));
    }

    [Fact]
    public void Sessions_beyond_one_per_core_share_the_epoll_pumps_and_are_acked_as_the_others()
    {
        // a crash storm: the first sessions each get a pump thread, the rest share the per-core pumps
        using var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        using var linger = new EpollPump();
        using var pumps = new EpollPumps(1);
        var channels = new List<UdpSessionChannel>();
        var clients = new List<Socket>();
        var cores = new List<CoreFile>();
        var payload = new byte[1448];
        new Random(7).NextBytes(payload);
        try
        {
            for (var i = 0; i <= UdpSessionChannel.DedicatedThreads; i++)
            {
                var client = Bound($"127.0.0.{150 + i}");
                var core = CoreFile.Create(Path.Combine(_dir, $"vmcore-storm-{i}"), 1 << 20);
                var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps, threads, linger);
                clients.Add(client);
                cores.Add(core);
                channels.Add(channel);
                channel.Start(core, TestActor.Tell);
                client.SendTo(Datagram(MessageType.Vmcore, (uint)(10 + i), 0, payload), channel.LocalEndpoint);
                Assert.Equal((uint)(10 + i), ReceiveAck(client));
                ExpectMsg<PumpEvent.FirstData>();

                // one thread per core, then the shared pump
                Assert.Equal(i < UdpSessionChannel.DedicatedThreads ? 0 : 1, pumps.Least().Count);
            }

            // the shared session pumps on: a second burst is written and acked
            var last = channels.Count - 1;
            clients[last].SendTo(Datagram(MessageType.Vmcore, 99, (ulong)payload.Length, payload), channels[last].LocalEndpoint);
            Assert.Equal(99u, ReceiveAck(clients[last]));
            channels.ForEach(c => c.Dispose());
            Assert.Equal(0, pumps.Least().Count); // unregistered when it closed
            Assert.Equal(payload.Concat(payload), File.ReadAllBytes(cores[last].Path));
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
            clients.ForEach(c => c.Dispose());
            cores.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public void Without_a_working_linger_pump_the_pump_thread_serves_the_lingering_client_itself()
    {
        using var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        var linger = new EpollPump();
        linger.Dispose(); // as a restarting listener leaves it
        using (var other = Bound("127.0.0.41"))
        using (var otherCore = CoreFile.Create(Path.Combine(_dir, "other"), 4096))
        {
            // its descriptor may be another's by now: it is never used again
            var refusal = Assert.Throws<IOException>(() => linger.Register(other, new SessionPacketHandler(otherCore, TestActor.Tell)));
            Assert.Equal("the pump is stopped", refusal.Message);
        }

        using var client = Bound("127.0.0.38");
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20);
        using var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null, threads, linger);
        channel.Start(core, TestActor.Tell);

        client.SendTo(Datagram(MessageType.Finished, 1, 0, []), channel.LocalEndpoint);
        ExpectMsg<PumpEvent.FirstData>(); // a FINISHED first is the dump's first packet after its HERALD
        Assert.Equal(1u, ExpectMsg<PumpEvent.ControlPacket>().Sequence);
        client.SendTo(Datagram(MessageType.Finished, 2, 0, []), channel.LocalEndpoint);
        Assert.Equal(2u, ExpectMsg<PumpEvent.ControlPacket>().Sequence);
        Assert.Equal(0, threads.Idle); // the thread stayed with its session

        channel.Dispose();
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void An_idle_epoll_pump_waits_without_a_timeout_and_stops_when_disposed()
    {
        var pump = new EpollPump();
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 4096);
        using var client = Bound("127.0.0.44");
        using var session = Bound("127.0.0.45");
        session.Connect(client.LocalEndPoint!);
        var registration = pump.Register(session, new SessionPacketHandler(core, TestActor.Tell));

        // one datagram through the pump: its thread has been through a wait and is in the next
        client.SendTo(Datagram(MessageType.Finished, 1, 0, []), session.LocalEndPoint!);
        ExpectMsg<PumpEvent.FirstData>();
        Assert.Equal(1u, ExpectMsg<PumpEvent.ControlPacket>().Sequence);
        pump.Unregister(registration);
        Assert.True(pump.Running);

        pump.Dispose(); // it waits in epoll_wait with no timeout: the eventfd wakes it

        Assert.False(pump.Running);
    }

    [Fact]
    public void A_socket_that_fails_in_the_epoll_pump_leaves_it_and_stops_waking_it()
    {
        using var pump = new EpollPump();
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 4096);
        // a listening TCP socket is readable once a connection waits, and recvmmsg on it fails (ENOTCONN)
        using var failing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        failing.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.39"), 0));
        failing.Listen();
        var registration = pump.Register(failing, new SessionPacketHandler(core, TestActor.Tell));
        using var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        connecting.Connect(failing.LocalEndPoint!);

        Assert.StartsWith("recvmmsg: ", ExpectMsg<PumpEvent.Faulted>().Reason);
        Assert.Equal(0, pump.Count); // out of the epoll set with its entry: still readable, it no longer wakes the pump
        pump.Unregister(registration); // as the session does later: harmless
    }

    [Fact]
    public void A_pump_stuck_in_a_write_keeps_its_socket_and_says_it_stopped_only_when_it_leaves()
    {
        var disk = new StuckDisk();
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20, disk);
        using var client = Bound("127.0.0.40");
        var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null);
        var port = channel.LocalEndpoint;
        channel.Start(core, TestActor.Tell);
        client.SendTo(Datagram(MessageType.Vmcore, 1, 0, new byte[1448]), port);
        Assert.True(disk.Entered.Wait(TimeSpan.FromSeconds(10)));
        Assert.False(client.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "acked before its bytes were written");

        using var stopped = new ManualResetEventSlim();
        channel.Stop(stopped.Set); // returns at once: the caller (an actor) is not held by the disk
        Assert.False(stopped.IsSet);

        // the pump still holds the descriptor: it stays open, so no other socket can reuse it
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.Throws<SocketException>(() => probe.Bind(port)).SocketErrorCode);
        disk.Release.Set();
        Assert.True(stopped.Wait(TimeSpan.FromSeconds(10)), "never told that the pump left");
        probe.Bind(port); // closed before the pump said so
    }

    [Fact]
    public void Stopping_a_pump_that_waits_for_data_wakes_it_and_says_so()
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 4096);
        using var client = Bound("127.0.0.41");
        var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null);
        channel.Start(core, TestActor.Tell);
        using var stopped = new ManualResetEventSlim();

        channel.Stop(stopped.Set);

        Assert.True(stopped.Wait(TimeSpan.FromSeconds(3)), "the pump slept on in its receive call"); // its receive timeout is 5 s
        channel.Stop(() => Assert.Fail("told twice"));
        channel.Dispose();
    }

    [Fact]
    public void A_channel_never_started_says_it_stopped_at_once()
    {
        using var client = Bound("127.0.0.42");
        var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, new SessionPorts(null), IngestEngine.Batched, pumps: null);
        var told = false;

        channel.Stop(() => told = true);

        Assert.True(told);
    }

    /// <summary>A disk whose vectored writes wait until released, like a hung disk.</summary>
    private sealed class StuckDisk : CoreDisk
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        internal override unsafe nint WriteVector(int fd, Netdump.Actors.Native.LinuxIo.IoVec* iov, int count, long offset)
        {
            Entered.Set();
            Release.Wait();
            return base.WriteVector(fd, iov, count, offset);
        }
    }

    [Fact]
    public void A_channel_can_be_disposed_twice_while_its_pump_runs()
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 4096);
        var channel = new UdpSessionChannel(IPAddress.Loopback, Nobody);
        channel.Start(core, TestActor.Tell);
        channel.Dispose();
        channel.Dispose(); // a session ends its dump with it, then disposes it again in PostStop
    }




    private EpollPumps? _pump;

    /// <summary>A client endpoint for channels that never hear one (connecting a UDP socket sends nothing).</summary>
    private static readonly IPEndPoint Nobody = new(IPAddress.Parse("127.0.0.34"), 9);

    /// <summary>A channel for the client's socket on the given engine; the epoll engine gets a pump of its own, as a listener would give it.</summary>
    private UdpSessionChannel Channel(Socket client, IngestEngine engine) => Channel((IPEndPoint)client.LocalEndPoint!, engine);

    private UdpSessionChannel Channel(IPEndPoint client, IngestEngine engine)
    {
        if (engine == IngestEngine.Epoll)
        {
            _pump ??= new EpollPumps(2);
        }

        return new UdpSessionChannel(IPAddress.Loopback, client, new SessionPorts(null), engine, _pump);
    }

    void IDisposable.Dispose()
    {
        _pump?.Dispose();
        Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
