namespace Netdump.Actors.Ingest;

/// <summary>
/// The threads that run the sessions' receive pumps (batched engine), owned by the listener and
/// kept between dumps. A pump thread serves its session until FINISHED (the lingering socket
/// then moves to the listener's linger pump), then waits for the next dump with the same
/// <see cref="BatchedReceiveEngine"/> and its buffers already in memory: a new thread costs its
/// start and its engine's page faults, and a thread a few milliseconds old is preempted by
/// nearly every wake-up of a client on its core, far more often than one that has run a while
/// (docs/performance.md, "The fixed cost per dump"). At most
/// <c>maxIdle</c> threads wait, each for at most <c>idleLifetime</c>; the others exit.
/// </summary>
internal sealed class PumpThreads : IDisposable
{
    private readonly object _gate = new();
    private readonly List<Worker> _idle = [];
    private readonly int _maxIdle;
    private readonly TimeSpan _idleLifetime;
    private bool _disposed;
    private int _busy;

    public PumpThreads(int maxIdle, TimeSpan idleLifetime)
    {
        _maxIdle = maxIdle;
        _idleLifetime = idleLifetime;
    }

    /// <summary>How many threads wait for a pump.</summary>
    public int Idle
    {
        get
        {
            lock (_gate)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="pump"/> as <see cref="Run"/> does unless <paramref name="maxBusy"/>
    /// threads already run one; false then, and the caller serves the session another way.
    /// </summary>
    public bool TryRun(Action<BatchedReceiveEngine?> pump, int maxBusy)
    {
        lock (_gate)
        {
            if (_busy >= maxBusy)
            {
                return false;
            }

            Run(pump);
            return true;
        }
    }

    /// <summary>
    /// Runs <paramref name="pump"/> (given the thread's engine; null when the thread could not
    /// make one, and the pump makes its own or reports why not) on a waiting thread, or on a new
    /// one.
    /// </summary>
    public void Run(Action<BatchedReceiveEngine?> pump)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref _busy);
            if (_idle.Count > 0)
            {
                var worker = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
                worker.Assign(pump);
                return;
            }
        }

        new Thread(() => Serve(pump)) { IsBackground = true, Name = "session-pump" }.Start();
    }

    private void Serve(Action<BatchedReceiveEngine?> first)
    {
        BatchedReceiveEngine? engine = null;
        try
        {
            engine = new BatchedReceiveEngine();
        }
        catch (Exception)
        {
            // out of memory for 4 MiB of buffers: this one pump goes without (it makes its own
            // engine inside its error handling, or reports the failure), and the thread ends
        }

        using var worker = new Worker();
        for (var pump = first; pump is not null; pump = engine is null ? null : Park(worker))
        {
            try
            {
                pump(engine);
            }
            catch (Exception)
            {
                // a pump reports its own failures to its session; the thread goes on serving
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
            }
        }

        engine?.Dispose();
    }

    /// <summary>Waits as an idle thread for the next pump; null when the thread should exit.</summary>
    private Action<BatchedReceiveEngine?>? Park(Worker worker)
    {
        lock (_gate)
        {
            if (_disposed || _idle.Count >= _maxIdle)
            {
                return null;
            }

            _idle.Add(worker);
        }

        if (worker.Signal.Wait(_idleLifetime))
        {
            return worker.Take();
        }

        lock (_gate)
        {
            if (_idle.Remove(worker))
            {
                return null; // idle too long
            }
        }

        // Run took this thread as its wait timed out: the pump is on its way
        worker.Signal.Wait();
        return worker.Take();
    }

    /// <summary>Idle threads exit now; busy ones when their pump returns.</summary>
    public void Dispose()
    {
        List<Worker> idle;
        lock (_gate)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }

        foreach (var worker in idle)
        {
            worker.Assign(null);
        }
    }

    private sealed class Worker : IDisposable
    {
        private Action<BatchedReceiveEngine?>? _pump;

        /// <summary>
        /// Set when a pump was handed over. It does not spin before it blocks: a SemaphoreSlim
        /// spins in sched_yield each time a thread goes idle (docs/performance.md).
        /// </summary>
        public ManualResetEventSlim Signal { get; } = new(false, spinCount: 0);

        /// <summary>Hands a pump (null: exit) to the waiting thread; only a thread in the idle list gets one.</summary>
        public void Assign(Action<BatchedReceiveEngine?>? pump)
        {
            Volatile.Write(ref _pump, pump);
            Signal.Set();
        }

        public Action<BatchedReceiveEngine?>? Take()
        {
            Signal.Reset();
            return Interlocked.Exchange(ref _pump, null);
        }

        public void Dispose() => Signal.Dispose();
    }
}
