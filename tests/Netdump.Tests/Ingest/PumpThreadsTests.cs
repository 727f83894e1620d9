using Netdump.Actors.Ingest;

namespace Netdump.Tests.Ingest;

/// <summary>The listener's pump threads: reused between dumps, bounded while idle, gone when idle too long.</summary>
public sealed class PumpThreadsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_thread_serves_the_next_pump_when_its_pump_returned()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        BatchedReceiveEngine? firstEngine = null, secondEngine = null;

        var first = RunToEnd(threads, e => firstEngine = e);
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        var second = RunToEnd(threads, e => secondEngine = e);

        Assert.Same(first, second);
        Assert.Same(firstEngine, secondEngine); // its receive buffers go with it
    }

    [Fact]
    public void Pumps_at_once_get_a_thread_each_and_only_max_idle_threads_wait_afterwards()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        using var release = new ManualResetEventSlim();
        using var running = new CountdownEvent(3);
        var pumpThreads = new System.Collections.Concurrent.ConcurrentBag<Thread>();
        for (var i = 0; i < 3; i++)
        {
            threads.Run(_ =>
            {
                pumpThreads.Add(Thread.CurrentThread);
                running.Signal();
                release.Wait();
            });
        }

        Assert.True(running.Wait(Wait));
        Assert.Equal(3, pumpThreads.Distinct().Count());
        release.Set();
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.False(SpinWait.SpinUntil(() => threads.Idle > 1, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void A_pump_that_throws_does_not_cost_its_thread()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        var first = RunToEnd(threads, _ => throw new InvalidOperationException("pump failed"));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.Same(first, RunToEnd(threads, _ => { }));
    }

    [Fact]
    public void A_thread_idle_for_its_lifetime_exits_and_the_next_pump_gets_a_new_one()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMilliseconds(100));
        var first = RunToEnd(threads, _ => { });
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 0, Wait)); // after 100 ms idle
        Assert.True(first.Join(Wait), "the idle thread did not exit");

        Assert.NotSame(first, RunToEnd(threads, _ => { }));
    }

    [Fact]
    public void Disposing_ends_the_idle_threads()
    {
        var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        var worker = RunToEnd(threads, _ => { });
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));

        threads.Dispose();

        Assert.Equal(0, threads.Idle);
        Assert.True(worker.Join(Wait), "the idle thread did not exit");
    }

    /// <summary>Runs a pump, waits until it returned, and gives the thread that ran it.</summary>
    private static Thread RunToEnd(PumpThreads threads, Action<BatchedReceiveEngine?> pump)
    {
        using var done = new ManualResetEventSlim();
        Thread? ranOn = null;
        threads.Run(e =>
        {
            ranOn = Thread.CurrentThread;
            try
            {
                pump(e);
            }
            finally
            {
                done.Set();
            }
        });
        Assert.True(done.Wait(Wait));
        return ranOn!;
    }
}
