using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using static Netdump.Tests.Actors.FakeSessionChannel;

namespace Netdump.Tests.Actors;

/// <summary>The ends of a dump: FINISHED and its ack, the linger, the writer's own stop, timeouts, failures, shutdown.</summary>
public sealed partial class ClientSessionActorSpec
{
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
    public async Task Session_ends_its_dump_as_server_shut_down_when_the_server_stops()
    {
        var session = await StartReceiving();
        session.Tell(ClientSessionActor.ServerShuttingDown.Instance);
        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("server shut down")));
        Assert.True(Channel.Disposed);
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

    [Fact]
    public async Task Session_told_the_server_stops_while_its_dump_is_finalized_stops_once_final_without_its_linger_or_the_hash()
    {
        var session = await StartReceiving(_settings with { Linger = TimeSpan.FromSeconds(30) });
        var watcher = WatcherOf(session);
        session.Tell(Control(MessageType.Finished, sequence: 80));
        await _writer.ExpectMsgAsync(DumpWriterActor.ClientFinished.Instance);

        session.Tell(ClientSessionActor.ServerShuttingDown.Instance); // while the writer fsyncs
        _writer.Reply(Finalized(reason: null));

        await _acks.ExpectMsgAsync(new AckSent(80)); // final: its FINISHED is acked
        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3)); // the drain waits for neither
    }

    [Fact]
    public async Task Session_told_the_server_stops_while_its_pump_leaves_stops_once_the_dump_is_final()
    {
        var session = await StartReceiving();
        var watcher = WatcherOf(session);
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        Channel.PumpInWrite = true; // a write on a slow disk: the end waits for the pump
        session.Tell(new ClientSessionActor.SupersededBy("127.0.0.9-2026-12-07-01:00"));
        await AwaitConditionAsync(() => Task.FromResult(Channel.Disposed));

        session.Tell(ClientSessionActor.ServerShuttingDown.Instance); // while the pump is still inside its write
        Channel.PumpLeaves();
        await _writer.ExpectMsgAsync<DumpWriterActor.EndNow>();
        _writer.Reply(Finalized("superseded"));

        await watcher.ExpectTerminatedAsync(session, TimeSpan.FromSeconds(3)); // not waiting for the writer's own stop
    }
}
