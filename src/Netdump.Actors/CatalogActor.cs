using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Catalog;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using static Netdump.Actors.Catalog.CatalogProtocol;

namespace Netdump.Actors;

/// <summary>
/// Holds every dump under dumpdir (SPEC §9): built at start from the <c>dump.json</c> files the
/// recovery scan read, then kept current by the writers' <see cref="DumpChanged"/> and
/// <see cref="DumpProgress"/> and retention's <see cref="DumpsRemoved"/> on the event stream, so
/// that no question it answers walks the disk. Answers <see cref="QueryDumps"/>,
/// <see cref="GetDump"/>, <see cref="GetSessions"/> and <see cref="GetGroups"/>. Watches the
/// panic groups for storms (<see cref="StormWatch"/>): one warning, <c>netdump_storms_total</c>
/// and <c>netdump-storm</c> through its script runner child.
/// </summary>
public sealed class CatalogActor : UntypedActor
{
    private readonly CatalogIndex _index;
    private readonly string _root;
    private readonly NetdumpSettings _settings;
    private readonly TimeProvider _time;
    private readonly StormWatch _storms;
    private readonly Metrics.NetdumpMetrics _metrics = MetricsExtension.For(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _scripts = ActorRefs.Nobody;

    // in a cluster: this node's name, the fleet catalog child, the nodes not reachable now
    private readonly string? _node;
    private IActorRef? _fleet;
    private readonly HashSet<string> _unreachable = new(StringComparer.Ordinal);

    public CatalogActor(NetdumpSettings settings, CatalogSeed seed, TimeProvider time)
    {
        _index = new CatalogIndex(seed.Strings);
        _settings = settings;
        _root = settings.DumpDirectory;
        _time = time;
        _storms = new StormWatch(settings.Storm);
        _node = settings.Cluster?.NodeName;
        foreach (var entry in seed.Entries)
        {
            _index.Put(Local(entry));
        }
    }

    /// <summary>
    /// The catalog's one state: a <c>switch</c> tried top to bottom (the first case whose type
    /// matches wins), where a <c>ReceiveActor</c> compiled its matcher when its first message came
    /// (in a crash storm, the first dump's <see cref="DumpChanged"/>).
    /// </summary>
    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case DumpChanged changed:
                Changed(Local(CatalogEntries.FromRecord(_root, changed.Record)));
                break;
            case DumpProgress progress:
                HandleProgress(progress);
                break;
            case DumpsRemoved removed:
                foreach (var directory in removed.Directories)
                {
                    var id = LocalId(directory);
                    _index.Remove(id);
                    _fleet?.Tell(new FleetCatalogActor.Unpublish(id));
                }

                Count();
                break;
            case QueryDumps q:
                Sender.Tell(_index.Query(q.Filter, q.Offset, q.Limit));
                break;
            case GetDump g:
                Sender.Tell(Find(g.Id) is { } found ? new DumpFound(found) : DumpNotFound.Instance);
                break;
            case GetSessions:
                Sender.Tell(new Sessions(_index.Receiving()));
                break;
            case GetGroups q:
                var (total, groups) = _index.Groups.Page(q.Offset, q.Limit, q.HostsListed);
                Sender.Tell(new Groups(total, groups.Select(g => g with { StormAt = _storms.StormAt(g.Key.Id) }).ToList()));
                break;
            case ScriptResult:
                break; // netdump-storm's outcome: the runner logged it
            case FleetCatalogActor.RemoteChanged changed:
                // other nodes' dumps: shown, but they make no storm here (their own node watches them)
                foreach (var id in changed.Removed)
                {
                    _index.Remove(id);
                }

                foreach (var entry in changed.Put)
                {
                    _index.Put(entry with { Unreachable = entry.Node is { } node && _unreachable.Contains(node) });
                }

                Count();
                break;
            case FleetCatalogActor.NodeReachability reachability:
                HandleReachability(reachability);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>This node's entry, in a cluster named with its node and an id unique in the fleet.</summary>
    private CatalogEntry Local(CatalogEntry entry) =>
        _node is null ? entry : entry with { Node = _node, Id = DumpId.OnNode(_node, entry.Id) };

    private string LocalId(string directory) => DumpId.OnNode(_node, DumpId.Of(_root, directory));

    /// <summary>
    /// The dump with <paramref name="id"/>; in a cluster an id without a node (<c>show DIR</c>
    /// turns a directory under dumpdir into one, not knowing the node's name) names this node's own.
    /// </summary>
    private CatalogEntry? Find(string id) =>
        _index.Get(id) ?? (_node is not null && !id.Contains(DumpId.NodeSeparator, StringComparison.Ordinal) ? _index.Get(DumpId.OnNode(_node, id)) : null);

    /// <summary>A node's entries are marked while it is unreachable (or removed), unmarked when it is back.</summary>
    private void HandleReachability(FleetCatalogActor.NodeReachability reachability)
    {
        var changed = reachability.Reachable ? _unreachable.Remove(reachability.Node) : _unreachable.Add(reachability.Node);
        if (!changed)
        {
            return;
        }

        var entries = _index.Query(DumpFilter.All, 0, int.MaxValue).Items.Where(e => e.Node == reachability.Node).ToList();
        foreach (var entry in entries)
        {
            _index.Put(entry with { Unreachable = !reachability.Reachable });
        }

        _log.Info("Catalog: {Count} dumps of node {Node} marked {State}", entries.Count, reachability.Node, reachability.Reachable ? "reachable" : "unreachable");
    }

    public static Props Props(NetdumpSettings settings, CatalogSeed seed, TimeProvider? time = null) =>
        ActorProps.Of(() => new CatalogActor(settings, seed, time ?? TimeProvider.System));

    protected override void PreStart()
    {
        _scripts = Context.ActorOf(ScriptRunnerActor.Props(_settings.DumpDirectory), "storm-scripts");
        Context.System.EventStream.Subscribe<DumpChanged>(Self);
        Context.System.EventStream.Subscribe<DumpProgress>(Self);
        Context.System.EventStream.Subscribe<DumpsRemoved>(Self);
        if (_node is not null)
        {
            // this node's dumps as its disk holds them: a node that returns republishes them
            _fleet = Context.ActorOf(FleetCatalogActor.Props(_node), "fleet");
            foreach (var entry in _index.Query(DumpFilter.All, 0, int.MaxValue).Items)
            {
                _fleet.Tell(new FleetCatalogActor.Publish(entry));
            }
        }

        Count();
        _log.Info("Catalog: {Dumps} dumps in {Groups} panic groups", _index.Count, _index.Groups.Count);
    }

    /// <summary>A dump's new record; a host that joins a group may make it a storm.</summary>
    private void Changed(CatalogEntry entry)
    {
        var previous = _index.Put(entry);
        _fleet?.Tell(new FleetCatalogActor.Publish(entry));
        Count();
        if (entry.Group is { } group && previous?.Group != group
            && _storms.Join(group, entry.Host, _time.GetUtcNow()) is { } storm)
        {
            Stormed(storm, entry);
        }
    }

    private void Stormed(Storm storm, CatalogEntry entry)
    {
        var key = PanicGroupKey.Of(entry.PanicString, entry.Kernel)!;
        _metrics.Storms.Inc();
        _log.Warning("Panic storm: {Hosts} hosts in {Minutes} minutes in group {Group}: \"{Panic}\" on {Kernel} (hosts {HostList})",
            storm.Hosts.Count, _settings.Storm.Window.TotalMinutes, storm.Group, key.Panic, key.Kernel.Length == 0 ? "an unknown kernel" : key.Kernel,
            string.Join(", ", storm.Hosts.Select(DumpReport.OneLine))); // a host name is the client's word
        var count = storm.Hosts.Count.ToString(CultureInfo.InvariantCulture);
        _scripts.Tell(new ScriptRunnerActor.Run(Script.Storm, [storm.Group, count], new Dictionary<string, string>
        {
            [Scripts.ScriptVariables.Group] = storm.Group,
            [Scripts.ScriptVariables.Hosts] = string.Join(",", storm.Hosts),
            [Scripts.ScriptVariables.Panic] = key.Panic,
            [Scripts.ScriptVariables.Kernel] = key.Kernel,
        }, _settings.ScriptTimeout, $"panic group {storm.Group}"));
    }

    private void HandleProgress(DumpProgress progress)
    {
        // only a dump still receiving moves: a late tick must not undo its end
        if (_index.Get(LocalId(progress.Directory)) is { Status: DumpStatus.Receiving } entry)
        {
            // the writer tells at most once a second, so the fleet hears no more often
            var moved = entry with { BytesReceived = progress.BytesReceived, DumpLength = progress.Length ?? entry.DumpLength, Rate = progress.Rate };
            _index.Put(moved);
            _fleet?.Tell(new FleetCatalogActor.Publish(moved));
        }
    }

    /// <summary>
    /// The gauges, each node's own (docs/cluster.md): its dumps, not the fleet's, which every
    /// node's catalog lists (a sum over the fleet's nodes counted each dump once per node); the
    /// panic groups are the fleet's, as every node lists them.
    /// </summary>
    private void Count()
    {
        _metrics.CatalogDumps.Set(_index.CountOn(_node));
        _metrics.PanicGroups.Set(_index.Groups.Count);
    }
}
