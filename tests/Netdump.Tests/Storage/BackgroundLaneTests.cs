using Netdump.Actors.Storage;
using Netdump.Tests.Native;
using Xunit;

namespace Netdump.Tests.Storage;

public sealed class BackgroundLaneTests
{
    [Fact]
    public async Task Jobs_run_one_at_a_time_in_the_order_they_came()
    {
        using var lane = new BackgroundLane("test-lane");
        var running = 0;
        var most = 0;
        var order = new List<int>();
        var jobs = Enumerable.Range(0, 20).Select(i => lane.Run(() =>
        {
            most = Math.Max(most, Interlocked.Increment(ref running));
            Thread.Sleep(1); // gives a second thread, if there were one, the time to overlap
            order.Add(i);
            Interlocked.Decrement(ref running);
            return i;
        })).ToList();

        Assert.Equal(Enumerable.Range(0, 20), await Task.WhenAll(jobs));
        Assert.Equal(Enumerable.Range(0, 20), order);
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task A_job_queued_before_the_lane_stops_runs_and_one_after_fails()
    {
        var lane = new BackgroundLane("test-lane");
        var gate = new ManualResetEventSlim();
        var first = lane.Run(() => gate.Wait(TimeSpan.FromSeconds(10)));
        var second = lane.Run(() => 2);
        lane.Dispose();
        gate.Set();

        Assert.True(await first);
        Assert.Equal(2, await second);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => lane.Run(() => 3));
    }

    [Fact]
    public async Task The_lane_thread_runs_at_a_lower_priority_than_the_server()
    {
        using var lane = new BackgroundLane("test-lane");
        var nice = await lane.Run(ThreadNiceValue.Current);
        Assert.Equal(BackgroundLane.Nice, nice);

        // the tasks' continuations, and any pool thread started on their way, keep normal priority
        Assert.Equal(0, ThreadNiceValue.Current());
        var after = await lane.Run(() => 1).ContinueWith(_ => ThreadNiceValue.Current(), TaskScheduler.Default);
        Assert.Equal(0, after);
    }

    [Fact]
    public async Task A_failing_job_fails_its_task_and_the_lane_goes_on()
    {
        using var lane = new BackgroundLane("test-lane");
        var failed = lane.Run<int>(() => throw new IOException("disk gone"));
        Assert.Equal("disk gone", (await Assert.ThrowsAsync<IOException>(() => failed)).Message);
        Assert.Equal(7, await lane.Run(() => 7));
    }

    [Fact]
    public async Task A_job_cancelled_before_it_starts_never_runs()
    {
        using var lane = new BackgroundLane("test-lane");
        using var gate = new ManualResetEventSlim();
        var blocker = lane.Run(() => gate.Wait(TimeSpan.FromSeconds(10)));
        using var cancel = new CancellationTokenSource();
        var ran = false;
        var cancelled = lane.Run(() => ran = true, cancel.Token);
        cancel.Cancel();
        gate.Set();
        Assert.True(await blocker);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(ran);
    }

    [Fact]
    public async Task An_outcome_handed_to_callbacks_comes_on_the_outcome_thread_at_normal_priority()
    {
        using var lane = new BackgroundLane("test-lane");
        var result = new TaskCompletionSource<(int Value, string? Thread, int? Nice)>(TaskCreationOptions.RunContinuationsAsynchronously);
        lane.Run(() => 6 * 7, value => result.TrySetResult((value, Thread.CurrentThread.Name, ThreadNiceValue.Current())), e => result.TrySetException(e));
        var (value, thread, nice) = await result.Task;
        Assert.Equal(42, value);
        Assert.Equal("test-lane-outcomes", thread);
        Assert.Equal(0, nice);

        var failure = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        lane.Run<int>(() => throw new IOException("disk gone"), _ => failure.TrySetException(new InvalidOperationException("no failure")), e => failure.TrySetResult(e));
        Assert.Equal("disk gone", Assert.IsType<IOException>(await failure.Task).Message);
    }

    [Fact]
    public void A_stopped_lane_fails_a_callback_job_at_once_on_the_callers_thread()
    {
        var lane = new BackgroundLane("test-lane");
        lane.Dispose();
        Exception? failed = null;
        var caller = Environment.CurrentManagedThreadId;
        var on = 0;
        lane.Run(() => 1, _ => { }, e => { failed = e; on = Environment.CurrentManagedThreadId; });
        Assert.IsType<ObjectDisposedException>(failed);
        Assert.Equal(caller, on);
    }
}
