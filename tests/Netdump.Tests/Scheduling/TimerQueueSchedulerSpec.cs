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

    // far enough that nothing fires before the test cancels or stops it, however busy the machine
    private static readonly TimeSpan Later = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A scheduler of its own, as the built-in config makes it, for a test to stop: stopping runs
    /// once what is still pending, so what arrives after <see cref="TimerQueueScheduler.Dispose"/>
    /// is what was left pending.
    /// </summary>
    private TimerQueueScheduler NewScheduler() => new(Sys.Settings.Config, Sys.Log);

    [Fact]
    public void The_built_in_config_gives_the_actor_system_this_scheduler() =>
        Assert.IsType<TimerQueueScheduler>(Sys.Scheduler);

    [Fact]
    public void A_tell_once_arrives_once_and_leaves_nothing_pending()
    {
        using var own = NewScheduler();
        IScheduler scheduler = own;
        scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(20), TestActor, "due", ActorRefs.NoSender);

        ExpectMsg("due");
        ExpectNoMsg(Quiet);
        own.Dispose(); // runs what is still pending
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_cancelled_tell_never_arrives_and_its_timer_is_gone_at_once()
    {
        using var own = NewScheduler();
        IScheduler scheduler = own;
        var cancelable = scheduler.ScheduleTellOnceCancelable(Later, TestActor, "cancelled", ActorRefs.NoSender);
        scheduler.ScheduleTellOnce(Later, TestActor, "pending", ActorRefs.NoSender);

        cancelable.Cancel();

        own.Dispose(); // runs what is still pending: the other tell, not the cancelled one
        ExpectMsg("pending");
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_tell_cancelled_before_it_is_scheduled_never_arrives_even_when_due_at_once()
    {
        using var own = NewScheduler();
        IScheduler scheduler = own;
        var cancelable = new Cancelable(scheduler);
        cancelable.Cancel();

        scheduler.ScheduleTellOnce(TimeSpan.Zero, TestActor, "cancelled", ActorRefs.NoSender, cancelable);

        ExpectNoMsg(Quiet);
        own.Dispose(); // runs what is still pending
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_repeated_tell_repeats_until_cancelled()
    {
        using var own = NewScheduler();
        IScheduler scheduler = own;
        var cancelable = scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, TimeSpan.FromMilliseconds(20), TestActor, "tick", ActorRefs.NoSender);

        ExpectMsg("tick");
        ExpectMsg("tick");
        ExpectMsg("tick");
        cancelable.Cancel();
        ReceiveWhile(TimeSpan.FromMilliseconds(100), m => m); // one may have been on its way
        ExpectNoMsg(Quiet);
        own.Dispose(); // runs what is still pending
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void An_interval_under_a_millisecond_still_repeats()
    {
        var cancelable = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, TimeSpan.FromMilliseconds(0.5), TestActor, "fast", ActorRefs.NoSender);

        ExpectMsg("fast");
        ExpectMsg("fast");
        ExpectMsg("fast");
        cancelable.Cancel();
    }

    [Fact]
    public void A_repeated_action_that_throws_is_not_repeated()
    {
        using var own = NewScheduler();
        IScheduler scheduler = own;
        var runs = 0;
        EventFilter.Error(contains: "A scheduled action failed").ExpectOne(() =>
            scheduler.Advanced.ScheduleRepeatedly(TimeSpan.Zero, TimeSpan.FromMilliseconds(10), () =>
            {
                Interlocked.Increment(ref runs);
                throw new InvalidOperationException("boom");
            }));

        ExpectNoMsg(Quiet);
        Assert.Equal(1, Volatile.Read(ref runs));
        own.Dispose(); // runs what is still pending
        Assert.Equal(1, Volatile.Read(ref runs));
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
        using var own = NewScheduler();
        IScheduler scheduler = own;
        scheduler.ScheduleTellOnce(TimeSpan.FromDays(400), TestActor, "much later", ActorRefs.NoSender);

        ExpectNoMsg(Quiet);
        own.Dispose(); // runs what is still pending
        ExpectMsg("much later");
    }

    [Fact]
    public void Stopping_runs_what_is_pending_once_then_nothing_more_and_refuses_new_timers()
    {
        using var stopped = new TimerQueueScheduler(Sys.Settings.Config, Sys.Log);
        IScheduler scheduler = stopped;
        int once = 0, repeated = 0, cancelled = 0;
        scheduler.Advanced.ScheduleOnce(Later, () => Interlocked.Increment(ref once));
        scheduler.Advanced.ScheduleRepeatedly(Later, TimeSpan.FromMilliseconds(10), () => Interlocked.Increment(ref repeated));
        var cancel = new Cancelable(scheduler);
        scheduler.Advanced.ScheduleOnce(Later, () => Interlocked.Increment(ref cancelled), cancel);
        cancel.Cancel();

        stopped.Dispose(); // as when the actor system terminates: Akka's wheel does the same

        Assert.Equal((1, 1, 0), (Volatile.Read(ref once), Volatile.Read(ref repeated), Volatile.Read(ref cancelled)));
        ExpectNoMsg(Quiet);
        Assert.Equal(1, Volatile.Read(ref repeated));
        Assert.Throws<SchedulerException>(() => scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => { }));
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
