using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;
using Xunit.Abstractions;
using static Netdump.Tests.Actors.FakeSessionChannel;
using TestKit = Akka.TestKit.Xunit2.TestKit;

namespace Netdump.Tests.Actors;

/// <summary>
/// The session with a fake channel and probes for its writer, its script runner and the
/// concurrency guard. The session is a child of the TestActor, so what it tells its parent (the
/// listener) arrives there. The guard probe grants every slot; the script probe answers every
/// run with "not present" unless a test sets the outcome of a script.
/// </summary>
public sealed class ClientSessionActorSpec : TestKit, IAsyncLifetime
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("127.0.0.9"), 20024);
    private static readonly IPAddress Local = IPAddress.Parse("127.0.0.2");
    private static readonly DateTimeOffset ReceivedAt = new(2024, 3, 9, 13, 5, 7, TimeSpan.Zero);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(150);

    private readonly TempDirectory _temp = new();
    private readonly NetdumpSettings _settings;
    private readonly TestProbe _writer;
    private readonly TestProbe _acks;
    private readonly TestProbe _guard;
    private readonly TestProbe _scripts;
    private readonly ConcurrentQueue<ScriptRunnerActor.Run> _scriptRuns = new();
    private int _runnersMade; // script runners the sessions of StartSession made
    private readonly ConcurrentQueue<object> _guardMessages = new();
    private readonly ConcurrentQueue<IActorRef> _slotActiveSenders = new();
    private readonly ConcurrentDictionary<string, ScriptResult> _scriptOutcomes = new();
    private readonly ConcurrentQueue<(IPAddress Local, IPEndPoint Client)> _channelRequests = new();
    private readonly string _dumpDir;
    private readonly CoreFile _core;
    private volatile FakeSessionChannel? _channel;
    private readonly DiskSpace _space;

    public ClientSessionActorSpec(ITestOutputHelper output)
        : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            DumpDirectory = _temp.Path,
            MaxDumpSize = 1 << 20,
        };
        _space = new DiskSpace(_temp.Path, _settings.MinFreeSpace);
        _writer = CreateTestProbe("writer");
        _acks = CreateTestProbe("acks");
        _guard = CreateTestProbe("guard");
        _guard.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            _guardMessages.Enqueue(message);
            if (message is ConcurrencyGuardActor.RequestSlot)
            {
                sender.Tell(ConcurrencyGuardActor.SlotGranted.Instance);
            }
            else if (message is ConcurrencyGuardActor.SlotActive)
            {
                _slotActiveSenders.Enqueue(sender);
            }

            return AutoPilot.KeepRunning;
        }));
        _scripts = CreateTestProbe("scripts");
        _scripts.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                _scriptRuns.Enqueue(run);
                sender.Tell(_scriptOutcomes.TryGetValue(run.Name, out var outcome)
                    ? outcome
                    : new ScriptResult(run.Script, ScriptOutcome.NotPresent, null, null));
            }

            return AutoPilot.KeepRunning;
        }));
        // a file by each script's name, so that the session makes its runner (the probe above) and
        // asks it for every run; what each run answers is the probe's
        Directory.CreateDirectory(_temp.Combine(ScriptNames.Directory));
        foreach (var script in Enum.GetValues<Script>())
        {
            File.WriteAllText(ScriptNames.PathIn(_temp.Path, script), "");
        }

        _dumpDir = _temp.Combine("127.0.0.9-2024-03-09-13:05:07");
        Directory.CreateDirectory(_dumpDir);
        _core = CoreFile.Create(Path.Combine(_dumpDir, CoreFileNames.Incomplete), 1 << 20);
    }

    private FakeSessionChannel Channel => _channel ?? throw new InvalidOperationException("no channel was created");

    [Fact]
    public async Task Session_acks_the_herald_only_once_the_writer_has_opened_the_dump()
    {
        var session = await StartSession();
        session.Tell(HeraldFromClient()); // a retransmission while the directory is being made

        await _acks.ExpectNoMsgAsync(Quiet);
        Assert.Equal((Local, Client), Assert.Single(_channelRequests)); // the port is taken before the dump is made
        Assert.Null(Channel.StartedWith);

        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));

        await _acks.ExpectMsgAsync(new AckSent(1));
        Assert.Same(_core, Channel.StartedWith);
        await _acks.ExpectNoMsgAsync(Quiet);

        // the pump's events go to this session's mailbox
        Channel.Session!(Control(MessageType.Finished, sequence: 2));
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
    }

    [Fact]
    public async Task Session_has_its_pump_tell_the_guard_of_its_first_data_as_its_own()
    {
        var session = await StartReceiving();
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive);

        Channel.Session!(new PumpEvent.FirstData(0));

        await AwaitAssertAsync(() => Assert.Equal(session, Assert.Single(_slotActiveSenders)));
        await _writer.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_stops_without_an_ack_when_the_dump_cannot_be_opened()
    {
        var session = await StartSession();
        var watcher = WatcherOf(session);

        _writer.Reply(new DumpWriterActor.OpenFailed("permission denied"));

        await watcher.ExpectTerminatedAsync(session);
        await _acks.ExpectNoMsgAsync(Quiet);
        Assert.True(Channel.Disposed);
    }

    [Fact]
    public async Task Session_that_cannot_open_a_session_socket_gives_its_slot_back_before_making_anything()
    {
        var props = ClientSessionActor.Props(_settings, HeraldFromClient(), _guard.Ref,
            (_, _) => throw new SocketException((int)SocketError.AddressAlreadyInUse), _space, (_, _, _, _) => _writer.Ref, (_, _) => _scripts.Ref);
        var session = await ChildActorOfAsync(props);
        var watcher = WatcherOf(session);

        await watcher.ExpectTerminatedAsync(session);
        var unusable = Assert.Single(_guardMessages.OfType<ConcurrencyGuardActor.SlotUnusable>());
        Assert.Equal(Client.Address, unusable.Client);
        Assert.Contains("cannot open a session socket", unusable.Why);
        await _writer.ExpectNoMsgAsync(Quiet); // no directory
        Assert.Empty(_scriptRuns);            // no netdump-crash
        await _acks.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_reacks_a_retransmitted_herald_while_no_data_has_arrived()
    {
        var session = await StartReceiving();

        session.Tell(HeraldFromClient());
        await _acks.ExpectMsgAsync(new AckSent(1));

        session.Tell(new PumpEvent.HeraldRetransmitted(1, DateTimeOffset.UtcNow)); // on the session socket
        await _acks.ExpectMsgAsync(new AckSent(1));

        await ExpectNoMsgAsync(Quiet); // the parent is not asked to supersede a retransmission
    }

    /// <summary>
    /// The session socket is connected to the first HERALD's source, so it can neither ack nor
    /// hear another port of the same client: a HERALD from there is a new dump, even before data.
    /// </summary>
    [Fact]
    public async Task Session_gives_way_to_a_herald_from_another_port_of_its_client()
    {
        var session = await StartReceiving();
        var fromAnotherPort = HeraldFromClient() with { Client = new IPEndPoint(Client.Address, 20025) };

        session.Tell(fromAnotherPort);
        session.Tell(fromAnotherPort);

        Assert.Equal(fromAnotherPort, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        await ExpectNoMsgAsync(Quiet); // asked once
        await _acks.ExpectNoMsgAsync(Quiet); // never acked from this socket
    }

    [Fact]
    public async Task Session_asks_its_parent_exactly_once_to_supersede_it_when_heralds_follow_data()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var second = HeraldFromClient() with { ReceivedAt = ReceivedAt.AddSeconds(40) };

        session.Tell(second);
        session.Tell(HeraldFromClient());
        session.Tell(new PumpEvent.HeraldRetransmitted(1, ReceivedAt.AddSeconds(41)));

        Assert.Equal(second, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        await ExpectNoMsgAsync(Quiet);
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero); // the dump goes on until the new one exists
    }

    /// <summary>
    /// A HERALD retransmitted before the client had the session's ack, and handled by the
    /// session only after the dump's first data (the listener was busy with a mass panic), is
    /// no new dump: found when 64 clients at once lost dumps that such a HERALD had replaced.
    /// </summary>
    [Theory]
    [InlineData(-0.5)]
    [InlineData(0.5)]
    [InlineData(9.5)]
    public async Task Session_ignores_a_herald_received_before_or_soon_after_its_first_data(double secondsAfterFirstData)
    {
        var session = await StartReceiving();
        var firstData = ReceivedAt.AddSeconds(1);
        Channel.FirstDataAt = firstData;

        session.Tell(HeraldFromClient() with { ReceivedAt = firstData.AddSeconds(secondsAfterFirstData) });

        await ExpectNoMsgAsync(Quiet); // no Supersede
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.False(Channel.Disposed);

        session.Tell(HeraldFromClient() with { ReceivedAt = firstData + _settings.HeraldRetransmitWindow });
        Assert.NotNull(await ExpectMsgAsync<UdpListenerActor.Supersede>());
    }

    [Fact]
    public async Task Session_dates_a_new_dump_heralded_on_its_own_socket_by_that_heralds_arrival()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var arrived = ReceivedAt.AddMinutes(5);

        session.Tell(new PumpEvent.HeraldRetransmitted(1, arrived));

        var herald = (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald;
        Assert.Equal(Client, herald.Client);
        Assert.Equal(arrived, herald.ReceivedAt); // not the arrival of the HERALD of the dump it replaces
    }

    [Fact]
    public async Task Session_ignores_a_herald_its_pump_read_before_the_first_data_even_when_handled_later()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);

        session.Tell(new PumpEvent.HeraldRetransmitted(1, ReceivedAt.AddSeconds(0.9)));

        await ExpectNoMsgAsync(Quiet); // no Supersede
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    [Fact]
    public async Task Session_ends_a_superseded_dump_as_incomplete_and_stops_without_acking()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var watcher = WatcherOf(session);
        const string newDump = "/var/crash/127.0.0.9-2024-03-09-13:05:47";

        session.Tell(new ClientSessionActor.SupersededBy(newDump));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("superseded"), newDump));
        Assert.True(Channel.Disposed);
        _writer.Reply(Finalized("superseded"));
        WriterStops();
        await ExpectMsgAsync(new UdpListenerActor.ReceivingEnded(Client.Address));
        await watcher.ExpectTerminatedAsync(session);
        await _acks.ExpectNoMsgAsync(Quiet);
    }

    /// <summary>
    /// A client that starts over from a new port before sending data (seen when a HERALD flood
    /// repeated its sources) leaves one dump, not a trail of empty "superseded" ones.
    /// </summary>
    [Fact]
    public async Task Session_superseded_before_any_data_removes_its_empty_dump_and_stops()
    {
        var session = await StartReceiving();
        var watcher = WatcherOf(session);

        session.Tell(new ClientSessionActor.SupersededBy("/var/crash/127.0.0.9-2024-03-09-13:05:47"));

        await _writer.ExpectMsgAsync<DumpWriterActor.Discard>();
        Assert.True(Channel.Disposed);
        _writer.Reply(DumpWriterActor.Discarded.Instance);
        await watcher.ExpectTerminatedAsync(session);
        Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Reboot);
        await _acks.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_superseded_while_its_first_data_arrives_keeps_that_data_as_a_superseded_dump()
    {
        var session = await StartReceiving();
        const string newDump = "/var/crash/127.0.0.9-2024-03-09-13:05:47";
        Channel.BeforeRetiring = () => Channel.FirstDataAt = ReceivedAt.AddSeconds(1); // acked before the pump could be retired

        session.Tell(new ClientSessionActor.SupersededBy(newDump));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("superseded"), newDump));
    }

    [Fact]
    public async Task Session_whose_first_data_arrives_as_its_silent_timeout_ends_goes_on_with_its_dump()
    {
        var session = await StartReceiving(_settings with { SilentTimeout = TimeSpan.FromMilliseconds(300) });
        Channel.BeforeRetiring = () => Channel.FirstDataAt = DateTimeOffset.UtcNow;

        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive), TimeSpan.FromSeconds(2));
        await _writer.ExpectNoMsgAsync(Quiet);
        Assert.False(Channel.Retired);
        Assert.False(Channel.Disposed);
    }

    [Fact]
    public async Task Session_asked_to_yield_while_silent_retires_its_pump_and_removes_its_empty_dump()
    {
        var session = await StartReceiving();
        var watcher = WatcherOf(session);

        session.Tell(ConcurrencyGuardActor.YieldSlot.Instance, TestActor);

        await ExpectMsgAsync<ConcurrencyGuardActor.SlotYielded>();
        Assert.True(Channel.Retired);
        Assert.True(Channel.Disposed);
        await _writer.ExpectMsgAsync<DumpWriterActor.Discard>();
        _writer.Reply(DumpWriterActor.Discarded.Instance);
        await watcher.ExpectTerminatedAsync(session);
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot); // the yield answer gave it back
    }

    [Fact]
    public async Task Session_asked_to_yield_as_its_first_data_arrives_keeps_its_slot_and_its_dump()
    {
        var session = await StartReceiving();
        Channel.BeforeRetiring = () => Channel.FirstDataAt = DateTimeOffset.UtcNow;

        session.Tell(ConcurrencyGuardActor.YieldSlot.Instance, TestActor);

        await ExpectMsgAsync<ConcurrencyGuardActor.SlotKept>();
        Assert.False(Channel.Retired);
        Assert.False(Channel.Disposed);
        await _writer.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_tells_the_guard_when_its_herald_is_acked()
    {
        await StartSession();
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.SlotAcked);

        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));

        await _acks.ExpectMsgAsync(new AckSent(1));
        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.SlotAcked));
    }

    [Fact]
    public async Task Session_acks_a_kernel_dump_header_as_it_tells_the_writer_without_waiting_for_the_disk_threads()
    {
        var session = await StartReceiving();
        var kdh = Control(MessageType.Kdh, sequence: 70, payload: new byte[KernelDumpHeader.Size]);

        session.Tell(kdh);

        // the writer (a probe here) never answers: the ack must not wait for its turn
        Assert.Same(kdh, (await _writer.ExpectMsgAsync<DumpWriterActor.KeepHeader>()).Packet);
        await _acks.ExpectMsgAsync(new AckSent(70));
    }

    [Fact]
    public async Task Session_stores_an_encryption_key_through_the_writer_and_acks_it_once_stored()
    {
        var session = await StartReceiving();
        var key = Control(MessageType.EkcdKey, sequence: 72, payload: new byte[64]);

        session.Tell(key);

        Assert.Same(key, (await _writer.ExpectMsgAsync<DumpWriterActor.StoreKey>()).Packet);
        await _acks.ExpectNoMsgAsync(Quiet);
        _writer.Reply(new DumpWriterActor.Stored(72));
        await _acks.ExpectMsgAsync(new AckSent(72));
    }

    [Fact]
    public async Task Session_acks_finished_only_once_the_dump_is_final_then_reacks_it_while_lingering_and_stops()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromMilliseconds(400) });
        var watcher = WatcherOf(session);
        var finished = Control(MessageType.Finished, sequence: 71);

        session.Tell(finished);

        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
        session.Tell(finished); // retransmitted while the writer fsyncs: still no ack
        await _acks.ExpectNoMsgAsync(Quiet);
        await ExpectNoMsgAsync(TimeSpan.Zero);

        _writer.Reply(Finalized(reason: null));

        await ExpectMsgAsync(new UdpListenerActor.ReceivingEnded(Client.Address));
        await _acks.ExpectMsgAsync(new AckSent(71));

        session.Tell(finished);
        await _acks.ExpectMsgAsync(new AckSent(71));

        WriterStops();
        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(2));
        Assert.True(Channel.Disposed);
    }

    [Fact]
    public async Task Session_of_an_incomplete_dump_that_said_finished_reacks_it_while_lingering_then_stops_without_a_checksum()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromMilliseconds(500) });
        var watcher = WatcherOf(session);
        _scripts.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                // answered before it is recorded: once the test sees netdump-reboot, its result is in the session's mailbox
                sender.Tell(new ScriptResult(run.Script, ScriptOutcome.NotPresent, null, null));
                _scriptRuns.Enqueue(run);
            }

            return AutoPilot.KeepRunning;
        }));
        var finished = Control(MessageType.Finished, sequence: 74);
        session.Tell(finished);
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
        _writer.Reply(Finalized(reason: "holes"));
        WriterStops(); // at once: an incomplete dump has no hash to wait for
        await _acks.ExpectMsgAsync(new AckSent(74));
        await AwaitAssertAsync(() => Assert.Contains(_scriptRuns, r => r.Name == ScriptNames.Reboot));

        // no checksum to wait for and netdump-reboot done, but the linger time: a retransmitted FINISHED is acked again
        session.Tell(finished);
        await _acks.ExpectMsgAsync(new AckSent(74));
        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Session_of_a_finished_dump_outlives_its_linger_until_the_writer_stops_itself()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromMilliseconds(50) });
        var watcher = WatcherOf(session);
        await FinishComplete(session, sequence: 72);

        // stopping the session would stop the writer and abandon its hash, or reports still
        // waiting for room: the writer stops itself once its dump needs nothing more of it
        await watcher.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        WriterStops();
        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Session_does_not_hold_up_shutdown_for_a_checksum()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromSeconds(30) });
        var watcher = WatcherOf(session);
        await FinishComplete(session, sequence: 73);

        session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Session_times_out_an_idle_client_after_closing_its_channel()
    {
        var session = await StartReceiving(_settings with { SessionTimeout = TimeSpan.FromMilliseconds(300) });
        var watcher = WatcherOf(session);

        await _writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        var finish = await _writer.ExpectMsgAsync<DumpWriterActor.EndNow>(TimeSpan.FromSeconds(1));

        Assert.Equal(new DumpWriterActor.EndNow(EndReason.Parse("client timed out")), finish);
        Assert.True(Channel.Disposed, "the channel must be closed before the writer's final fsync");
        _writer.Reply(Finalized("client timed out"));
        WriterStops();
        await ExpectMsgAsync(new UdpListenerActor.ReceivingEnded(Client.Address));
        await watcher.ExpectTerminatedAsync(session);
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    [Fact]
    public async Task Session_ending_mid_dump_finishes_it_only_once_its_pump_has_left_and_answers_meanwhile()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        Channel.PumpInWrite = true; // a write on a slow disk

        session.Tell(new ClientSessionActor.SupersededBy("127.0.0.9-2026-12-07-01:00"));

        await AwaitConditionAsync(() => Task.FromResult(Channel.Disposed));
        await _writer.ExpectNoMsgAsync(Quiet); // no final fsync while the pump may still write
        var recount = CreateTestProbe();
        session.Tell(ConcurrencyGuardActor.ConfirmSlot.Instance, recount.Ref); // the actor is not held by the pump
        await recount.ExpectMsgAsync<ConcurrencyGuardActor.SlotHeld>();

        Channel.PumpLeaves();
        Assert.Equal(new DumpWriterActor.EndNow(EndReason.Superseded, "127.0.0.9-2026-12-07-01:00"), await _writer.ExpectMsgAsync<DumpWriterActor.EndNow>());
    }

    [Fact]
    public async Task Session_does_not_time_out_while_packets_keep_arriving()
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        await StartReceiving(_settings with { SessionTimeout = timeout });

        for (var i = 0; i < 6; i++)
        {
            await _writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
            Channel.Touch();
        }

        var lastPacket = Channel.LastPacketTicks;
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("client timed out")), TimeSpan.FromSeconds(1));
        Assert.True(Environment.TickCount64 - lastPacket >= (long)timeout.TotalMilliseconds);
    }

    [Fact]
    public async Task Session_ends_the_dump_with_the_reason_of_a_failed_write()
    {
        var session = await StartReceiving();

        session.Tell(new PumpEvent.WriteFailed(EndReason.Parse("no space left on device")));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("no space left on device")));
        Assert.True(Channel.Disposed);
    }

    [Fact]
    public async Task Session_tells_the_dump_it_supersedes_its_directory_once_opened()
    {
        var supersedes = CreateTestProbe("previous-session");
        await StartSession(supersedes: supersedes.Ref);

        await supersedes.ExpectNoMsgAsync(Quiet);
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));

        await supersedes.ExpectMsgAsync(new ClientSessionActor.SupersededBy(_dumpDir));
    }

    [Fact]
    public async Task Session_refused_a_slot_stops_without_creating_a_dump_or_acking()
    {
        _guard.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ConcurrencyGuardActor.RequestSlot)
            {
                sender.Tell(ConcurrencyGuardActor.SlotRefused.Instance);
            }

            return AutoPilot.KeepRunning;
        }));
        var session = await ChildActorOfAsync(ClientSessionActor.Props(_settings, HeraldFromClient(), _guard.Ref,
            OpenFakeChannel, _space, (_, _, _, _) => _writer.Ref, (_, _) => _scripts.Ref));
        var watcher = WatcherOf(session);

        await watcher.ExpectTerminatedAsync(session);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero);
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.Empty(_scriptRuns);
    }

    [Fact]
    public async Task Session_runs_netdump_crash_with_the_slot_held_and_the_directory_made_before_the_ack()
    {
        await StartReceiving();
        var crash = Assert.Single(_scriptRuns);
        Assert.Equal(ScriptNames.Crash, crash.Name);
        Assert.Equal(["127.0.0.9", _dumpDir], crash.Arguments);
        Assert.Equal("127.0.0.9", crash.Environment["NETDUMP_CLIENT_IP"]);
        Assert.Equal(_dumpDir, crash.Environment["NETDUMP_DUMP_DIR"]);
        Assert.Equal(_settings.CrashScriptTimeout, crash.Timeout);
        Assert.IsType<ConcurrencyGuardActor.RequestSlot>(_guardMessages.First());
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot);
    }

    [Fact]
    public async Task Session_with_no_script_installed_acks_once_the_dump_is_open_and_never_makes_a_script_runner()
    {
        Directory.Delete(_temp.Combine(ScriptNames.Directory), recursive: true);
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromMilliseconds(50) }); // the ack: nothing can refuse the dump
        var watcher = WatcherOf(session);

        await FinishComplete(session, sequence: 72);
        WriterStops();
        await watcher.ExpectTerminatedAsync(session); // netdump-reboot not there either: the session ends

        Assert.Equal(0, _runnersMade);
        Assert.Empty(_scriptRuns);
    }

    /// <summary>
    /// With no netdump-crash nothing can refuse the dump: the ack leaves as the session hears the
    /// dump is open, not after a "not installed" answer through its own mailbox, which in a crash
    /// storm waits behind every other dump's start (docs/performance.md). A shutdown queued right
    /// behind the open shows it: the ack is already out when the shutdown is read. Both are
    /// queued while the session is busy making its writer, so nothing can come between them.
    /// </summary>
    [Fact]
    public async Task Session_with_no_netdump_crash_acks_the_herald_as_it_hears_the_dump_is_open()
    {
        Directory.Delete(_temp.Combine(ScriptNames.Directory), recursive: true);
        await StartSession(writerMade: session =>
        {
            session.Tell(new DumpWriterActor.Opened(_dumpDir, _core), _writer.Ref);
            session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        });

        await _acks.ExpectMsgAsync(new AckSent(1));
        Assert.Same(_core, Channel.StartedWith);
        Assert.Equal(0, _runnersMade);
    }

    [Fact]
    public async Task Session_makes_its_script_runner_for_the_first_script_installed_after_the_dump_began()
    {
        Directory.Delete(_temp.Combine(ScriptNames.Directory), recursive: true);
        var session = await StartReceiving();

        // installed while the dump is received: the runner is made for it, as a script installed
        // between dumps is run by the next one
        Directory.CreateDirectory(_temp.Combine(ScriptNames.Directory));
        File.WriteAllText(ScriptNames.PathIn(_temp.Path, Script.Reboot), "");
        session.Tell(Control(MessageType.Finished, sequence: 72));
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
        _writer.Reply(Finalized(reason: null));

        await AwaitAssertAsync(() => Assert.Single(_scriptRuns, r => r.Script == Script.Reboot));
        Assert.Equal(1, _runnersMade);
        Assert.DoesNotContain(_scriptRuns, r => r.Script == Script.Crash);
    }

    [Fact]
    public async Task Session_refused_by_netdump_crash_discards_the_dump_frees_the_slot_and_ignores_the_clients_retries_for_the_episode()
    {
        _scriptOutcomes[ScriptNames.Crash] = new ScriptResult(Script.Crash, ScriptOutcome.Exited, 2, null);
        var session = await StartSession(_settings with { RefusalEpisode = TimeSpan.FromMilliseconds(600) });
        var watcher = WatcherOf(session);
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));

        await _writer.ExpectMsgAsync<DumpWriterActor.Discard>();
        Assert.True(Channel.Disposed); // its port is free at once
        _writer.Reply(DumpWriterActor.Discarded.Instance);
        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot));

        // the client's retransmitted HERALDs: no new dump, no second netdump-crash, no ack
        for (var i = 0; i < 3; i++)
        {
            session.Tell(HeraldFromClient());
            await watcher.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // each HERALD restarts the episode
        }

        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3)); // the episode is over
        Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Crash);
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Reboot);
    }

    [Theory]
    [InlineData(ScriptOutcome.TimedOut)]
    [InlineData(ScriptOutcome.FailedToStart)]
    [InlineData(ScriptOutcome.Skipped)]
    public async Task Session_goes_ahead_when_netdump_crash_is_broken(ScriptOutcome outcome)
    {
        _scriptOutcomes[ScriptNames.Crash] = new ScriptResult(Script.Crash, outcome, null, "broken");
        await StartReceiving();
    }

    [Fact]
    public async Task Session_runs_netdump_reboot_after_the_final_files_with_the_dump_facts()
    {
        var session = await StartReceiving();
        session.Tell(Control(MessageType.Finished, sequence: 90));
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Reboot);

        _writer.Reply(Finalized("client timed out"));
        await AwaitAssertAsync(() => Assert.Contains(_scriptRuns, r => r.Name == ScriptNames.Reboot));
        var reboot = _scriptRuns.Single(r => r.Name == ScriptNames.Reboot);
        Assert.Equal(["127.0.0.9", _dumpDir], reboot.Arguments);
        Assert.Equal("incomplete", reboot.Environment["NETDUMP_STATUS"]);
        Assert.Equal("client timed out", reboot.Environment["NETDUMP_REASON"]);
        Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot);
    }

    [Fact]
    public async Task Session_answers_a_recount_truthfully_before_and_after_its_dump()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromSeconds(5) });
        var recount = CreateTestProbe();
        session.Tell(ConcurrencyGuardActor.ConfirmSlot.Instance, recount.Ref);
        Assert.Equal(Client.Address, (await recount.ExpectMsgAsync<ConcurrencyGuardActor.SlotHeld>()).Client);

        session.Tell(Control(MessageType.Finished, sequence: 91));
        await _writer.ExpectMsgAsync<DumpWriterActor.ClientFinished>();
        _writer.Reply(Finalized(reason: null));
        await _acks.ExpectMsgAsync(new AckSent(91));

        session.Tell(ConcurrencyGuardActor.ConfirmSlot.Instance, recount.Ref);
        await recount.ExpectMsgAsync<ConcurrencyGuardActor.NoSlot>(); // a lingering session holds no slot
    }

    [Fact]
    public async Task Session_told_of_low_space_while_netdump_crash_runs_acts_on_it_once_the_herald_is_acked()
    {
        var crash = new TaskCompletionSource();
        _scripts.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                _scriptRuns.Enqueue(run);
                var result = new ScriptResult(run.Script, ScriptOutcome.NotPresent, null, null);
                if (run.Name == ScriptNames.Crash)
                {
                    crash.Task.ContinueWith(_ => sender.Tell(result)); // answers when the test says so
                }
                else
                {
                    sender.Tell(result);
                }
            }

            return AutoPilot.KeepRunning;
        }));
        var session = await StartSession();
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));
        await AwaitAssertAsync(() => Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Crash));

        session.Tell(new DumpWriterActor.LowSpace(10, 1 << 30)); // the writer's check at open, before the ack
        await _acks.ExpectNoMsgAsync(Quiet);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Nospace);

        crash.SetResult();
        await _acks.ExpectMsgAsync(new AckSent(1));
        await _writer.ExpectMsgAsync<DumpWriterActor.CheckSpace>(); // netdump-nospace ran (absent: not exit 0), then the check
        Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Nospace);
    }

    [Fact]
    public async Task Session_gives_up_for_space_when_netdump_nospace_exits_zero()
    {
        _scriptOutcomes[ScriptNames.Nospace] = new ScriptResult(Script.Nospace, ScriptOutcome.Exited, 0, null);
        var session = await StartReceiving();

        session.Tell(new DumpWriterActor.LowSpace(10, 1 << 30));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("no space")));
        Assert.True(Channel.Disposed, "giving up stops the acks");
        Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Nospace);
    }

    [Fact]
    public async Task Session_checks_once_more_after_netdump_nospace_exits_non_zero_and_goes_on_when_there_is_room()
    {
        _scriptOutcomes[ScriptNames.Nospace] = new ScriptResult(Script.Nospace, ScriptOutcome.Exited, 1, null);
        var session = await StartReceiving();

        session.Tell(new DumpWriterActor.LowSpace(10, 1 << 30));
        await _writer.ExpectMsgAsync<DumpWriterActor.CheckSpace>();
        _writer.Reply(DumpWriterActor.SpaceOk.Instance);
        await _writer.ExpectNoMsgAsync(Quiet);
        Assert.False(Channel.Disposed);

        // it ran once per dump: the next shortage gives up at once
        session.Tell(new DumpWriterActor.LowSpace(10, 1 << 30));
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("no space")));
        Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Nospace);
    }

    [Fact]
    public async Task Session_whose_pump_ran_out_of_room_runs_netdump_nospace_once_and_resumes_the_pump_when_there_is_room_again()
    {
        var session = await StartReceiving();
        var nospace = new TaskCompletionSource();
        _scripts.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                _scriptRuns.Enqueue(run);
                if (run.Name == ScriptNames.Nospace)
                {
                    // answers only when the test says so: the pump's further refusals come meanwhile
                    nospace.Task.ContinueWith(_ => sender.Tell(new ScriptResult(run.Script, ScriptOutcome.Exited, 1, null)));
                }
                else
                {
                    sender.Tell(new ScriptResult(run.Script, ScriptOutcome.NotPresent, null, null));
                }
            }

            return AutoPilot.KeepRunning;
        }));

        session.Tell(new PumpEvent.OutOfRoom(1 << 20, 1448));
        await AwaitAssertAsync(() => Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Nospace));
        session.Tell(new PumpEvent.OutOfRoom(1 << 20, 1448)); // while the script decides: waits, does not give up
        await _writer.ExpectNoMsgAsync(Quiet);

        nospace.SetResult();
        await _writer.ExpectMsgAsync<DumpWriterActor.CheckSpace>();
        Assert.False(Channel.WritesResumed);
        _writer.Reply(DumpWriterActor.SpaceOk.Instance);
        await AwaitAssertAsync(() => Assert.True(Channel.WritesResumed));
        Assert.False(Channel.Disposed);
        Assert.Single(_scriptRuns, r => r.Name == ScriptNames.Nospace);
    }

    [Fact]
    public async Task Session_does_not_time_its_client_out_while_netdump_nospace_decides()
    {
        var session = await StartReceiving(_settings with { SessionTimeout = TimeSpan.FromMilliseconds(300) });
        _scripts.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                _scriptRuns.Enqueue(run); // netdump-nospace runs on and on: no answer
            }

            return AutoPilot.KeepRunning;
        }));

        session.Tell(new PumpEvent.OutOfRoom(0, 1448)); // the pump waits: nothing is asked of the client, nothing acked
        await AwaitAssertAsync(() => Assert.Contains(_scriptRuns, r => r.Name == ScriptNames.Nospace));

        // three session timeouts pass without a packet: the server is the one waiting
        await _writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(1000));
        Assert.False(Channel.Disposed);
    }

    [Fact]
    public async Task Session_gives_up_when_there_is_still_no_room_after_netdump_nospace()
    {
        _scriptOutcomes[ScriptNames.Nospace] = new ScriptResult(Script.Nospace, ScriptOutcome.NotPresent, null, null);
        var session = await StartReceiving();

        session.Tell(new DumpWriterActor.LowSpace(10, 1 << 30));
        await _writer.ExpectMsgAsync<DumpWriterActor.CheckSpace>();
        _writer.Reply(new DumpWriterActor.LowSpace(10, 1 << 30));
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("no space")));
    }

    [Fact]
    public async Task Session_ends_its_dump_as_server_shut_down_when_the_server_stops()
    {
        var session = await StartReceiving();
        session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("server shut down")));
        Assert.True(Channel.Disposed);
    }

    [Fact]
    public async Task Session_that_gets_nothing_after_its_HERALD_is_dropped_with_its_empty_dump_after_the_silent_timeout()
    {
        var session = await StartReceiving(_settings with { SilentTimeout = TimeSpan.FromMilliseconds(300) });
        var watcher = WatcherOf(session);

        await _writer.ExpectMsgAsync<DumpWriterActor.Discard>(TimeSpan.FromSeconds(2));
        Assert.True(Channel.Disposed);
        _writer.Reply(DumpWriterActor.Discarded.Instance);
        await watcher.ExpectTerminatedAsync(session);
        Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot);
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Reboot);
    }

    [Fact]
    public async Task Session_with_data_tells_the_guard_and_outlives_the_silent_timeout()
    {
        var session = await StartReceiving(_settings with { SilentTimeout = TimeSpan.FromMilliseconds(300) });
        Channel.FirstDataAt = DateTimeOffset.UtcNow;
        Channel.Session!(new PumpEvent.FirstData(0));

        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive));
        await _writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(600));
        Assert.False(Channel.Disposed);
    }

    [Fact]
    public async Task Session_goes_on_without_scripts_when_its_script_runner_dies()
    {
        _scripts.SetAutoPilot(new DelegateAutoPilot((_, message) =>
        {
            if (message is ScriptRunnerActor.Run run)
            {
                _scriptRuns.Enqueue(run); // and never answer: the runner is about to die
            }

            return AutoPilot.KeepRunning;
        }));
        var session = await StartSession();
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));
        await AwaitAssertAsync(() => Assert.Single(_scriptRuns));

        Sys.Stop(_scripts.Ref); // the pending netdump-crash counts as failed: the dump goes ahead
        await _acks.ExpectMsgAsync(new AckSent(1));

        var watcher = WatcherOf(session);
        await FinishComplete(session, sequence: 95);
        Assert.Single(_scriptRuns); // netdump-reboot was not sent to a dead runner
    }

    [Fact]
    public async Task Session_ends_the_dump_when_the_disk_fails_under_it()
    {
        var session = await StartReceiving();
        session.Tell(new DumpWriterActor.DiskFailed(EndReason.Parse("fsync failed: Input/output error")));
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("fsync failed: Input/output error")));
        Assert.True(Channel.Disposed);
        _writer.Reply(Finalized("fsync failed: Input/output error"));
        await ExpectMsgAsync(new UdpListenerActor.ReceivingEnded(Client.Address));
        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>
    /// Stops the actor system without blocking a pool thread: on a small machine the TestKit's
    /// blocking shutdown in Dispose can wait most of a second for the thread pool to grow.
    /// </summary>
    public async Task DisposeAsync() => await ShutdownAsync();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _core.Dispose();
            _temp.Dispose();
        }
    }

    /// <summary>Starts a session under the TestActor and waits for it to ask its writer to open the dump.</summary>
    /// <param name="writerMade">called with the session as it makes its writer, in the session's own message</param>
    private async Task<IActorRef> StartSession(NetdumpSettings? settings = null, IActorRef? supersedes = null, SessionChannelFactory? channels = null,
        Action<IActorRef>? writerMade = null)
    {
        var props = ClientSessionActor.Props(
            settings ?? _settings,
            HeraldFromClient(),
            _guard.Ref,
            channels ?? OpenFakeChannel,
            _space,
            (context, _, _, _) =>
            {
                writerMade?.Invoke(context.Self);
                return _writer.Ref;
            },
            (_, _) =>
            {
                Interlocked.Increment(ref _runnersMade);
                return _scripts.Ref;
            },
            supersedes);
        var session = await ChildActorOfAsync(props);
        await _writer.ExpectMsgAsync<DumpWriterActor.Open>();
        return session;
    }

    /// <summary>A session whose dump is open and whose HERALD was acked.</summary>
    /// <summary>FINISHED from the client, the writer's complete end, and the FINISHED's ack.</summary>
    private async Task FinishComplete(IActorRef session, uint sequence)
    {
        session.Tell(Control(MessageType.Finished, sequence));
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);
        _writer.Reply(Finalized(reason: null));
        await _acks.ExpectMsgAsync(new AckSent(sequence));
    }

    private async Task<IActorRef> StartReceiving(NetdumpSettings? settings = null)
    {
        var session = await StartSession(settings);
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));
        await _acks.ExpectMsgAsync(new AckSent(1));
        return session;
    }

    private ISessionChannel OpenFakeChannel(IPAddress local, IPEndPoint client)
    {
        _channelRequests.Enqueue((local, client));
        return _channel = new FakeSessionChannel(_acks.Ref, local);
    }

    private TestProbe WatcherOf(IActorRef session)
    {
        var watcher = CreateTestProbe();
        watcher.Watch(session);
        return watcher;
    }

    private static Herald HeraldFromClient() =>
        new(Sequence: 1, Client, Local, RequestedPath: "", PathProblem: null, ReceivedAt);

    private static PumpEvent.ControlPacket Control(MessageType type, uint sequence, byte[]? payload = null) =>
        new(type, sequence, Offset: 0, payload ?? []);

    private DumpWriterActor.Finalized Finalized(string? reason) => new(new DumpRecord
    {
        Status = reason is null ? DumpStatus.Complete : DumpStatus.Incomplete,
        Reason = reason is null ? null : EndReason.Parse(reason),
        ClientIp = Client.Address,
        ServerIp = Local,
        HeraldPath = "",
        Directory = _dumpDir,
        ReceivedAt = ReceivedAt,
        FinishedAt = ReceivedAt.AddSeconds(30),
        Vmcore = reason is null ? "vmcore" : CoreFileNames.Incomplete,
    });

    /// <summary>The writer (a probe here) stops, as a real one does once its dump needs nothing more of it.</summary>
    private void WriterStops() => Sys.Stop(_writer.Ref);
}
