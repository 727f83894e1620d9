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
    /// Runs a script through the runner; answers at once that it failed when the runner is gone,
    /// and that it is not there while no script has been (as the runner would: it looks again at
    /// every run). Most servers have no scripts: their dumps then go without a runner child, and
    /// without its round trip between the open and the HERALD's ack (docs/performance.md).
    /// </summary>
    private void RunScript(Script script, string status, string? reason, DumpRecord? record, TimeSpan timeout)
    {
        if (_scriptsLost)
        {
            Self.Tell(new ScriptResult(script, ScriptOutcome.FailedToStart, null, "the script runner failed"));
            return;
        }

        _pendingScripts.Add(script);
        if (NotInstalled(script))
        {
            Self.Tell(ScriptResult.NotInstalled(script));
            return;
        }

        if (_scripts.IsNobody())
        {
            _scripts = Context.Watch(_scriptRunners(Context, _settings));
        }

        _scripts.Tell(new ScriptRunnerActor.Run(script, [ClientText, _directory],
            ScriptEnvironment(status, reason, record), timeout, ClientText));
    }

    /// <summary>
    /// True when <paramref name="script"/> would be answered "not installed" at once: no runner
    /// yet (it comes with the first script installed, and looks again at every run) and no such
    /// file. The crash gate and the reboot script then go on without that answer, whose round
    /// trip through the mailbox waits, in a crash storm, behind every other dump's start.
    /// </summary>
    private bool NotInstalled(Script script) =>
        !_scriptsLost && _scripts.IsNobody() && !ScriptCheck.IsPresent(ScriptNames.PathIn(_settings.DumpDirectory, script));

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
    private Dictionary<string, string> ScriptEnvironment(string status, string? reason, DumpRecord? record) => new()
    {
        ["NETDUMP_CLIENT_IP"] = ClientText,
        ["NETDUMP_DUMP_DIR"] = _directory,
        ["NETDUMP_HOSTNAME"] = record?.Header?.Hostname ?? "",
        ["NETDUMP_PANIC"] = record?.Header?.PanicString ?? "",
        ["NETDUMP_STATUS"] = status,
        ["NETDUMP_REASON"] = reason ?? "",
    };
}
