namespace Netdump.Actors.Scripts;

/// <summary>What became of one request to run a script.</summary>
public enum ScriptOutcome
{
    /// <summary>No file of that name in the scripts folder: nothing to run, nothing wrong.</summary>
    NotPresent,

    /// <summary>A file is there but fails <see cref="ScriptCheck"/>; the reason is in the detail.</summary>
    Skipped,

    /// <summary>The script ran to its end; see the exit code.</summary>
    Exited,

    /// <summary>The script outran its time limit and was killed with all its descendants.</summary>
    TimedOut,

    /// <summary>The server stopped (past <c>shutdown_timeout</c>) while the script ran; it was killed with all its descendants.</summary>
    KilledAtStop,

    /// <summary>The operating system would not start it (bad interpreter line, exec format error...).</summary>
    FailedToStart,
}

/// <summary>
/// The answer of <see cref="ScriptRunnerActor"/> to a <see cref="ScriptRunnerActor.Run"/>:
/// the <paramref name="Script"/>, what happened, the exit code when it exited, and a
/// human-readable detail (the skip reason, the start error, the time limit).
/// </summary>
public sealed record ScriptResult(Script Script, ScriptOutcome Outcome, int? ExitCode, string? Detail)
{
    /// <summary>The script's file name.</summary>
    public string Name => ScriptNames.FileName(Script);

    public bool ExitedZero => Outcome == ScriptOutcome.Exited && ExitCode == 0;

    /// <summary>The answer for a script that is not installed: nothing to run, nothing wrong.</summary>
    public static ScriptResult NotInstalled(Script script) => new(script, ScriptOutcome.NotPresent, null, null);
}
