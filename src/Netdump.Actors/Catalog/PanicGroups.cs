namespace Netdump.Actors.Catalog;

/// <summary>
/// One panic group as the views show it: the key, its hosts (<paramref name="HostCount"/> of them,
/// <paramref name="Hosts"/> the first few by name) and dumps, when it was first and last seen.
/// </summary>
public sealed record PanicGroupSummary(
    PanicGroupKey Key, int HostCount, IReadOnlyList<string> Hosts, int Dumps, DateTimeOffset FirstSeen, DateTimeOffset LastSeen, string SamplePanic)
{
    /// <summary>When the group last became a storm (<see cref="StormWatch"/>); null if it never did while this server ran.</summary>
    public DateTimeOffset? StormAt { get; init; }
}

/// <summary>
/// The panic groups of the catalog's dumps (SPEC §9): for each <see cref="PanicGroupKey"/>,
/// which hosts have a dump in it and how many, and the times of its dumps, kept up as dumps
/// come, change and go (retention). Pure; owned by a <see cref="CatalogIndex"/>.
/// </summary>
public sealed class PanicGroups
{
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);

    public int Count => _groups.Count;

    public void Add(CatalogEntry entry)
    {
        if (entry.Group is not { } id)
        {
            return;
        }

        if (!_groups.TryGetValue(id, out var group))
        {
            group = new Group(PanicGroupKey.Of(entry.PanicString, entry.Kernel)!, entry.PanicString!);
            _groups[id] = group;
        }

        group.Hosts[entry.Host] = group.Hosts.GetValueOrDefault(entry.Host) + 1;
        group.Times[entry.ReceivedAt] = group.Times.GetValueOrDefault(entry.ReceivedAt) + 1;
        group.Dumps++;
    }

    public void Remove(CatalogEntry entry)
    {
        if (entry.Group is not { } id || !_groups.TryGetValue(id, out var group))
        {
            return;
        }

        Decrement(group.Hosts, entry.Host);
        Decrement(group.Times, entry.ReceivedAt);
        if (--group.Dumps == 0)
        {
            _groups.Remove(id);
        }
    }

    /// <summary>
    /// <paramref name="limit"/> groups after the first <paramref name="offset"/>, the most recently
    /// seen first, each naming at most <paramref name="hostsListed"/> hosts (a bad rollout's group
    /// holds a whole fleet), and how many groups there are. Only the page's groups are summed up:
    /// a catalog of many groups costs a request no more than its page.
    /// </summary>
    public (int Total, IReadOnlyList<PanicGroupSummary> Items) Page(int offset, int limit, int hostsListed)
    {
        var page = _groups.Values.Select(g => (Group: g, LastSeen: g.Times.Keys.Last()))
            .OrderByDescending(g => g.LastSeen).ThenBy(g => g.Group.Key.Id, StringComparer.Ordinal)
            .Skip(offset).Take(limit)
            .Select(g => Summary(g.Group, hostsListed)).ToList();
        return (_groups.Count, page);
    }

    private static PanicGroupSummary Summary(Group g, int hostsListed) =>
        new(g.Key, g.Hosts.Count, g.Hosts.Keys.Order(StringComparer.Ordinal).Take(hostsListed).ToList(), g.Dumps, g.Times.Keys.First(), g.Times.Keys.Last(), g.SamplePanic);

    private static void Decrement<TKey>(IDictionary<TKey, int> counts, TKey key)
    {
        if (counts.TryGetValue(key, out var n))
        {
            if (n <= 1)
            {
                counts.Remove(key);
            }
            else
            {
                counts[key] = n - 1;
            }
        }
    }

    private sealed class Group(PanicGroupKey key, string samplePanic)
    {
        public PanicGroupKey Key { get; } = key;
        public string SamplePanic { get; } = samplePanic;
        public Dictionary<string, int> Hosts { get; } = new(StringComparer.Ordinal);
        public SortedDictionary<DateTimeOffset, int> Times { get; } = [];
        public int Dumps { get; set; }
    }
}
