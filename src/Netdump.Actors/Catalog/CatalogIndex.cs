namespace Netdump.Actors.Catalog;

/// <summary>
/// Every dump the catalog knows, by id and in arrival order, with the panic groups they make
/// (<see cref="PanicGroups"/>). Pure and single-threaded: the <see cref="CatalogActor"/> owns
/// one. A listing scans the entries newest first and stops once its page is full and counted:
/// about a millisecond for 100,000 dumps (docs/performance.md), and never the disk.
/// </summary>
public sealed class CatalogIndex(StringPool? strings = null)
{
    private readonly Dictionary<string, CatalogEntry> _byId = new(StringComparer.Ordinal);

    // oldest first, so that a new dump (nearly always the newest) is an append
    private readonly List<CatalogEntry> _ordered = [];
    private readonly HashSet<string> _receiving = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byNode = new(StringComparer.Ordinal); // "" for a server without a cluster

    public PanicGroups Groups { get; } = new();

    /// <summary>Where the entries' repeated strings are kept once (<see cref="StringPool"/>).</summary>
    public StringPool Strings { get; } = strings ?? new StringPool();

    public int Count => _byId.Count;

    /// <summary>The dumps <paramref name="node"/> holds (every dump without a cluster, whose entries name no node).</summary>
    public int CountOn(string? node) => _byNode.GetValueOrDefault(node ?? "");

    public CatalogEntry? Get(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Adds or replaces the entry with its id; returns the one it replaced.</summary>
    public CatalogEntry? Put(CatalogEntry entry)
    {
        entry = Strings.Pool(entry);
        var previous = Remove(entry.Id);
        var at = _ordered.BinarySearch(entry, ArrivalOrder.Instance);
        _ordered.Insert(at < 0 ? ~at : at, entry);
        _byId[entry.Id] = entry;
        _byNode[entry.Node ?? ""] = CountOn(entry.Node) + 1;
        if (entry.Status == Storage.DumpStatus.Receiving)
        {
            _receiving.Add(entry.Id);
        }

        Groups.Add(entry);
        return previous;
    }

    /// <summary>Forgets the dump; returns it, or null when it was not known.</summary>
    public CatalogEntry? Remove(string id)
    {
        if (!_byId.Remove(id, out var previous))
        {
            return null;
        }

        var at = _ordered.BinarySearch(previous, ArrivalOrder.Instance);
        _ordered.RemoveAt(at);
        _byNode[previous.Node ?? ""] = CountOn(previous.Node) - 1;
        _receiving.Remove(id);
        Groups.Remove(previous);
        return previous;
    }

    /// <summary>The page of dumps that match, newest first.</summary>
    public DumpPage Query(DumpFilter filter, int offset, int limit)
    {
        var items = new List<CatalogEntry>(Math.Min(limit, 1000));
        var total = 0;
        for (var i = _ordered.Count - 1; i >= 0; i--)
        {
            var entry = _ordered[i];
            if (!filter.Matches(entry))
            {
                continue;
            }

            if (total >= offset && items.Count < limit)
            {
                items.Add(entry);
            }

            total++;
        }

        return new DumpPage(total, offset, limit, items);
    }

    /// <summary>The dumps still receiving, newest first.</summary>
    public IReadOnlyList<CatalogEntry> Receiving() =>
        _receiving.Select(id => _byId[id]).OrderByDescending(e => e, ArrivalOrder.Instance).ToList();

    /// <summary>Newest last; ties (the same instant) by id, so that every entry has one place.</summary>
    private sealed class ArrivalOrder : IComparer<CatalogEntry>
    {
        public static readonly ArrivalOrder Instance = new();

        public int Compare(CatalogEntry? x, CatalogEntry? y)
        {
            var byTime = x!.ReceivedAt.CompareTo(y!.ReceivedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(x.Id, y.Id);
        }
    }
}
