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
/// no longer has (retention while it was down), but only once its name is its own in the fleet
/// (<c>FleetCatalogActor.Name.cs</c>): until then it writes nothing, and a node that finds its
/// name held by an older reachable member stops the server. A node whose entries another node
/// removes writes them again. Reachability of each node is told to the parent
/// (<see cref="NodeReachability"/>) so that an unreachable node's entries stay, marked.
/// </summary>
public sealed partial class FleetCatalogActor : ReceiveActor
{
    /// <summary>How many Distributed Data keys the catalog is spread over (about 120 entries each for 30,000 dumps).</summary>
    public const int Buckets = 256;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private readonly string _node;
    private readonly string _ownPrefix;
    private readonly IActorRef _replicator;
    private readonly Cluster _self;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // this node's dumps as its disk holds them; before the name is confirmed, their entries wait
    private readonly HashSet<string> _own = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CatalogEntry> _unwritten = new(StringComparer.Ordinal);

    // each key's state as last told (immutable: the replicator's own object, no copy)
    private readonly LWWDictionary<string, string>[] _last = Enumerable.Repeat(LWWDictionary<string, string>.Empty, Buckets).ToArray();

    public FleetCatalogActor(string node)
    {
        _node = node;
        _ownPrefix = DumpId.NodePrefix(node);
        var data = DistributedData.Get(Context.System);
        _replicator = data.Replicator;
        _self = Cluster.Get(Context.System);
        Become(Joining);
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

        _self.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
    }

    protected override void PostStop() => _self.Unsubscribe(Self);

    /// <summary>Until this node's name is its own: the disk's entries are kept, nothing is written or removed.</summary>
    private void Joining()
    {
        Receive<Publish>(p =>
        {
            _own.Add(p.Entry.Id);
            _unwritten[p.Entry.Id] = p.Entry;
        });
        Receive<Unpublish>(u =>
        {
            _own.Remove(u.Id);
            _unwritten.Remove(u.Id);
        });
        Receive<Changed>(c => HandleChanged(c, serving: false));
        Membership(afterChange: CheckName);
    }

    /// <summary>The name is this node's: its entries are written, and kept as its disk holds them.</summary>
    private void Serving()
    {
        Receive<Publish>(p =>
        {
            _own.Add(p.Entry.Id);
            Write(p.Entry);
        });
        Receive<Unpublish>(u =>
        {
            _own.Remove(u.Id);
            _replicator.Tell(Dsl.Update(KeyOf(u.Id), LWWDictionary<string, string>.Empty, WriteLocal.Instance, d => d.Remove(_self, u.Id)));
        });
        Receive<Changed>(c => HandleChanged(c, serving: true));
        Membership(afterChange: () => { });
    }

    /// <summary>The membership every state follows; <paramref name="afterChange"/> is what the state does once it changed.</summary>
    private void Membership(Action afterChange)
    {
        Receive<ClusterEvent.IMemberEvent>(e =>
        {
            Track(e.Member);
            if (e is ClusterEvent.MemberUp)
            {
                Tell(e.Member, reachable: true);
            }
            else if (e is ClusterEvent.MemberRemoved)
            {
                Tell(e.Member, reachable: false);
            }

            afterChange();
        });
        Receive<ClusterEvent.ReachableMember>(e => Reached(e.Member, reachable: true, afterChange));
        Receive<ClusterEvent.UnreachableMember>(e => Reached(e.Member, reachable: false, afterChange));
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(f => _log.Warning("Fleet catalog: update of {Key} failed: {Failure}", f.Key, f));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    private void Reached(Member member, bool reachable, Action afterChange)
    {
        Reachability(member, reachable);
        Tell(member, reachable);
        afterChange();
    }

    private void Write(CatalogEntry entry) =>
        Write(entry.Id, JsonSerializer.Serialize(entry, Json));

    private void Write(string id, string json) =>
        _replicator.Tell(Dsl.Update(KeyOf(id), LWWDictionary<string, string>.Empty, WriteLocal.Instance, d => d.SetItem(_self, id, json)));

    /// <summary>The name is confirmed: the disk's entries are written, and the fleet's entries of this name that the disk does not hold are removed.</summary>
    private void StartServing()
    {
        foreach (var entry in _unwritten.Values)
        {
            Write(entry);
        }

        _unwritten.Clear();
        for (var bucket = 0; bucket < Buckets; bucket++)
        {
            RemoveStale(bucket, _last[bucket]);
        }

        Become(Serving);
    }

    /// <summary>Entries of this node's name that its disk no longer has (retention while it was down).</summary>
    private void RemoveStale(int bucket, LWWDictionary<string, string> data)
    {
        foreach (var id in data.Keys.Where(id => id.StartsWith(_ownPrefix, StringComparison.Ordinal) && !_own.Contains(id)).ToList())
        {
            _replicator.Tell(Dsl.Update(Key(bucket), LWWDictionary<string, string>.Empty, WriteLocal.Instance, d => d.Remove(_self, id)));
        }
    }

    private void HandleChanged(Changed changed, bool serving)
    {
        if (changed.Key is not LWWDictionaryKey<string, string> key || !int.TryParse(key.Id.AsSpan("fleet-catalog-".Length), out var bucket))
        {
            return;
        }

        var data = changed.Get(key);
        var last = _last[bucket];
        _last[bucket] = data;
        var put = new List<CatalogEntry>();
        foreach (var (id, json) in data.Entries)
        {
            if (!id.StartsWith(_ownPrefix, StringComparison.Ordinal) && (!last.TryGetValue(id, out var known) || known != json)
                && JsonSerializer.Deserialize<CatalogEntry>(json, Json) is { } entry)
            {
                put.Add(entry);
            }
        }

        var removed = new List<string>();
        var taken = 0;
        foreach (var (id, json) in last.Entries)
        {
            if (data.ContainsKey(id))
            {
                continue;
            }

            if (!id.StartsWith(_ownPrefix, StringComparison.Ordinal))
            {
                removed.Add(id);
            }
            else if (serving && _own.Contains(id))
            {
                // this node's dump, still on its disk, removed by another writer: written again
                Write(id, json);
                taken++;
            }
        }

        if (taken > 0)
        {
            _log.Warning("Fleet catalog: {Count} of this node's dumps were removed from the fleet catalog by another node (one using the name {Node}?); published again",
                taken, _node);
        }

        if (serving)
        {
            RemoveStale(bucket, data);
        }

        if (put.Count > 0 || removed.Count > 0)
        {
            Context.Parent.Tell(new RemoteChanged(put, removed));
        }
    }

    private void Tell(Member member, bool reachable)
    {
        var name = MembershipLogActor.NameOf(member);
        if (name == _node)
        {
            return;
        }

        // a member gone or unreachable under a name another member carries, up and reachable (a
        // second process under a name in use, which stops; an earlier incarnation of a node that
        // restarted) says nothing of that node: once its going marked the real node's dumps
        // unreachable on every node, until the real node itself flapped
        // (this actor's own view, in the order of its events: the cluster's shared state may lag it)
        if (!reachable && _members.Values.Any(m => !m.UniqueAddress.Equals(member.UniqueAddress) && MembershipLogActor.NameOf(m) == name
                                                   && m.Status == MemberStatus.Up && !_unreachableMembers.Contains(m.UniqueAddress)))
        {
            return;
        }

        Context.Parent.Tell(new NodeReachability(name, reachable));
    }
}
