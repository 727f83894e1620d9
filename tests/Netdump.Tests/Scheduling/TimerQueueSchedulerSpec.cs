using Akka.Actor;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scheduling;
using Xunit.Abstractions;

namespace Netdump.Tests.Scheduling;

/// <summary>
/// The scheduler netdump.hocon gives the actor system: what it delivers, when, and that nothing
/// runs once cancelled or stopped. (Every actor spec on the built-in config also runs its
/// timers through it: flush ticks, linger, timeouts.)
/// </summary>
public sealed class TimerQueueSchedulerSpec(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(NetdumpSettings.BuiltInConfig(), output: output)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private TimerQueueScheduler Scheduler => (TimerQueueScheduler)Sys.Scheduler;

    [Fact]
    public void The_built_in_config_gives_the_actor_system_this_scheduler() =>
        Assert.IsType<TimerQueueScheduler>(Sys.Scheduler);

    [Fact]
    public void A_tell_once_arrives_once_and_leaves_nothing_pending()
    {
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(20), TestActor, "due", ActorRefs.NoSender);

        ExpectMsg("due");
        ExpectNoMsg(Quiet);
        AwaitCondition(() => Scheduler.Pending == 0);
    }

    [Fact]
    public void A_cancelled_tell_never_arrives_and_its_timer_is_gone_at_once()
    {
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromMilliseconds(100), TestActor, "cancelled", ActorRefs.NoSender);
        Assert.Equal(1, Scheduler.Pending);

        cancelable.Cancel();

        Assert.Equal(0, Scheduler.Pending);
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_repeated_tell_repeats_until_cancelled()
    {
        var cancelable = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, TimeSpan.FromMilliseconds(20), TestActor, "tick", ActorRefs.NoSender);

        ExpectMsg("tick");
        ExpectMsg("tick");
        ExpectMsg("tick");
        cancelable.Cancel();
        ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m); // one may have been on its way
        ExpectNoMsg(Quiet);
        Assert.Equal(0, Scheduler.Pending);
    }

    [Fact]
    public void An_action_that_throws_is_logged_and_later_timers_still_run()
    {
        EventFilter.Error(contains: "A scheduled action failed").ExpectOne(() =>
            Sys.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => throw new InvalidOperationException("boom")));

        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(10), TestActor, "after", ActorRefs.NoSender);

        ExpectMsg("after");
    }

    [Fact]
    public void A_delay_longer_than_a_timer_can_hold_waits_instead_of_failing()
    {
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromDays(400), TestActor, "much later", ActorRefs.NoSender);

        Assert.Equal(1, Scheduler.Pending);
        cancelable.Cancel();
        Assert.Equal(0, Scheduler.Pending);
    }

    [Fact]
    public void A_stopped_scheduler_runs_nothing_more_and_refuses_new_timers()
    {
        using var stopped = new TimerQueueScheduler(Sys.Settings.Config.GetConfig("akka.scheduler"), Sys.Log);
        IScheduler scheduler = stopped;
        using var ran = new ManualResetEventSlim();
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(50), ran.Set);

        stopped.Dispose();

        Assert.Equal(0, stopped.Pending);
        Assert.False(ran.Wait(Quiet));
        Assert.Throws<SchedulerException>(() => scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, ran.Set));
    }

    [Fact]
    public void An_actors_timer_arrives_through_it()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TimedActor(TestActor)));

        ExpectMsg("timer fired");
        Sys.Stop(actor);
    }

    private sealed class TimedActor : ReceiveActor, IWithTimers
    {
        public TimedActor(IActorRef target)
        {
            Receive<string>(_ => target.Tell("timer fired"));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartSingleTimer("t", "fire", TimeSpan.FromMilliseconds(10));
    }
}
