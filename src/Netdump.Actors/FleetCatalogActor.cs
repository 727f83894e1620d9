using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Netdump.Actors.Catalog;

namespace Netdump.Actors;

/// <summary>
/// The fleet catalog (SPEC §8): this node's dumps published through Distributed Data, and every
/// other node's dumps handed to its parent, the <see cref="CatalogActor"/>, which answers the
/// views. A child of the catalog, only with <c>cluster = on</c>.
/// <para>
/// Data type and consistency (docs/cluster.md): <see cref="Buckets"/> keys, each an
/// <see cref="LWWDictionary{TKey,TValue}"/> from a dump's fleet id to its entry as compact
/// JSON, the key chosen by a hash of the id. Every dump has one writer, its own node, so
/// last-writer-wins never has to choose between two nodes. Many small keys, because a key
/// travels whole in one remoting frame when a node catches up (akkadotnet/akka.net#7250: one
/// ORSet of 20,000 strings exceeded the frame); writes are local (<see cref="WriteLocal"/>) and
/// spread by gossip, because a write that waits for a majority times out under the very load
/// of a large dataset (akkadotnet/akka.net#7899) and must never hold up a dump.
/// </para>
/// A node that starts publishes what its disk holds, and removes its own entries that the disk
/// no longer has (retention while it was down). Reachability of each node is told to the parent
/// (<see cref="NodeReachability"/>) so that an unreachable node's entries stay, marked.
/// </summary>
public sealed class FleetCatalogActor : ReceiveActor
{
    /// <summary>How many Distributed Data keys the catalog is spread over (about 120 entries each for 30,000 dumps).</summary>
    public const int Buckets = 256;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private readonly string _node;
    private readonly IActorRef _replicator;
    private readonly Cluster _self;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _own = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>[] _seen = Enumerable.Range(0, Buckets).Select(_ => new Dictionary<string, string>(StringComparer.Ordinal)).ToArray();

    public FleetCatalogActor(string node)
    {
        _node = node;
        var data = DistributedData.Get(Context.System);
        _replicator = data.Replicator;
        _self = Cluster.Get(Context.System);
        Receive<Publish>(p => Write(p.Entry.Id, d => d.SetItem(_self, p.Entry.Id, JsonSerializer.Serialize(p.Entry, Json)), () => _own.Add(p.Entry.Id)));
        Receive<Unpublish>(u => Write(u.Id, d => d.Remove(_self, u.Id), () => _own.Remove(u.Id)));
        Receive<Changed>(HandleChanged);
        Receive<ClusterEvent.MemberUp>(e => Tell(e.Member, reachable: true));
        Receive<ClusterEvent.ReachableMember>(e => Tell(e.Member, reachable: true));
        Receive<ClusterEvent.UnreachableMember>(e => Tell(e.Member, reachable: false));
        Receive<ClusterEvent.MemberRemoved>(e => Tell(e.Member, reachable: false));
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(f => _log.Warning("Fleet catalog: update of {Key} failed: {Failure}", f.Key, f));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    /// <summary>From the parent: this node's dump, new or changed.</summary>
    public sealed record Publish(CatalogEntry Entry);

    /// <summary>From the parent: this node's dump is gone from disk.</summary>
    public sealed record Unpublish(string Id);

    /// <summary>To the parent: other nodes' entries that are new or changed, and ids that are gone.</summary>
    public sealed record RemoteChanged(IReadOnlyList<CatalogEntry> Put, IReadOnlyList<string> Removed);

    /// <summary>To the parent: a node became reachable (up) or not (unreachable, removed).</summary>
    public sealed record NodeReachability(string Node, bool Reachable);

    public static Props Props(string node) => ActorProps.Of(() => new FleetCatalogActor(node));

    /// <summary>The Distributed Data key of a dump's fleet id.</summary>
    public static LWWDictionaryKey<string, string> KeyOf(string id) => Key(Bucket(id));

    private static LWWDictionaryKey<string, string> Key(int bucket) => new($"fleet-catalog-{bucket}");

    /// <summary>A stable hash (FNV-1a; string.GetHashCode differs between processes).</summary>
    private static int Bucket(string id)
    {
        var hash = 2166136261u;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % Buckets);
    }

    protected override void PreStart()
    {
        for (var b = 0; b < Buckets; b++)
        {
            _replicator.Tell(Dsl.Subscribe(Key(b), Self));
        }

        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private void Write(string id, Func<LWWDictionary<string, string>, LWWDictionary<string, string>> change, Action bookkeeping)
    {
        bookkeeping();
        _replicator.Tell(Dsl.Update(KeyOf(id), LWWDictionary<string, string>.Empty, WriteLocal.Instance, change));
    }

    private void HandleChanged(Changed changed)
    {
        if (changed.Key is not LWWDictionaryKey<string, string> key || !int.TryParse(key.Id.AsSpan("fleet-catalog-".Length), out var bucket))
        {
            return;
        }

        var data = changed.Get(key);
        var seen = _seen[bucket];
        var put = new List<CatalogEntry>();
        var ownPrefix = DumpId.NodePrefix(_node);
        var stale = new List<string>();
        foreach (var (id, json) in data.Entries)
        {
            if (id.StartsWith(ownPrefix, StringComparison.Ordinal))
            {
                if (!_own.Contains(id))
                {
                    stale.Add(id); // this node's dump that its disk no longer has
                }

                continue;
            }

            if (!seen.TryGetValue(id, out var known) || known != json)
            {
                seen[id] = json;
                if (JsonSerializer.Deserialize<CatalogEntry>(json, Json) is { } entry)
                {
                    put.Add(entry);
                }
            }
        }

        var removed = seen.Keys.Where(id => !data.ContainsKey(id)).ToList();
        foreach (var id in removed)
        {
            seen.Remove(id);
        }

        foreach (var id in stale)
        {
            _replicator.Tell(Dsl.Update(key, LWWDictionary<string, string>.Empty, WriteLocal.Instance, d => d.Remove(_self, id)));
        }

        if (put.Count > 0 || removed.Count > 0)
        {
            Context.Parent.Tell(new RemoteChanged(put, removed));
        }
    }

    private void Tell(Member member, bool reachable)
    {
        var name = MembershipLogActor.NameOf(member);
        if (name != _node)
        {
            Context.Parent.Tell(new NodeReachability(name, reachable));
        }
    }
}
