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

        Assert.True(threads.Run(e => (firstEngine, firstThread) = (e, Environment.CurrentManagedThreadId)).Wait(Wait));
        SpinWait.SpinUntil(() => threads.Idle == 1, Wait);
        Assert.True(threads.Run(e => (secondEngine, secondThread) = (e, Environment.CurrentManagedThreadId)).Wait(Wait));

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
        var done = Enumerable.Range(0, 3).Select(_ => threads.Run(_ =>
        {
            running.Signal();
            release.Wait();
        })).ToList();

        Assert.True(running.Wait(Wait));
        Assert.Equal(3, threads.ThreadsCreated);
        release.Set();
        Assert.All(done, d => Assert.True(d.Wait(Wait)));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
    }

    [Fact]
    public void A_pump_that_throws_does_not_cost_its_thread()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1));
        Assert.True(threads.Run(_ => throw new InvalidOperationException("pump failed")).Wait(Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.True(threads.Run(_ => { }).Wait(Wait));
        Assert.Equal(1, threads.ThreadsCreated);
    }

    [Fact]
    public void A_thread_idle_for_its_lifetime_exits_and_the_next_pump_gets_a_new_one()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMilliseconds(100));
        Assert.True(threads.Run(_ => { }).Wait(Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 0, Wait)); // after 100 ms idle

        Assert.True(threads.Run(_ => { }).Wait(Wait));
        Assert.Equal(2, threads.ThreadsCreated);
    }

    [Fact]
    public void A_thread_that_cannot_make_its_engine_runs_its_pump_without_one_and_ends()
    {
        using var threads = new PumpThreads(maxIdle: 1, TimeSpan.FromMinutes(1), () => throw new OutOfMemoryException());
        var ran = false;
        var givenAnEngine = true;
        Assert.True(threads.Run(e => (ran, givenAnEngine) = (true, e is not null)).Wait(Wait));

        Assert.True(ran);
        Assert.False(givenAnEngine); // the pump makes its own engine, or reports that it cannot
        Assert.Equal(0, threads.Idle); // the thread did not stay
        Assert.True(threads.Run(_ => { }).Wait(Wait));
        Assert.Equal(2, threads.ThreadsCreated);
    }

    [Fact]
    public void Disposing_ends_the_idle_threads()
    {
        var threads = new PumpThreads(maxIdle: 2, TimeSpan.FromMinutes(1));
        Thread? worker = null;
        Assert.True(threads.Run(_ => worker = Thread.CurrentThread).Wait(Wait));
        Assert.True(SpinWait.SpinUntil(() => threads.Idle == 1, Wait));

        threads.Dispose();

        Assert.Equal(0, threads.Idle);
        Assert.True(worker!.Join(Wait), "the idle thread did not exit");
    }
}
