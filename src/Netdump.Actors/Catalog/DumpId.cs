namespace Netdump.Actors.Catalog;

/// <summary>
/// A dump's id in the catalog and the HTTP API: its directory relative to dumpdir, with each
/// <c>/</c> written as <c>~</c> (and a literal <c>%</c> or <c>~</c> percent-encoded, so two
/// directories never share an id). A dump directly in dumpdir has its directory name as id
/// (<c>192.0.2.7-2024-05-01-10:00:00</c>); one under a HERALD path <c>rack1/web</c> has
/// <c>rack1~web~192.0.2.7-...</c>. An id is only ever looked up, never turned into a path.
/// </summary>
public static class DumpId
{
    /// <summary>
    /// In a cluster every id names its node first (<c>node1~~rack1~web~192.0.2.7-...</c>), so
    /// that two nodes' dumps never share one: a relative path never holds <c>//</c>, so no
    /// local id holds <c>~~</c>, and a node name holds no <c>~</c>.
    /// </summary>
    public static string OnNode(string? node, string id) => node is null ? id : NodePrefix(node) + id;

    /// <summary>What every id of <paramref name="node"/>'s dumps starts with.</summary>
    public static string NodePrefix(string node) => node + NodeSeparator;

    /// <summary>What separates a node's name from the rest of an id; no local id holds it.</summary>
    public const string NodeSeparator = "~~";

    /// <summary>The id of <paramref name="directory"/> under <paramref name="root"/>.</summary>
    public static string Of(string root, string directory)
    {
        var relative = Path.GetRelativePath(root, directory);
        return relative.Replace("%", "%25", StringComparison.Ordinal)
            .Replace("~", "%7E", StringComparison.Ordinal)
            .Replace('/', '~');
    }
}
