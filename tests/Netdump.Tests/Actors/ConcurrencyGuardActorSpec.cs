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
/// The guard under the real listener (its parent and supervisor), with fake sessions that ask
/// for a slot the way a real session does and report the answer to a probe.
/// </summary>
public sealed class ConcurrencyGuardActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private const string TooMany = "Too many concurrent netdumps, ignoring dump from ";
    private readonly TestProbe _answers;
    private readonly NetdumpSettings _settings;

    public ConcurrencyGuardActorSpec(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _answers = CreateTestProbe();
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            Address = IPAddress.Loopback,
            Port = 0,
            MaxConcurrentDumps = 2,
            Secure = false,
        };
    }

    private sealed record Answer(IPAddress Client, object Reply, IActorRef Session);

    private sealed class Release
    {
        public static readonly Release Instance = new();
    }

    private sealed class SendData
    {
        public static readonly SendData Instance = new();
    }

    /// <summary>Asks for a slot at start, answers recounts truthfully, releases on request.</summary>
    private sealed class FakeSession : ReceiveActor
    {
        private bool _holding;

        public FakeSession(Herald herald, IActorRef guard, IActorRef? supersedes, IActorRef report)
        {
            guard.Tell(new ConcurrencyGuardActor.RequestSlot(herald.Client.Address, supersedes));
            Receive<ConcurrencyGuardActor.SlotGranted>(g =>
            {
                _holding = true;
                report.Tell(new Answer(herald.Client.Address, g, Self));
            });
            Receive<ConcurrencyGuardActor.SlotRefused>(r =>
            {
                report.Tell(new Answer(herald.Client.Address, r, Self));
                Context.Stop(Self); // as a real session does: the client gets silence
            });
            Receive<ConcurrencyGuardActor.ConfirmSlot>(_ => Sender.Tell(_holding
                ? new ConcurrencyGuardActor.SlotHeld(herald.Client.Address, Active: false)
                : ConcurrencyGuardActor.NoSlot.Instance));
            Receive<Release>(_ =>
            {
                _holding = false;
                guard.Tell(ConcurrencyGuardActor.ReleaseSlot.Instance);
            });
            Receive<SendData>(_ => guard.Tell(ConcurrencyGuardActor.SlotActive.Instance));
            Receive<Herald>(_ => { });
        }
    }

    private (IActorRef Listener, int Port) StartListener(NetdumpSettings? settings = null)
    {
        var report = _answers.Ref;
        var listener = Sys.ActorOf(UdpListenerActor.Props(settings ?? _settings,
            (herald, guard, supersedes, _) => Props.Create(() => new FakeSession(herald, guard, supersedes, report))), "listener");
        listener.Tell(UdpListenerActor.GetListenEndpoint.Instance, TestActor);
        return (listener, ExpectMsg<UdpListenerActor.ListenEndpoint>().Endpoint.Port);
    }

    private static void Herald(string from, int port)
    {
        var datagram = new byte[MessageHeader.Size];
        new MessageHeader(MessageType.Herald, 1, 0, 0, 0).Write(datagram);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        socket.SendTo(datagram, new IPEndPoint(IPAddress.Loopback, port));
    }

    private Answer HeraldAndAnswer(string from, int port)
    {
        Herald(from, port);
        return _answers.ExpectMsg<Answer>(a => a.Client.Equals(IPAddress.Parse(from)));
    }

    private IActorRef Guard()
    {
        Sys.ActorSelection("/user/listener/" + UdpListenerActor.GuardName).Tell(new Identify(null), TestActor);
        return ExpectMsg<ActorIdentity>().Subject!;
    }

    private IReadOnlyList<string> SlotHolders()
    {
        Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
        return ExpectMsg<ConcurrencyGuardActor.Slots>().Clients.Select(c => c.ToString()).Order().ToList();
    }

    [Fact]
    public void The_limit_is_exact_and_a_refused_client_is_logged_once_per_episode()
    {
        var (_, port) = StartListener();
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.51", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.52", port).Reply);

        var guard = Guard();
        EventFilter.Warning(TooMany + "127.0.0.53").Expect(1, () =>
        {
            Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.53", port).Reply);
            // its retransmitted HERALDs (each a new short-lived session) are refused again, without a new log line
            for (var i = 0; i < 3; i++)
            {
                guard.Tell(new ConcurrencyGuardActor.RequestSlot(IPAddress.Parse("127.0.0.53")), CreateTestProbe().Ref);
            }

            guard.Tell(new ConcurrencyGuardActor.RequestSlot(IPAddress.Parse("127.0.0.53")), TestActor);
            ExpectMsg<ConcurrencyGuardActor.SlotRefused>();
        });
        Assert.Equal(["127.0.0.51", "127.0.0.52"], SlotHolders());
    }

    [Fact]
    public void A_released_slot_and_the_slot_of_a_stopped_session_go_to_the_next_client()
    {
        var (_, port) = StartListener();
        var first = HeraldAndAnswer("127.0.0.61", port);
        var second = HeraldAndAnswer("127.0.0.62", port);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.63", port).Reply);

        first.Session.Tell(Release.Instance);
        AwaitAssert(() => Assert.Equal(["127.0.0.62"], SlotHolders()));
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.64", port).Reply);

        Sys.Stop(second.Session);
        AwaitAssert(() => Assert.Equal(["127.0.0.64"], SlotHolders()));
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.65", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.66", port).Reply);
    }

    [Fact]
    public void A_superseding_session_takes_over_the_slot_even_when_all_are_taken()
    {
        var (listener, port) = StartListener();
        var old = HeraldAndAnswer("127.0.0.71", port);
        HeraldAndAnswer("127.0.0.72", port);

        listener.Tell(new UdpListenerActor.Supersede(new Herald(1, new IPEndPoint(old.Client, 20024), IPAddress.Loopback, "", null, DateTimeOffset.UtcNow)), old.Session);
        var renewed = _answers.ExpectMsg<Answer>();
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(renewed.Reply);
        Assert.NotEqual(old.Session, renewed.Session);

        Assert.Equal(["127.0.0.71", "127.0.0.72"], SlotHolders());
    }

    [Fact]
    public void Sessions_that_sent_nothing_after_their_HERALD_are_capped_apart_from_the_concurrency_limit()
    {
        var (_, port) = StartListener(_settings with { MaxConcurrentDumps = 4, MaxSilentSessions = 2 });
        var first = HeraldAndAnswer("127.0.0.91", port);
        HeraldAndAnswer("127.0.0.92", port);

        EventFilter.Warning(start: "Too many sessions that sent nothing after their HERALD, ignoring dump from 127.0.0.93").Expect(1, () =>
            Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.93", port).Reply));

        first.Session.Tell(SendData.Instance); // a dump under way is no longer silent
        AwaitAssert(() =>
        {
            Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
            Assert.Equal(1, ExpectMsg<ConcurrencyGuardActor.Slots>().Silent);
        });
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.94", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.95", port).Reply);
    }

    [Fact]
    public void A_guard_that_crashes_mid_run_recounts_the_live_sessions_without_leaking_or_double_counting()
    {
        var (_, port) = StartListener();
        var first = HeraldAndAnswer("127.0.0.81", port);
        HeraldAndAnswer("127.0.0.82", port);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.83", port).Reply);

        var before = Guard();
        EventFilter.Warning(start: "Concurrency guard restarted").Expect(1, () => before.Tell(Kill.Instance));
        Assert.Equal(before, Guard()); // restarted in place, not replaced

        // still full after the restart: no slot was lost...
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.84", port).Reply);
        Assert.Equal(["127.0.0.81", "127.0.0.82"], SlotHolders());

        // ...and none counted twice: one release lets exactly one more in
        first.Session.Tell(Release.Instance);
        AwaitAssert(() => Assert.Equal(["127.0.0.82"], SlotHolders()));
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.85", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.86", port).Reply);
    }
}
