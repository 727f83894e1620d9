using System.Net;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// Linux clients beyond a session: a refused one is rebooted (at most every
/// <see cref="RebootRefusedEvery"/>) and its console text kept once per episode; a client whose
/// console starts runs <c>netdump-start</c>.
/// </summary>
public sealed partial class UdpListenerActor
{
    /// <summary>From a session: its Linux client was refused a slot; reboot it, keeping its console text.</summary>
    public sealed record LinuxRefused(Herald Herald);

    /// <summary>
    /// A Linux client refused beyond the limit: rebooted, and its console text kept in a
    /// <c>refused</c> directory, once per refusal episode and at most <see cref="RefusedDump.MaxKept"/>
    /// times a run (a small write: the console text is at most 64 KiB).
    /// </summary>
    private void KeepRefused(Herald herald)
    {
        RebootRefused(herald.Client, herald.Linux!.Magic);
        if (_linux is null || !_linuxRefusals.Refuse(herald.Client.Address).Log)
        {
            return;
        }

        if (_refusedKept >= Storage.RefusedDump.MaxKept)
        {
            _log.Warning("Client {Client}: refused and rebooted; its console text is not kept ({Max} refused directories this run already)",
                herald.Client.Address, Storage.RefusedDump.MaxKept);
            return;
        }

        // the directory and its fsynced reports are written off this actor, which routes every HERALD
        _refusedKept++;
        var console = _linux.RecentConsole(herald.Client.Address).Text;
        var dumpDirectory = _settings.DumpDirectory;
        Task.Run(() => Storage.RefusedDump.Write(dumpDirectory, herald, console)).PipeTo(Self,
            success: record => new RefusedKept(herald.Client.Address, record),
            failure: e => new RefusedNotKept(herald.Client.Address, e.GetBaseException().Message));
    }

    private sealed record RefusedKept(IPAddress Client, DumpRecord Record);

    private sealed record RefusedNotKept(IPAddress Client, string Error);

    /// <summary>A refused client's console text was kept: the catalog hears of it, and one log line.</summary>
    private void ReportRefusedKept(RefusedKept kept)
    {
        Context.System.EventStream.Publish(new Catalog.CatalogProtocol.DumpChanged(kept.Record));
        _log.Info("Client {Client}: refused and rebooted; its console text is kept in {Dir}", kept.Client, kept.Record.Directory);
    }

    private void ReportRefusedNotKept(RefusedNotKept notKept) =>
        _log.Warning("Client {Client}: refused and rebooted; cannot keep its console text: {Error}", notKept.Client, notKept.Error);

    /// <summary>
    /// Reboots a refused Linux client, at most once every <see cref="RebootRefusedEvery"/> per
    /// address: a client repeats its START every second, and a spoofed START must not make this
    /// server send six datagrams for each one it gets.
    /// </summary>
    private void RebootRefused(IPEndPoint client, ulong magic)
    {
        if (_refusedReboots.TryTake(client.Address))
        {
            _linux?.Reboot(client, magic);
        }
    }

    /// <summary>A refused client's reboot is repeated at most this often (it takes about 3 s to act on one).</summary>
    internal static readonly TimeSpan RebootRefusedEvery = TimeSpan.FromSeconds(5);

    /// <summary>netdump-start, when a Linux client's console starts (it loaded its netdump module): at most once a minute per client.</summary>
    private void RunStartScript(IPAddress client)
    {
        if (!_known.IsAllowed(client))
        {
            return; // secure: an unknown (or spoofed) address runs nothing
        }

        if (!_startScriptsRun.TryTake(client))
        {
            return;
        }

        _log.Info("Client {Client}: its netdump module started; running netdump-start", client);
        _startScripts.Tell(new ScriptRunnerActor.Run(Script.Start, [client.ToString()],
            new Dictionary<string, string> { [Scripts.ScriptVariables.ClientIp] = client.ToString() }, _settings.ScriptTimeout, client.ToString()));
    }

    /// <summary>A client that reboots in a loop runs netdump-start at most this often.</summary>
    internal static readonly TimeSpan StartScriptInterval = TimeSpan.FromMinutes(1);
}
