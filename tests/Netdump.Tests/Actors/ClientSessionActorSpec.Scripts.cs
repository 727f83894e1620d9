using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using static Netdump.Tests.Actors.FakeSessionChannel;

namespace Netdump.Tests.Actors;

/// <summary>The scripts: netdump-crash before the ack, netdump-reboot after the end, the runner made for the first one.</summary>
public sealed partial class ClientSessionActorSpec
{
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
}
