using System.Diagnostics;
using System.Globalization;
using Akka.Event;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Scripts;

/// <summary>
/// Runs one script process to its end or its time limit: a clean environment with client text
/// made one printable line, stdin at EOF, stdout and stderr logged line by line within the
/// bounds of <see cref="ScriptOutput"/>, the whole process tree killed on expiry. No actor
/// state: <see cref="ScriptRunnerActor"/> calls it on a pool thread and pipes the result back.
/// </summary>
internal static class ScriptProcess
{
    /// <summary>The PATH a script gets: the usual system directories, nothing from the server's environment.</summary>
    public const string SearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// How long output is still read after the script has ended. A background child the script
    /// left behind may hold the pipes open for ever; its output is not worth delaying the answer.
    /// </summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long a killed process tree gets to be reaped; SIGKILL cannot be ignored, so this is a backstop.</summary>
    private static readonly TimeSpan ReapGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The environment every script starts from. The server's own environment is not passed on:
    /// it may hold anything (credentials, LD_PRELOAD, a user's PATH), and a hook must behave the
    /// same however the server was started.
    /// </summary>
    public static Dictionary<string, string> BaseEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = SearchPath,
            ["LANG"] = "C.UTF-8",
        };

        // On Unix this is $HOME, or the password database entry of the effective user when
        // HOME is unset (as under some init systems); empty when neither is known.
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            environment["HOME"] = home;
        }

        return environment;
    }

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="run"/>'s arguments and environment in
    /// <paramref name="workingDirectory"/> and waits for it. Never throws: every failure is a result.
    /// </summary>
    public static async Task<ScriptResult> RunAsync(string path, string workingDirectory, ScriptRunnerActor.Run run, ILoggingAdapter log,
        CancellationToken serverStopping = default)
    {
        var start = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            // Stdin is redirected and closed at once below, so a script that reads it sees EOF
            // instead of sharing the server's stdin (a terminal, or whatever a daemon inherited).
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in run.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Clear();
        foreach (var (key, value) in BaseEnvironment())
        {
            start.Environment[key] = value;
        }

        // The NETDUMP_* values carry client text (the hostname and panic string of the kernel
        // dump header) that a script is likely to echo into the log or a message: cleaned here,
        // for every value and every caller, by the rule the server's own log lines follow.
        foreach (var (key, value) in run.Environment)
        {
            start.Environment[key] = DumpReport.OneLine(value);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e)
        {
            // execve failures (ENOENT for a missing interpreter, ENOEXEC, EACCES, ETXTBSY) come
            // back from the forked child as a Win32Exception; anything else is as fatal for this run.
            return new ScriptResult(run.Script, ScriptOutcome.FailedToStart, null, e.Message);
        }

        process.StandardInput.Close();
        var output = new ScriptOutput(
            line => log.Info("{Script} [{Client}]: {Line}", run.Name, run.Client, line),
            line => log.Warning("{Script} [{Client}]: {Line}", run.Name, run.Client, line));
        // The pipes' bytes, not their readers: ScriptOutput cuts the lines itself, in fixed
        // buffers, and decodes only what it logs.
        var stdout = output.PumpStdoutAsync(process.StandardOutput.BaseStream);
        var stderr = output.PumpStderrAsync(process.StandardError.BaseStream);

        ScriptOutcome? killed = null;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(serverStopping))
        {
            limit.CancelAfter(run.Timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                killed = serverStopping.IsCancellationRequested ? ScriptOutcome.KilledAtStop : ScriptOutcome.TimedOut;
                if (killed == ScriptOutcome.KilledAtStop)
                {
                    // past shutdown_timeout: not left running without the server that waits for it
                    log.Warning("{Script} for {Client} is killed: the server stops before it ended", run.Name, run.Client);
                }

                KillTree(process, log);
                try
                {
                    await process.WaitForExitAsync().WaitAsync(ReapGrace).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    log.Error("{Script} for {Client} was killed but has not ended after {Seconds} s", run.Name, run.Client, ReapGrace.TotalSeconds);
                }
            }
        }

        try
        {
            await Task.WhenAll(stdout, stderr).WaitAsync(DrainGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            log.Debug("{Script} for {Client} ended but its output is still open (a background child?); no longer read", run.Name, run.Client);
        }

        if (output.Close() is { } cut)
        {
            log.Warning("{Script} for {Client}: output cut: {Cut}", run.Name, run.Client, cut);
        }

        return killed is { } outcome
            ? new ScriptResult(run.Script, outcome, null, outcome == ScriptOutcome.TimedOut ? $"killed after {Seconds(run.Timeout)} s" : "killed: the server stopped")
            : new ScriptResult(run.Script, ScriptOutcome.Exited, process.ExitCode, null);
    }

    /// <summary>A time limit in seconds for the log: "60", "0.3".</summary>
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static void KillTree(Process process, ILoggingAdapter log)
    {
        try
        {
            // The script's children (a sleep, a mail command) die with it; otherwise a hung
            // child would outlive its limit and could hold the output pipes open.
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended between the deadline and the kill: nothing left to kill.
        }
        catch (Exception e)
        {
            log.Warning(e, "killing the process tree of pid {Pid} failed", process.Id);
        }
    }
}
