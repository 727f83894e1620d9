using Akka.Configuration;
using Akka.Dispatch;

namespace Netdump.Actors.Scheduling;

/// <summary>
/// The executor of the disk dispatcher (<c>netdump-disk-dispatcher</c> in netdump.hocon): a few
/// threads of its own for the writers, whose work blocks in <c>mkdir</c>, file creation and
/// <c>fsync</c>. On the .NET thread pool, where the control actors also run, 128 dumps' flush
/// ticks blocked the pool's few threads and a new dump's HERALD waited behind them for its
/// session, its slot and its directory (docs/performance.md, "Where a storm's time went"). Akka's
/// own dedicated pool (<c>fork-join-executor</c>) isolates as well, but its threads spin in
/// <c>sched_yield</c> before they sleep, on every wake-up; these sleep on a monitor at once.
/// </summary>
public sealed class DiskThreadsConfigurator : ExecutorServiceConfigurator
{
    private readonly int _threads;

    public DiskThreadsConfigurator(Config config, IDispatcherPrerequisites prerequisites) : base(config, prerequisites)
    {
        _threads = config.GetInt("thread-count", 4);
        if (_threads < 1)
        {
            throw new ConfigurationException($"thread-count must be at least 1, not {_threads}");
        }
    }

    public override ExecutorService Produce(string id) => new DiskThreads(id, _threads);
}

/// <summary>
/// Runs each queued mailbox run on the first of its threads that is free: first the mailboxes
/// with a message a client waits for (<see cref="ClientWaitsQueue"/>), then in order.
/// </summary>
public sealed class DiskThreads : ExecutorService
{
    private readonly WaitQueue<IRunnable> _queue = new(run => run is Mailbox { MessageQueue: ClientWaitsQueue { ClientWaits: true } });

    public DiskThreads(string id, int threads) : base(id)
    {
        for (var i = 0; i < threads; i++)
        {
            new Thread(Serve) { IsBackground = true, Name = "disk-" + i }.Start();
        }
    }

    public override void Execute(IRunnable run)
    {
        if (!_queue.Add(run))
        {
            // as any executor after its shutdown: the dispatcher knows what to do with a refusal
            throw new RejectedExecutionException($"{Id} is shut down");
        }
    }

    public override void Shutdown() => _queue.Complete();

    private void Serve()
    {
        while (_queue.Take(out var run))
        {
            try
            {
                run.Run();
            }
            catch (Exception)
            {
                // a mailbox run handles its actor's failures itself; nothing may end the thread
            }
        }
    }
}
