using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Scripts;
using static Netdump.Tests.Actors.FakeSessionChannel;

namespace Netdump.Tests.Actors;

/// <summary>Silent sessions and the guard: what the guard hears of a dump, yielding a slot, the silent timeout.</summary>
public sealed partial class ClientSessionActorSpec
{
    [Fact]
    public async Task Session_is_the_one_the_guard_hears_its_first_data_from()
    {
        var session = await StartReceiving();
        Assert.DoesNotContain(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive);

        Channel.Session!(PumpEvent.FirstData.Instance);

        await AwaitAssertAsync(() => Assert.Equal(session, Assert.Single(_slotActiveSenders)));
        await _writer.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_whose_first_data_arrives_as_its_silent_timeout_ends_goes_on_with_its_dump()
    {
        var session = await StartReceiving(_settings with { SilentTimeout = TimeSpan.FromMilliseconds(300) });
        Channel.BeforeRetiring = Channel.ArriveFirstData; // the pump tells the guard, as its first data comes

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
        Channel.Session!(PumpEvent.FirstData.Instance);

        await AwaitAssertAsync(() => Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.SlotActive));
        await _writer.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(600));
        Assert.False(Channel.Disposed);
    }
}
