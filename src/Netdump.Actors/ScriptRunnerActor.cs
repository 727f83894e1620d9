using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Scripts;

namespace Netdump.Actors;

/// <summary>
/// Runs a session's hook scripts from <c>&lt;dumpDirectory&gt;/scripts/</c> (SPEC §5). Answers
/// every <see cref="Run"/> with exactly one <see cref="ScriptResult"/> to its sender: at once when
/// the script is missing or fails <see cref="ScriptCheck"/>, otherwise when the process has
/// exited or been killed at its time limit. The process is awaited on a pool thread and the
/// outcome piped back, so the actor never blocks and several runs may be in flight at once.
/// A script problem is always an answer, never an exception out of the actor.
/// </summary>
public sealed class ScriptRunnerActor : UntypedActor
{
    private readonly string _dumpDirectory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Metrics.NetdumpMetrics _metrics = MetricsExtension.For(Context.System);

    // cancelled as the runner stops: a run still going is killed (with its children), not orphaned
    private readonly CancellationTokenSource _stopping = new();

    public ScriptRunnerActor(string dumpDirectory)
    {
        _dumpDirectory = dumpDirectory;
    }

    /// <summary>
    /// Run <paramref name="Script"/> (its file <see cref="ScriptNames.FileName"/> in the scripts folder) with
    /// <paramref name="Arguments"/> after the program name (SPEC §5: the client IP, then the dump
    /// directory) and <paramref name="Environment"/> on top of a clean base (the NETDUMP_*
    /// facts). <paramref name="Client"/> names the client in the log.
    /// </summary>
    public sealed record Run(Script Script, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, TimeSpan Timeout, string Client)
    {
        /// <summary>The script's file name.</summary>
        public string Name => ScriptNames.FileName(Script);
    }

    /// <summary>A process run has ended; answer whoever asked for it.</summary>
    private sealed record Completed(Run Run, string Path, IActorRef ReplyTo, ScriptResult Result);

    public static Props Props(string dumpDirectory) =>
        ActorProps.Of(() => new ScriptRunnerActor(dumpDirectory));

    /// <summary>
    /// A runner stopped as the server stops (after <c>shutdown_timeout</c>) kills a script still
    /// running, with its children, and logs it: it is not left running without the server. One
    /// stopped with its session (a dump's end while <c>netdump-nospace</c> still cleans up, a lost
    /// writer) lets its scripts run to their own end or time limit.
    /// </summary>
    protected override void PostStop()
    {
        if (CoordinatedShutdown.Get(Context.System).ShutdownReason is not null)
        {
            _stopping.Cancel();
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Run run:
                HandleRun(run);
                break;
            case Completed completed:
                HandleCompleted(completed);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void HandleRun(Run run)
    {
        // Captured here: by the time the process ends, Sender is whoever sent the last message.
        var replyTo = Sender;
        var path = ScriptNames.PathIn(_dumpDirectory, run.Script);

        var refusal = RefuseRequest(run);
        if (refusal is not null)
        {
            _log.Warning("not running script {Script} for {Client}: {Reason}", run.Name, run.Client, refusal);
            Answer(replyTo, new ScriptResult(run.Script, ScriptOutcome.FailedToStart, null, refusal));
            return;
        }

        // Two stat calls on the actor thread: cheap and on the local dump file system, and they
        // let a missing or unsafe script be answered at once.
        if (!ScriptCheck.IsPresent(path))
        {
            _log.Debug("no script {Path}", path);
            Answer(replyTo, ScriptResult.NotInstalled(run.Script));
            return;
        }

        var reason = ScriptCheck.WhyNotRunnable(path);
        if (reason is not null)
        {
            _log.Warning("skipping {Path}: {Reason}", path, reason);
            Answer(replyTo, new ScriptResult(run.Script, ScriptOutcome.Skipped, null, reason));
            return;
        }

        _log.Info("running {Path} for {Client}", path, run.Client);
        var log = _log;
        var workingDirectory = _dumpDirectory;
        var stopping = _stopping.Token;
        // Process.Start forks and execs, and the wait may last the whole time limit: both happen
        // on a pool thread. The task touches no actor state; its result comes back as a message.
        Task.Run(() => ScriptProcess.RunAsync(path, workingDirectory, run, log, stopping)).PipeTo(
            Self,
            success: result => new Completed(run, path, replyTo, result),
            failure: e => new Completed(run, path, replyTo, new ScriptResult(run.Script, ScriptOutcome.FailedToStart, null, e.Message)));
    }

    private void HandleCompleted(Completed completed)
    {
        var (run, path, replyTo, result) = completed;
        switch (result.Outcome)
        {
            case ScriptOutcome.TimedOut:
                _log.Warning("{Script} for {Client} did not finish within {Seconds} s and was killed",
                    run.Name, run.Client, ScriptProcess.Seconds(run.Timeout));
                break;
            case ScriptOutcome.Exited when result.ExitCode != 0:
                _log.Warning("{Script} for {Client} exited with code {ExitCode}", run.Name, run.Client, result.ExitCode);
                break;
            case ScriptOutcome.Exited:
                _log.Info("{Script} for {Client} exited with code 0", run.Name, run.Client);
                break;
            case ScriptOutcome.FailedToStart:
                _log.Warning("{Path} for {Client} could not be started: {Reason}", path, run.Client, result.Detail);
                break;
        }

        Answer(replyTo, result);
    }

    /// <summary>Every outcome ends here: counted (<c>netdump_script_runs_total</c>) and answered.</summary>
    private void Answer(IActorRef replyTo, ScriptResult result)
    {
        _metrics.ScriptRan(result.Script, result.Outcome, result.ExitCode);
        replyTo.Tell(result);
    }

    /// <summary>A request the runner cannot honour whatever the scripts folder holds.</summary>
    private static string? RefuseRequest(Run run)
    {
        // CancellationTokenSource takes up to int.MaxValue milliseconds (about 24 days).
        if (run.Timeout <= TimeSpan.Zero || run.Timeout.TotalMilliseconds > int.MaxValue)
        {
            return $"time limit {run.Timeout} is out of range";
        }

        return null;
    }
}
