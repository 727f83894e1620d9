using Akka.Actor;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using static Netdump.Tests.Actors.FakeSessionChannel;

namespace Netdump.Tests.Actors;

/// <summary>Free space: low space told by the writer or met by the pump, and netdump-nospace's decision.</summary>
public sealed partial class ClientSessionActorSpec
{
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
}
