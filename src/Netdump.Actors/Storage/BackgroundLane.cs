using Netdump.Actors.Native;
using Netdump.Actors.Scheduling;

namespace Netdump.Actors.Storage;

/// <summary>
/// One thread for the work on finished dumps that nobody waits for (the SHA-256 of a core),
/// one job at a time, in order: the checksums of complete dumps (<see cref="Shared"/>), and
/// apart the storage care of complete dumps (decryption, compression at rest), which also pauses
/// while any dump is received. On Linux the thread runs at nice <see cref="Nice"/>: beside a
/// busy thread at nice 0 it gets a small share of a core, so in a crash storm it takes little
/// CPU from the dumps still arriving (a checksum per finished dump, each on a thread of its
/// own at normal priority, competed with them; docs/performance.md), and on
/// an idle machine it runs at full speed. SCHED_IDLE would take nothing at all, but a machine
/// that is never idle (a collector beside other work) would then never get its checksums.
/// <para>
/// A thread a niced thread starts inherits its nice value, and .NET's thread pool may start a
/// worker on the thread that queues work to it: so the lane thread never completes a task
/// itself (whose continuations go to the pool), and a second thread at normal priority hands
/// each outcome over. Elsewhere than Linux both run at normal priority.
/// </para>
/// </summary>
public sealed class BackgroundLane : IDisposable
{
    private readonly WaitQueue<Action> _jobs = new();
    private readonly WaitQueue<Action> _outcomes = new();

    /// <summary>The lane thread's nice value (weight 110 against 1024 at nice 0).</summary>
    public const int Nice = 10;

    public BackgroundLane(string name = "background-lane")
    {
        new Thread(Deliver) { IsBackground = true, Name = name + "-outcomes" }.Start();
        new Thread(Work) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>The process's lane: its threads start with the first job.</summary>
    public static BackgroundLane Shared => SharedLane.Value;

    private static readonly Lazy<BackgroundLane> SharedLane = new(() => new BackgroundLane());

    /// <summary>
    /// Queues <paramref name="job"/>; the task ends with its result or exception. A job whose
    /// <paramref name="cancel"/> fired before it started is cancelled without running.
    /// </summary>
    public Task<T> Run<T>(Func<T> job, CancellationToken cancel = default)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Run(job, result => done.TrySetResult(result), e =>
        {
            if (e is OperationCanceledException cancelled)
            {
                done.TrySetCanceled(cancelled.CancellationToken);
            }
            else
            {
                done.TrySetException(e);
            }
        }, cancel);
        return done.Task;
    }

    /// <summary>
    /// Queues <paramref name="job"/>; <paramref name="done"/> gets its result, or
    /// <paramref name="failed"/> its exception (an <see cref="OperationCanceledException"/> for a
    /// job whose <paramref name="cancel"/> fired before it started, which then never runs), on
    /// the lane's outcome thread at normal priority: no task, and no hop through the thread pool,
    /// for a caller whose answer is one <c>Tell</c> (a dump's checksum: one thread hand-off fewer
    /// per dump). Both must be quick and must not throw. A lane already stopped fails the job at once,
    /// on the caller's thread.
    /// </summary>
    public void Run<T>(Func<T> job, Action<T> done, Action<Exception> failed, CancellationToken cancel = default)
    {
        var queued = _jobs.Add(() =>
        {
            Action outcome;
            if (cancel.IsCancellationRequested)
            {
                outcome = () => failed(new OperationCanceledException(cancel));
            }
            else
            {
                try
                {
                    var result = job();
                    outcome = () => done(result);
                }
                catch (Exception e)
                {
                    outcome = () => failed(e);
                }
            }

            _outcomes.Add(outcome);
        });
        if (!queued)
        {
            failed(new ObjectDisposedException(nameof(BackgroundLane), "the lane was stopped"));
        }
    }

    private void Work()
    {
        ThreadNice.SetCurrent(Nice);
        while (_jobs.Take(out var job))
        {
            job();
        }

        _outcomes.Complete();
    }

    private void Deliver()
    {
        while (_outcomes.Take(out var outcome))
        {
            outcome();
        }
    }

    /// <summary>Runs what is queued, hands over its outcomes, then both threads end.</summary>
    public void Dispose() => _jobs.Complete();
}
