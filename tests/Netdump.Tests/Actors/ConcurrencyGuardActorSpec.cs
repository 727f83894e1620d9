using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Metrics;
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
            LinuxPort = null,
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

    /// <summary>Data reached the session's pump, but the session has not told the guard yet.</summary>
    private sealed class DataInFlight
    {
        public static readonly DataInFlight Instance = new();
    }

    /// <summary>
    /// The session's first data comes as a recounting guard asks it: the pump's word (SlotActive)
    /// reaches the guard before the session's answer, which says no data yet.
    /// </summary>
    private sealed class DataDuringRecount
    {
        public static readonly DataDuringRecount Instance = new();
    }

    /// <summary>The session stops answering the guard's requests to yield (a session too busy to answer).</summary>
    private sealed class Unresponsive
    {
        public static readonly Unresponsive Instance = new();
    }

    /// <summary>The session acks its HERALD (from now on it is silent until data comes).</summary>
    private sealed class AckHerald
    {
        public static readonly AckHerald Instance = new();
    }

    /// <summary>
    /// Asks for a slot at start, answers recounts truthfully, releases on request; asked to yield,
    /// gives the slot up (and stops, as a real session removes its empty dump) unless it had data.
    /// </summary>
    private sealed class FakeSession : ReceiveActor
    {
        private bool _holding;
        private bool _data;
        private bool _unresponsive;
        private bool _dataDuringRecount;

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
            Receive<ConcurrencyGuardActor.ConfirmSlot>(_ =>
            {
                if (_holding && _dataDuringRecount)
                {
                    _data = true;
                    guard.Tell(ConcurrencyGuardActor.SlotActive.Instance);
                    Sender.Tell(new ConcurrencyGuardActor.SlotHeld(herald.Client.Address, Active: false, Acked: true));
                    return;
                }

                Sender.Tell(_holding
                    ? new ConcurrencyGuardActor.SlotHeld(herald.Client.Address, Active: false)
                    : ConcurrencyGuardActor.NoSlot.Instance);
            });
            Receive<DataDuringRecount>(_ => _dataDuringRecount = true);
            Receive<Release>(_ =>
            {
                _holding = false;
                guard.Tell(ConcurrencyGuardActor.ReleaseSlot.Instance);
            });
            Receive<SendData>(_ =>
            {
                _data = true;
                guard.Tell(ConcurrencyGuardActor.SlotActive.Instance);
            });
            Receive<DataInFlight>(_ => _data = true);
            Receive<Unresponsive>(_ => _unresponsive = true);
            Receive<AckHerald>(a =>
            {
                guard.Tell(ConcurrencyGuardActor.SlotAcked.Instance);
                report.Tell(new Answer(herald.Client.Address, a, Self)); // the guard has it in its mailbox by now
            });
            Receive<ConcurrencyGuardActor.YieldSlot>(y =>
            {
                report.Tell(new Answer(herald.Client.Address, y, Self));
                if (_unresponsive)
                {
                    return;
                }

                if (_data)
                {
                    Sender.Tell(ConcurrencyGuardActor.SlotKept.Instance);
                    return;
                }

                _holding = false;
                Sender.Tell(ConcurrencyGuardActor.SlotYielded.Instance);
                Context.Stop(Self);
            });
            Receive<Herald>(_ => { });
        }
    }

    private (IActorRef Listener, int Port) StartListener(NetdumpSettings? settings = null)
    {
        var report = _answers.Ref;
        var listener = Sys.ActorOf(UdpListenerActor.Props(settings ?? _settings,
            (herald, guard, supersedes, _, _) => Props.Create(() => new FakeSession(herald, guard, supersedes, report))), "listener");
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

    /// <summary>The session acks its HERALD; returns once the guard has been told.</summary>
    private void Ack(Answer session)
    {
        session.Session.Tell(AckHerald.Instance);
        _answers.ExpectMsg<Answer>(a => a.Reply is AckHerald && a.Session.Equals(session.Session));
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
    public void A_superseding_session_that_ends_before_its_ack_gives_the_slot_back_so_the_limit_stays_exact()
    {
        var (listener, port) = StartListener(_settings with { MaxConcurrentDumps = 1 });
        var old = HeraldAndAnswer("127.0.0.73", port);
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(old.Reply);
        old.Session.Tell(SendData.Instance); // the old dump is under way

        listener.Tell(new UdpListenerActor.Supersede(new Herald(1, new IPEndPoint(old.Client, 20024), IPAddress.Loopback, "", null, DateTimeOffset.UtcNow)), old.Session);
        var renewed = _answers.ExpectMsg<Answer>();
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(renewed.Reply);
        // the new dump's netdump-crash refuses it before its HERALD is acked: the old dump, never
        // told it was superseded, is still receiving, and holds the slot again
        Guard().Tell(new ConcurrencyGuardActor.SlotUnusable(old.Client, RefusalReason.CrashScript, "netdump-crash exited with 1"), renewed.Session);
        Assert.Equal(["127.0.0.73"], SlotHolders());

        var other = HeraldAndAnswer("127.0.0.74", port);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(other.Reply); // one dump at most, as the limit says

        Sys.Stop(old.Session); // and the slot it holds again goes when it stops
        AwaitAssert(() => Assert.Empty(SlotHolders()));
    }

    [Fact]
    public void A_superseded_dump_that_ended_meanwhile_does_not_get_the_slot_back()
    {
        var (listener, port) = StartListener(_settings with { MaxConcurrentDumps = 1 });
        var old = HeraldAndAnswer("127.0.0.75", port);
        old.Session.Tell(SendData.Instance);
        listener.Tell(new UdpListenerActor.Supersede(new Herald(1, new IPEndPoint(old.Client, 20024), IPAddress.Loopback, "", null, DateTimeOffset.UtcNow)), old.Session);
        var renewed = _answers.ExpectMsg<Answer>();
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(renewed.Reply);

        old.Session.Tell(Release.Instance); // the old dump ends (a timeout) before the new one is acked
        Assert.Equal(["127.0.0.75"], SlotHolders()); // the new one's slot
        Guard().Tell(new ConcurrencyGuardActor.SlotUnusable(old.Client, RefusalReason.CrashScript, "netdump-crash exited with 1"), renewed.Session);

        Assert.Empty(SlotHolders()); // nobody's: the old dump is over
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.76", port).Reply);
    }

    [Fact]
    public void Sessions_silent_past_their_grace_are_capped_apart_from_the_concurrency_limit()
    {
        var (_, port) = StartListener(_settings with { MaxConcurrentDumps = 4, MaxSilentSessions = 2, SilentGrace = TimeSpan.Zero });
        var first = HeraldAndAnswer("127.0.0.91", port);
        var second = HeraldAndAnswer("127.0.0.92", port);
        Ack(first);
        Ack(second);
        Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
        Assert.Equal(2, ExpectMsg<ConcurrencyGuardActor.Slots>().Silent);

        // two slots are free, but two sessions are silent: the next client waits for one to give way
        Herald("127.0.0.93", port);
        var asked = _answers.ExpectMsg<Answer>();
        Assert.Equal(first.Session, asked.Session);
        Assert.IsType<ConcurrencyGuardActor.YieldSlot>(asked.Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(_answers.ExpectMsg<Answer>(a => a.Client.Equals(IPAddress.Parse("127.0.0.93"))).Reply);

        second.Session.Tell(SendData.Instance); // a dump under way is no longer silent
        AwaitAssert(() =>
        {
            Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
            Assert.Equal(0, ExpectMsg<ConcurrencyGuardActor.Slots>().Silent); // 127.0.0.93 was not acked yet
        });
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.94", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(HeraldAndAnswer("127.0.0.95", port).Reply);
        Assert.IsType<ConcurrencyGuardActor.SlotRefused>(HeraldAndAnswer("127.0.0.96", port).Reply); // 4 of 4, none silent
    }

    [Fact]
    public void Sessions_still_starting_are_not_silent_so_a_crash_storm_starts_at_once()
    {
        // every client of a storm sends its HERALD at the same moment, and each one's data
        // follows its own ack: none of them is silent before its grace is over
        var (_, port) = StartListener(_settings with { MaxConcurrentDumps = 6, MaxSilentSessions = 2, SilentGrace = TimeSpan.FromMinutes(1) });
        var sessions = Enumerable.Range(1, 6).Select(i => HeraldAndAnswer($"127.0.0.{200 + i}", port)).ToList();
        Assert.All(sessions, s => Assert.IsType<ConcurrencyGuardActor.SlotGranted>(s.Reply));
        sessions.ForEach(Ack);
        Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
        var slots = ExpectMsg<ConcurrencyGuardActor.Slots>();
        Assert.Equal(6, slots.Clients.Count);
        Assert.Equal(0, slots.Silent);
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

    [Fact]
    public void A_sessions_first_data_told_to_a_recounting_guard_before_its_answer_counts_it_as_active()
    {
        var (_, port) = StartListener(_settings with { SilentGrace = TimeSpan.Zero });
        var session = HeraldAndAnswer("127.0.0.121", port);
        Ack(session);
        session.Session.Tell(DataDuringRecount.Instance);

        var guard = Guard();
        EventFilter.Warning(start: "Concurrency guard restarted").Expect(1, () => guard.Tell(Kill.Instance));

        // with no grace, a holder that is not active is silent at once
        AwaitAssert(() =>
        {
            Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
            var slots = ExpectMsg<ConcurrencyGuardActor.Slots>();
            Assert.Equal(["127.0.0.121"], slots.Clients.Select(c => c.ToString()));
            Assert.Equal(0, slots.Silent);
        });
    }

    [Fact]
    public void A_silent_session_acked_longest_ago_yields_its_slot_to_a_waiting_client_once_its_grace_is_over()
    {
        var (_, port) = StartListener(_settings with { SilentGrace = TimeSpan.FromMilliseconds(300) });
        var first = HeraldAndAnswer("127.0.0.101", port);
        var second = HeraldAndAnswer("127.0.0.102", port);
        Ack(first);
        Ack(second);

        Herald("127.0.0.103", port); // waits in line: nothing answers it at once
        _answers.ExpectNoMsg(TimeSpan.FromMilliseconds(150));

        // the grace over, the first acked is asked, yields, and the waiting client gets its slot
        var asked = _answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(3));
        Assert.Equal(first.Session, asked.Session);
        Assert.IsType<ConcurrencyGuardActor.YieldSlot>(asked.Reply);
        var granted = _answers.ExpectMsg<Answer>();
        Assert.Equal(IPAddress.Parse("127.0.0.103"), granted.Client);
        Assert.IsType<ConcurrencyGuardActor.SlotGranted>(granted.Reply);
        Assert.Equal(["127.0.0.102", "127.0.0.103"], SlotHolders());
    }

    [Fact]
    public void A_silent_session_whose_data_arrived_keeps_its_slot_and_the_next_silent_one_is_asked()
    {
        var (_, port) = StartListener(_settings with { SilentGrace = TimeSpan.FromMilliseconds(100) });
        var first = HeraldAndAnswer("127.0.0.111", port);
        var second = HeraldAndAnswer("127.0.0.112", port);
        Ack(first);
        Ack(second);
        first.Session.Tell(DataInFlight.Instance); // the guard still takes it for silent: it asks it first
        Herald("127.0.0.113", port);

        var answers = new List<Answer>();
        while (answers.LastOrDefault()?.Reply is not ConcurrencyGuardActor.SlotGranted)
        {
            answers.Add(_answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(3)));
        }

        Assert.Equal(IPAddress.Parse("127.0.0.113"), answers[^1].Client);
        Assert.Equal(second.Session, answers[^2].Session); // the one that yielded
        Assert.Equal(["127.0.0.111", "127.0.0.113"], SlotHolders());
    }

    [Fact]
    public void A_waiting_client_is_refused_when_no_silent_session_yields_within_the_silent_timeout()
    {
        var (_, port) = StartListener(_settings with { SilentGrace = TimeSpan.FromMilliseconds(100), SilentTimeout = TimeSpan.FromMilliseconds(600) });
        var first = HeraldAndAnswer("127.0.0.121", port);
        HeraldAndAnswer("127.0.0.122", port);
        Ack(first); // the only candidate, and its data is on the way
        first.Session.Tell(DataInFlight.Instance);

        EventFilter.Warning(TooMany + "127.0.0.123").Expect(1, TimeSpan.FromSeconds(3), () =>
        {
            Herald("127.0.0.123", port);
            Assert.IsType<ConcurrencyGuardActor.YieldSlot>(_answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(2)).Reply);
            _answers.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // it waits on...
            var answer = _answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(2)); // ...until the silent timeout
            Assert.Equal(IPAddress.Parse("127.0.0.123"), answer.Client);
            Assert.IsType<ConcurrencyGuardActor.SlotRefused>(answer.Reply);
        });
        Assert.Equal(["127.0.0.121", "127.0.0.122"], SlotHolders());
    }

    private double Refusals(RefusalReason reason) => MetricsExtension.For(Sys).Refused(reason).Value;

    [Fact]
    public void Under_a_flood_every_refusal_is_counted_at_once_and_a_client_left_unnamed_is_named_at_its_next_herald()
    {
        var (_, port) = StartListener();
        HeraldAndAnswer("127.0.0.161", port);
        HeraldAndAnswer("127.0.0.162", port);
        var guard = Guard();
        var refused = CreateTestProbe();
        IPAddress Flooder(int i) => IPAddress.Parse($"127.0.30.{i}");

        EventFilter.Warning(start: TooMany).Expect(10, () =>
        {
            for (var i = 1; i <= 12; i++)
            {
                guard.Tell(new ConcurrencyGuardActor.RequestSlot(Flooder(i)), refused.Ref);
                refused.ExpectMsg<ConcurrencyGuardActor.SlotRefused>();
            }
        });
        Assert.Equal(12, Refusals(RefusalReason.TooManyDumps)); // counted now, not when a line is written

        // a second later, the two left unnamed are summed up...
        EventFilter.Warning(contains: "2 more clients were refused without a log line of their own").ExpectOne(TimeSpan.FromSeconds(3), () => { });
        // ...and each is named at its next HERALD, once (the same episode: not counted again)
        EventFilter.Warning(TooMany + "127.0.30.11").ExpectOne(() =>
        {
            guard.Tell(new ConcurrencyGuardActor.RequestSlot(Flooder(11)), refused.Ref);
            refused.ExpectMsg<ConcurrencyGuardActor.SlotRefused>();
            guard.Tell(new ConcurrencyGuardActor.RequestSlot(Flooder(11)), refused.Ref);
            refused.ExpectMsg<ConcurrencyGuardActor.SlotRefused>();
        });
        EventFilter.Warning(start: TooMany).Expect(0, () =>
        {
            guard.Tell(new ConcurrencyGuardActor.RequestSlot(Flooder(1)), refused.Ref); // named already
            refused.ExpectMsg<ConcurrencyGuardActor.SlotRefused>();
        });
        Assert.Equal(12, Refusals(RefusalReason.TooManyDumps));
    }

    [Fact]
    public void A_slot_granted_but_unusable_is_refused_and_counted_once_under_its_own_reason()
    {
        var (_, port) = StartListener();
        var granted = HeraldAndAnswer("127.0.0.141", port);
        var guard = Guard();
        var unusable = new ConcurrencyGuardActor.SlotUnusable(granted.Client, RefusalReason.NoSessionPort, "cannot open a session socket");

        EventFilter.Warning("Client 127.0.0.141: dump refused: cannot open a session socket").Expect(1, () =>
        {
            guard.Tell(unusable, granted.Session);
            // the session of the client's retransmitted HERALD meets the same full port range: the same episode
            var again = CreateTestProbe();
            guard.Tell(new ConcurrencyGuardActor.RequestSlot(granted.Client), again.Ref);
            again.ExpectMsg<ConcurrencyGuardActor.SlotGranted>();
            guard.Tell(unusable, again.Ref);
            Assert.Empty(SlotHolders());
        });
        Assert.Equal(1, Refusals(RefusalReason.NoSessionPort));
        Assert.Equal(0, Refusals(RefusalReason.TooManyDumps));
    }

    [Fact]
    public void A_client_refused_for_silent_sessions_is_counted_as_such_not_as_too_many_dumps()
    {
        var (_, port) = StartListener(_settings with
        {
            MaxConcurrentDumps = 4,
            MaxSilentSessions = 1,
            SilentGrace = TimeSpan.Zero,
            SilentTimeout = TimeSpan.FromMilliseconds(300),
        });
        // both granted while none was silent yet; once acked, both are
        var first = HeraldAndAnswer("127.0.0.151", port);
        var second = HeraldAndAnswer("127.0.0.152", port);
        first.Session.Tell(Unresponsive.Instance);
        Ack(first);
        Ack(second);

        EventFilter.Warning("Too many sessions that sent nothing after their HERALD, ignoring dump from 127.0.0.153").Expect(1, TimeSpan.FromSeconds(3), () =>
        {
            Herald("127.0.0.153", port);
            Assert.IsType<ConcurrencyGuardActor.YieldSlot>(_answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(2)).Reply);
            _answers.ExpectNoMsg(TimeSpan.FromMilliseconds(400)); // past its silent_timeout, it waits on...
            first.Session.Tell(SendData.Instance);                // ...until the line moves: one slot free, but the other session is still silent
            var answer = _answers.ExpectMsg<Answer>(TimeSpan.FromSeconds(2));
            Assert.Equal(IPAddress.Parse("127.0.0.153"), answer.Client);
            Assert.IsType<ConcurrencyGuardActor.SlotRefused>(answer.Reply);
        });
        Assert.Equal(1, Refusals(RefusalReason.SilentSessions));
        Assert.Equal(0, Refusals(RefusalReason.TooManyDumps));
    }

    [Fact]
    public void Waiting_clients_are_served_in_the_order_they_came_whatever_their_rate()
    {
        var (listener, port) = StartListener(_settings with { MaxConcurrentDumps = 1, SilentGrace = TimeSpan.FromSeconds(1) });
        var flooder = HeraldAndAnswer("127.0.0.131", port);
        Ack(flooder);
        Herald("127.0.0.132", port); // waits first
        AwaitAssert(() =>
        {
            Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
            Assert.Equal(1, ExpectMsg<ConcurrencyGuardActor.Slots>().Waiting);
        });
        Herald("127.0.0.133", port);
        for (var i = 0; i < 20; i++)
        {
            Herald("127.0.0.131", port); // the flooder's retransmissions go to its own session
        }

        var granted = (Answer)_answers.FishForMessage(m => m is Answer { Reply: ConcurrencyGuardActor.SlotGranted }, TimeSpan.FromSeconds(3));
        Assert.Equal(IPAddress.Parse("127.0.0.132"), granted.Client);
        Guard().Tell(ConcurrencyGuardActor.GetSlots.Instance, TestActor);
        Assert.Equal(1, ExpectMsg<ConcurrencyGuardActor.Slots>().Waiting);
    }
}
