using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace Netdump.Actors.Scheduling;

/// <summary>
/// Akka's scheduler on .NET timers (<c>akka.scheduler.implementation</c> in netdump.hocon): the
/// runtime's timer thread sleeps until the next timer is due, so a server with no timer pending
/// spends no CPU on timing. Akka's <see cref="HashedWheelTimerScheduler"/> ticks every
/// <c>tick-duration</c> forever once the first timer has been scheduled, which was an idle
/// server's whole CPU after its first dump (docs/performance.md, "Idle"). Every timer in this
/// server is a second or longer (flush, linger, timeouts), and a .NET timer fires within about
/// a millisecond of its due time, closer than a wheel's tick.
/// A due action runs on the .NET thread pool, where the wheel ran them one after another on its
/// own thread: two actions due at the same moment may run in either order, and a repeated action
/// that takes longer than its interval may overlap itself. Every action here is a <c>Tell</c>
/// (actor timers) or one of Akka's own short callbacks, for which neither matters. As with the
/// wheel, a repeated action that throws is not repeated, and stopping the scheduler (the actor
/// system terminating) runs what is still pending once.
/// </summary>
public sealed class TimerQueueScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    // a System.Threading.Timer's longest due time (about 49.7 days): a longer delay fires early,
    // after that long (nothing here waits more than minutes)
    private static readonly TimeSpan LongestDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly ConcurrentDictionary<Entry, byte> _pending = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private volatile bool _stopped;

    /// <summary>The constructor Akka calls, with the system's configuration and its log.</summary>
    public TimerQueueScheduler(Config config, ILoggingAdapter log)
        : base(config, log)
    {
    }

    /// <inheritdoc />
    protected override DateTimeOffset TimeNow => DateTimeOffset.Now;

    /// <inheritdoc />
    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(_started);

    /// <inheritdoc />
    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(_started);

    /// <inheritdoc />
    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(delay, null, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(initialDelay, interval, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Schedule(delay, null, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Schedule(delay, null, action.Run, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action.Run, cancelable);

    /// <summary>
    /// Stops every timer (the actor system is terminating) and runs once what was still pending
    /// and not cancelled, as Akka's wheel does at its shutdown: among those are the dispatchers'
    /// delayed shutdowns. Scheduling afterwards throws <see cref="SchedulerException"/>, as it does
    /// with the wheel.
    /// </summary>
    public void Dispose()
    {
        _stopped = true;
        foreach (var entry in _pending.Keys)
        {
            // a cancelled one is stopped already: its cancellation stops it
            if (entry.Stop())
            {
                RunAction(entry);
            }
        }
    }

    private void Schedule(TimeSpan delay, TimeSpan? interval, Action action, ICancelable? cancelable)
    {
        if (_stopped)
        {
            throw new SchedulerException("cannot schedule: the scheduler has stopped");
        }

        var entry = new Entry(this, action, interval is null, cancelable);
        _pending[entry] = 0;
        entry.Start(WholeMilliseconds(delay, 0), interval is { } period ? WholeMilliseconds(period, 1) : Timeout.InfiniteTimeSpan);
        if (_stopped)
        {
            entry.Stop(); // Dispose ran while this one was being added
        }
    }

    /// <summary>
    /// A timer counts whole milliseconds and cuts off the rest, which would fire early and make a
    /// period under 1 ms (0: not periodic) fire once: rounded up, at least <paramref name="least"/>.
    /// </summary>
    private static TimeSpan WholeMilliseconds(TimeSpan span, double least) =>
        span >= LongestDelay ? LongestDelay : TimeSpan.FromMilliseconds(Math.Max(least, Math.Ceiling(span.TotalMilliseconds)));

    /// <summary>A due timer whose entry is not stopped (cancelled, disposed, done).</summary>
    private void Run(Entry entry)
    {
        if (entry.Once)
        {
            entry.Stop();
        }

        if (!RunAction(entry))
        {
            entry.Stop(); // a repeated action that failed is not repeated, as with the wheel
        }
    }

    private bool RunAction(Entry entry)
    {
        try
        {
            entry.Action();
            return true;
        }
        catch (SchedulerException)
        {
            return false; // an action scheduling into a stopped scheduler, at shutdown
        }
        catch (Exception e)
        {
            Log.Error(e, "A scheduled action failed");
            return false;
        }
    }

    /// <summary>One scheduled action and its timer; stopped when done, cancelled or disposed.</summary>
    private sealed class Entry(TimerQueueScheduler owner, Action action, bool once, ICancelable? cancelable)
    {
        private readonly Lock _gate = new();
        private Timer? _timer;
        private CancellationTokenRegistration _onCancel;
        private volatile bool _stopped;

        public Action Action { get; } = action;
        public bool Once { get; } = once;

        public void Start(TimeSpan delay, TimeSpan period)
        {
            // the cancellation is hooked before the timer exists, so a cancelled action never
            // fires (on a token cancelled already, Stop runs here and now: no lock is held)
            var onCancel = cancelable?.Token.UnsafeRegister(static state => ((Entry)state!).Stop(), this) ?? default;
            lock (_gate)
            {
                if (!_stopped)
                {
                    _onCancel = onCancel;
                    // the caller's execution context (its async locals) is not kept with the timer
                    var flow = ExecutionContext.IsFlowSuppressed() ? (AsyncFlowControl?)null : ExecutionContext.SuppressFlow();
                    try
                    {
                        _timer = new Timer(static state => ((Entry)state!).Fire(), this, delay, period);
                    }
                    finally
                    {
                        flow?.Undo();
                    }

                    return;
                }
            }

            onCancel.Dispose();
        }

        /// <summary>Stops the timer; false when it was stopped already.</summary>
        public bool Stop()
        {
            lock (_gate)
            {
                if (_stopped)
                {
                    return false;
                }

                _stopped = true;
            }

            owner._pending.TryRemove(this, out _);
            _timer?.Dispose();
            _onCancel.Dispose();
            return true;
        }

        private void Fire()
        {
            if (!_stopped)
            {
                owner.Run(this);
            }
        }
    }
}
