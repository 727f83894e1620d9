using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// The session's scripts: run through its runner child, made the first time a script is
/// installed, which may fail and leave the dump going on without them.
/// </summary>
public sealed partial class ClientSessionActor
{
    private readonly HashSet<Script> _pendingScripts = [];
    private bool _scriptsLost;

    /// <summary>
    /// Runs a script through the runner; true when a <see cref="ScriptResult"/> will come (from the
    /// runner, or at once when the runner is gone), false when the script is not installed and no
    /// runner exists yet to look again (it does at every run): nothing runs then and no answer
    /// comes, so the caller goes on in the same message. Most servers have no scripts: their
    /// dumps go without a runner child, and a "not installed" answer's round trip through the
    /// mailbox, which in a crash storm waits behind every other dump's start, would stand between
    /// the open and the HERALD's ack (docs/performance.md).
    /// </summary>
    private bool TryRunScript(Script script, DumpStatus status, EndReason? reason, DumpRecord? record, TimeSpan timeout)
    {
        if (_scriptsLost)
        {
            Self.Tell(new ScriptResult(script, ScriptOutcome.FailedToStart, null, "the script runner failed"));
            return true;
        }

        if (_scripts.IsNobody())
        {
            if (!ScriptCheck.IsPresent(ScriptNames.PathIn(_settings.DumpDirectory, script)))
            {
                return false;
            }

            _scripts = Context.Watch(_scriptRunners(Context, _settings));
        }

        _pendingScripts.Add(script);
        _scripts.Tell(new ScriptRunnerActor.Run(script, [ClientText, _directory],
            ScriptEnvironment(status, reason, record), timeout, ClientText));
        return true;
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is ScriptResult result)
        {
            _pendingScripts.Remove(result.Script);
        }

        return base.AroundReceive(receive, message);
    }

    /// <summary>
    /// The script runner failed (it is stopped by this session's strategy): the dump goes on
    /// without scripts, and whatever script was pending counts as one that failed to start.
    /// </summary>
    private void ScriptsLost()
    {
        _scriptsLost = true;
        _log.Error("Client {Client}: the script runner failed; this dump goes on without scripts", ClientText);
        foreach (var script in _pendingScripts.ToList())
        {
            Self.Tell(new ScriptResult(script, ScriptOutcome.FailedToStart, null, "the script runner failed"));
        }
    }

    /// <summary>The NETDUMP_* variables every script gets (SPEC §5).</summary>
    private Dictionary<string, string> ScriptEnvironment(DumpStatus status, EndReason? reason, DumpRecord? record) => new()
    {
        [ScriptVariables.ClientIp] = ClientText,
        [ScriptVariables.DumpDir] = _directory,
        [ScriptVariables.Hostname] = record?.Header?.Hostname ?? "",
        [ScriptVariables.Panic] = record?.Header?.PanicString ?? "",
        [ScriptVariables.Status] = DumpJson.StatusName(status),
        [ScriptVariables.Reason] = reason?.Text ?? "",
    };
}
