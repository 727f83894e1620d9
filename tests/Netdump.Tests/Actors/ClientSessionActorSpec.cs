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
/// This file holds the setup, the helpers and the way to the HERALD's ack; the tests by concern
/// are in <c>ClientSessionActorSpec.Heralds/.Silence/.Ending/.Scripts/.Space.cs</c>.
/// </summary>
public sealed partial class ClientSessionActorSpec : TestKit, IAsyncLifetime
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
