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
        int firstThread = 0, secondThread = 0;

        RunToEnd(threads, e => (firstEngine, firstThread) = (e, Environment.CurrentManagedThreadId));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        RunToEnd(threads, e => (secondEngine, secondThread) = (e, Environment.CurrentManagedThreadId));

        Assert.Equal(1, threads.ThreadsCreated);
        Assert.Equal(firstThread, secondThread);
        Assert.Same(firstEngine, secondEngine); // its receive buffers go with it
    }

    [Fact]
    public void Pumps_at_once_get_a_thread_each_and_only_max_idle_threads_wait_afterwards()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        using var release = new ManualResetEventSlim();
        using var running = new CountdownEvent(3);
        for (var i = 0; i < 3; i++)
        {
            threads.Run(_ =>
            {
                running.Signal();
                release.Wait();
            });
        }

        Assert.True(running.Wait(Wait));
        Assert.Equal(3, threads.ThreadsCreated);
        release.Set();
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.False(SpinWait.SpinUntil(() => threads.Idle > 1, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public void A_pump_that_throws_does_not_cost_its_thread()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        RunToEnd(threads, _ => throw new InvalidOperationException("pump failed"));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        RunToEnd(threads, _ => { });
        Assert.Equal(1, threads.ThreadsCreated);
    }

    [Fact]
    public void A_thread_idle_for_its_lifetime_exits_and_the_next_pump_gets_a_new_one()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMilliseconds(100));
        RunToEnd(threads, _ => { });
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 0, Wait)); // after 100 ms idle

        RunToEnd(threads, _ => { });
        Assert.Equal(2, threads.ThreadsCreated);
    }

    [Fact]
    public void A_thread_that_cannot_make_its_engine_runs_its_pump_without_one_and_ends()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1), () => throw new OutOfMemoryException());
        var ran = false;
        var givenAnEngine = true;
        RunToEnd(threads, e => (ran, givenAnEngine) = (true, e is not null));

        Assert.True(ran);
        Assert.False(givenAnEngine); // the pump makes its own engine, or reports that it cannot
        Assert.Equal(0, threads.Idle); // the thread did not stay
        RunToEnd(threads, _ => { });
        Assert.Equal(2, threads.ThreadsCreated);
    }

    [Fact]
    public void Disposing_ends_the_idle_threads()
    {
        var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        Thread? worker = null;
        RunToEnd(threads, _ => worker = Thread.CurrentThread);
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));

        threads.Dispose();

        Assert.Equal(0, threads.Idle);
        Assert.True(worker!.Join(Wait), "the idle thread did not exit");
    }

    /// <summary>Runs a pump and waits until it returned.</summary>
    private static void RunToEnd(PumpThreads threads, Action<BatchedReceiveEngine?> pump)
    {
        using var done = new ManualResetEventSlim();
        threads.Run(e =>
        {
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
    }
}
