namespace Netdump.Tests.Storage;

/// <summary>
/// Folders nested deeper than PATH_MAX, which no call that takes a whole path can make or
/// remove: the chain is built from its bottom, each level moved into a new one by a short path,
/// and taken apart level by level from its top.
/// </summary>
internal static class DeepTree
{
    /// <summary>
    /// Makes <paramref name="levels"/> nested folders of <paramref name="name"/> at
    /// <paramref name="top"/> (which must not exist), and returns the chain's paths, outermost
    /// first. <paramref name="fill"/> is given each level's folder, innermost first, while it is
    /// still at a short path.
    /// </summary>
    public static List<string> Make(string top, string name, int levels, Action<int, string> fill)
    {
        var parent = Path.GetDirectoryName(top)!;
        var work = Path.Combine(parent, $"deep-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var inner = Path.Combine(work, "inner");
        for (var level = levels - 1; level >= 0; level--)
        {
            var folder = Path.Combine(work, name);
            Directory.CreateDirectory(folder);
            if (Directory.Exists(inner))
            {
                Directory.Move(inner, Path.Combine(folder, name));
            }

            fill(level, folder);
            Directory.Move(folder, inner);
        }

        Directory.Move(inner, top);
        Directory.Delete(work);
        var chain = new List<string> { top };
        while (chain.Count < levels)
        {
            chain.Add(Path.Combine(chain[^1], name));
        }

        return chain;
    }

    /// <summary>Removes a tree however deep: each folder is moved next to <paramref name="top"/> before it is removed.</summary>
    public static void Remove(string top)
    {
        var parent = Path.GetDirectoryName(top)!;
        var pending = new Queue<string>([top]);
        while (pending.TryDequeue(out var folder))
        {
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (var child in Directory.GetDirectories(folder))
            {
                var moved = Path.Combine(parent, $"deep-{Guid.NewGuid():N}");
                Directory.Move(child, moved);
                pending.Enqueue(moved);
            }

            Directory.Delete(folder, recursive: true); // only files and links are left in it
        }
    }
}
