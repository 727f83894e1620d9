using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Xunit.Abstractions;

namespace Netdump.Tests.Actors;

/// <summary>
/// The listener with a real listen socket on loopback and probes standing in for sessions:
/// each spawned session is a forwarder that reports its HERALD and everything it is told.
/// </summary>
public sealed class UdpListenerActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private readonly TestProbe _spawned;
    private readonly NetdumpSettings _settings;

    public UdpListenerActorSpec(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _spawned = CreateTestProbe();
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with { Address = IPAddress.Any, Port = 0, LinuxPort = null };
    }

    /// <summary>What the fake session factory reports for each session it makes.</summary>
    private sealed record Spawned(Herald Herald, IActorRef? Supersedes, IActorRef Session);

    private sealed class FakeSession : ReceiveActor
    {
        public FakeSession(Herald herald, IActorRef? supersedes, IActorRef report)
        {
            report.Tell(new Spawned(herald, supersedes, Self));
            ReceiveAny(message => report.Tell(message));
        }
    }

    private (IActorRef Listener, IPEndPoint Endpoint) StartListener(NetdumpSettings? settings = null)
    {
        var report = _spawned.Ref;
        var listener = Sys.ActorOf(UdpListenerActor.Props(settings ?? _settings,
            (herald, _, supersedes, _, _) => Props.Create(() => new FakeSession(herald, supersedes, report))));
        listener.Tell(UdpListenerActor.GetListenEndpoint.Instance, TestActor);
        return (listener, ExpectMsg<UdpListenerActor.ListenEndpoint>().Endpoint);
    }

    private static void Send(string from, int port, MessageType type, uint seq, byte[]? payload = null, uint aux2 = 0, string to = "127.0.0.1")
    {
        payload ??= [];
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(type, seq, 0, (uint)payload.Length, aux2).Write(datagram);
        payload.CopyTo(datagram, MessageHeader.Size);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        socket.SendTo(datagram, new IPEndPoint(IPAddress.Parse(to), port));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 4)]
    [InlineData(64, 8)]
    public void The_listener_keeps_an_idle_pump_thread_per_concurrent_dump_up_to_eight(int concurrent, int kept)
    {
        Assert.Equal(kept, UdpListenerActor.IdlePumpThreadsKept(_settings with { MaxConcurrentDumps = concurrent }));
    }

    [Theory]
    [InlineData(4, 528)]
    [InlineData(1000, 4512)]
    [InlineData(int.MaxValue, int.MaxValue)] // no overflow
    public void A_storm_at_the_concurrency_limit_may_hold_two_descriptors_a_dump_and_a_lingering_socket_each_besides_the_servers_own(int concurrent, int descriptors)
    {
        Assert.Equal(descriptors, UdpListenerActor.StormDescriptors(_settings with { MaxConcurrentDumps = concurrent }));
    }

    [Fact]
    public void A_HERALD_from_a_new_client_spawns_a_session_that_knows_the_local_address_it_was_sent_to()
    {
        var (_, endpoint) = StartListener();
        Send("127.0.0.10", endpoint.Port, MessageType.Herald, 1, HeraldPayload.Encode("web"), to: "127.0.0.5");

        var spawned = _spawned.ExpectMsg<Spawned>();
        Assert.Equal(IPAddress.Parse("127.0.0.10"), spawned.Herald.Client.Address);
        Assert.Equal(IPAddress.Parse("127.0.0.5"), spawned.Herald.LocalAddress);
        Assert.Equal(1u, spawned.Herald.Sequence);
        Assert.Equal("web", spawned.Herald.RequestedPath);
        Assert.Null(spawned.Supersedes);
    }

    [Fact]
    public void A_retransmitted_HERALD_goes_to_the_existing_session()
    {
        var (_, endpoint) = StartListener();
        Send("127.0.0.11", endpoint.Port, MessageType.Herald, 1);
        var first = _spawned.ExpectMsg<Spawned>();
        Send("127.0.0.11", endpoint.Port, MessageType.Herald, 1);

        var forwarded = _spawned.ExpectMsg<Herald>();
        Assert.Equal(IPAddress.Parse("127.0.0.11"), forwarded.Client.Address);
        Assert.Equal(first.Session, _spawned.LastSender);
        _spawned.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_drain_starts_no_dump_tells_every_session_and_answers_once_the_last_has_stopped()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.14", endpoint.Port, MessageType.Herald, 1);
        var session = _spawned.ExpectMsg<Spawned>().Session;

        listener.Tell(UdpListenerActor.Drain.Instance, TestActor);
        _spawned.ExpectMsg<ClientSessionActor.ServerShuttingDown>();
        Herald Of(string client) => new(1, new IPEndPoint(IPAddress.Parse(client), 5000), IPAddress.Loopback, "", null, DateTimeOffset.UtcNow);
        listener.Tell(Of("127.0.0.15"));  // a new client: no dump while the server stops
        listener.Tell(Of("127.0.0.14"));  // the ending session's client: its session hears it
        Assert.Equal(IPAddress.Parse("127.0.0.14"), _spawned.ExpectMsg<Herald>().Client.Address);
        // a session that took its client's HERALD for a new dump just before it heard of the stop:
        // no new session, which would never be told of the shutdown
        EventFilter.Info(contains: "new HERALD while the server stops").ExpectOne(() =>
            listener.Tell(new UdpListenerActor.Supersede(Of("127.0.0.14")), session));
        _spawned.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        ExpectNoMsg(TimeSpan.Zero); // not drained while a session lives

        Sys.Stop(session);
        ExpectMsg<UdpListenerActor.Drained>();
    }

    [Fact]
    public void Each_client_IP_gets_its_own_session()
    {
        var (_, endpoint) = StartListener();
        Send("127.0.0.12", endpoint.Port, MessageType.Herald, 1);
        Send("127.0.0.13", endpoint.Port, MessageType.Herald, 1);

        var clients = new[] { _spawned.ExpectMsg<Spawned>(), _spawned.ExpectMsg<Spawned>() }
            .Select(s => s.Herald.Client.Address.ToString()).Order().ToArray();
        Assert.Equal(["127.0.0.12", "127.0.0.13"], clients);
    }

    [Fact]
    public void Datagrams_that_are_not_a_usable_HERALD_spawn_nothing()
    {
        var (_, endpoint) = StartListener();
        Send("127.0.0.14", endpoint.Port, MessageType.Herald, 1, aux2: 0x2515f095); // netgdb
        Send("127.0.0.14", endpoint.Port, MessageType.Vmcore, 2, new byte[16]);
        Send("127.0.0.14", endpoint.Port, MessageType.Kdh, 3, new byte[KernelDumpHeader.Size]);
        Send("127.0.0.14", endpoint.Port, MessageType.EkcdKey, 4, new byte[64]);
        Send("127.0.0.14", endpoint.Port, MessageType.Finished, 5);
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            socket.SendTo(new byte[10], new IPEndPoint(IPAddress.Loopback, endpoint.Port)); // too short
        }

        // the control: a usable HERALD from the same client, sent last, is the first thing spawned
        Send("127.0.0.14", endpoint.Port, MessageType.Herald, 99);
        Assert.Equal(99u, _spawned.ExpectMsg<Spawned>().Herald.Sequence);
        _spawned.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_HERALD_of_the_largest_UDP_size_is_received_and_its_over_long_path_reported()
    {
        var (_, endpoint) = StartListener();
        var payload = new byte[65507 - MessageHeader.Size];
        payload.AsSpan().Fill((byte)'a');
        payload[^1] = 0;
        Send("127.0.0.15", endpoint.Port, MessageType.Herald, 1, payload);

        var spawned = _spawned.ExpectMsg<Spawned>();
        Assert.Equal("", spawned.Herald.RequestedPath);
        Assert.Contains("exceeds", spawned.Herald.PathProblem);
    }

    [Fact]
    public void A_supersede_request_from_the_current_session_spawns_a_new_session_that_supersedes_it()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.16", endpoint.Port, MessageType.Herald, 1);
        var old = _spawned.ExpectMsg<Spawned>();

        listener.Tell(new UdpListenerActor.Supersede(old.Herald with { Sequence = 1 }), old.Session);
        var renewed = _spawned.ExpectMsg<Spawned>();
        Assert.Equal(old.Session, renewed.Supersedes);

        // later HERALDs go to the new session
        Send("127.0.0.16", endpoint.Port, MessageType.Herald, 1);
        _spawned.ExpectMsg<Herald>();
        Assert.Equal(renewed.Session, _spawned.LastSender);
    }

    [Fact]
    public void A_supersede_request_from_a_session_that_is_no_longer_current_is_ignored()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.17", endpoint.Port, MessageType.Herald, 1);
        var old = _spawned.ExpectMsg<Spawned>();
        listener.Tell(new UdpListenerActor.Supersede(old.Herald), old.Session);
        _spawned.ExpectMsg<Spawned>();

        listener.Tell(new UdpListenerActor.Supersede(old.Herald), old.Session);
        _spawned.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void When_a_superseding_session_ends_before_its_ack_the_clients_HERALDs_go_to_the_dump_still_receiving_again()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.19", endpoint.Port, MessageType.Herald, 1);
        var old = _spawned.ExpectMsg<Spawned>();
        listener.Tell(new UdpListenerActor.Supersede(old.Herald with { Sequence = 1 }), old.Session);
        var renewed = _spawned.ExpectMsg<Spawned>();
        Watch(renewed.Session);
        listener.Tell(new UdpListenerActor.ReceivingEnded(renewed.Herald.Client.Address), renewed.Session);
        Sys.Stop(renewed.Session); // its netdump-crash refused, before its ack
        ExpectTerminated(renewed.Session);

        listener.Tell(new UdpListenerActor.StillReceiving(old.Herald.Client.Address, renewed.Session), old.Session);

        // the next HERALD goes to the old dump (which asks to be superseded), not to a new session beside it
        Send("127.0.0.19", endpoint.Port, MessageType.Herald, 1);
        _spawned.ExpectMsg<Herald>();
        Assert.Equal(old.Session, _spawned.LastSender);
        _spawned.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_dump_still_receiving_does_not_take_its_clients_address_back_from_a_newer_session()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.20", endpoint.Port, MessageType.Herald, 1);
        var old = _spawned.ExpectMsg<Spawned>();
        listener.Tell(new UdpListenerActor.Supersede(old.Herald with { Sequence = 1 }), old.Session);
        var renewed = _spawned.ExpectMsg<Spawned>();
        listener.Tell(new UdpListenerActor.ReceivingEnded(renewed.Herald.Client.Address), renewed.Session);
        Send("127.0.0.20", endpoint.Port, MessageType.Herald, 1); // a HERALD came in between
        var newest = _spawned.ExpectMsg<Spawned>();

        listener.Tell(new UdpListenerActor.StillReceiving(old.Herald.Client.Address, renewed.Session), old.Session);

        Send("127.0.0.20", endpoint.Port, MessageType.Herald, 1);
        _spawned.ExpectMsg<Herald>();
        Assert.Equal(newest.Session, _spawned.LastSender);
    }

    [Fact]
    public void After_a_session_stops_receiving_a_new_HERALD_starts_a_new_session()
    {
        var (listener, endpoint) = StartListener();
        Send("127.0.0.18", endpoint.Port, MessageType.Herald, 1);
        var first = _spawned.ExpectMsg<Spawned>();
        listener.Tell(new UdpListenerActor.ReceivingEnded(first.Herald.Client.Address), first.Session);

        Send("127.0.0.18", endpoint.Port, MessageType.Herald, 1);
        var second = _spawned.ExpectMsg<Spawned>();
        Assert.NotEqual(first.Session, second.Session);
        Assert.Null(second.Supersedes);
    }

    [Fact]
    public void A_port_in_use_is_reported_as_a_bind_failure()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var listener = Sys.ActorOf(UdpListenerActor.Props(_settings with { Address = IPAddress.Loopback, Port = port },
            (_, _, _, _, _) => Props.Empty));

        listener.Tell(UdpListenerActor.GetListenEndpoint.Instance, TestActor);
        var reply = ExpectMsg<UdpListenerActor.BindFailed>();
        Assert.Contains(port.ToString(), reply.Reason);
    }
}
