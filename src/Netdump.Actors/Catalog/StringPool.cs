namespace Netdump.Actors.Catalog;

/// <summary>
/// One copy of each repeated string of the catalog's entries: a fleet's dumps share a few
/// kernels' version strings (a few hundred bytes each), a few thousand host names, a few
/// architectures and reasons. Measured at 100,000 dumps, it is what keeps the catalog within
/// its memory budget (docs/performance.md). Not thread-safe: the start-up scan uses it, then
/// the catalog actor alone. Unlike <see cref="string.Intern"/>, it goes with the catalog.
/// </summary>
public sealed class StringPool
{
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);

    public int Count => _strings.Count;

    /// <summary>The pool's copy of <paramref name="text"/> (which becomes it when new); null stays null.</summary>
    public string? Get(string? text)
    {
        if (text is null)
        {
            return null;
        }

        if (_strings.TryGetValue(text, out var pooled))
        {
            return pooled;
        }

        _strings.Add(text);
        return text;
    }

    /// <summary>The entry with its repeated strings taken from the pool: the same entry when they all are already.</summary>
    public CatalogEntry Pool(CatalogEntry e)
    {
        var reasonText = Get(e.Reason?.Text);
        var pooled = e with
        {
            Node = Get(e.Node),
            Hostname = Get(e.Hostname),
            Architecture = Get(e.Architecture),
            VersionString = Get(e.VersionString),
            Kernel = Get(e.Kernel),
            Group = Get(e.Group),
            Vmcore = Get(e.Vmcore)!,
            Compression = Get(e.Compression),
            Reason = e.Reason is { } reason && !ReferenceEquals(reason.Text, reasonText) ? reason with { Text = reasonText! } : e.Reason,
        };
        return Same(pooled, e) ? e : pooled;
    }

    private static bool Same(CatalogEntry a, CatalogEntry b) =>
        ReferenceEquals(a.Node, b.Node) && ReferenceEquals(a.Hostname, b.Hostname) && ReferenceEquals(a.Architecture, b.Architecture)
        && ReferenceEquals(a.VersionString, b.VersionString) && ReferenceEquals(a.Kernel, b.Kernel) && ReferenceEquals(a.Group, b.Group)
        && ReferenceEquals(a.Vmcore, b.Vmcore) && ReferenceEquals(a.Compression, b.Compression) && ReferenceEquals(a.Reason, b.Reason);
}

/// <summary>
/// What the catalog starts from: the entries the start-up scan read, their strings already in
/// <paramref name="Strings"/>, which the catalog goes on using (so the entries it holds are these
/// very objects, and its props keep no second copy).
/// </summary>
public sealed record CatalogSeed(IReadOnlyList<CatalogEntry> Entries, StringPool Strings);
