using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// Reads every dump's <c>dump.json</c> under dumpdir without touching anything: for a reader
/// that is not the server (<c>netdump-server list</c> and <c>show</c> with no server running),
/// over the same directories as the start-up scan (<see cref="DumpTree"/>: no symlink followed,
/// the server's own folders skipped). A dump a killed server left "receiving" is read as it is:
/// only the server's next start marks it.
/// </summary>
public static class ReportScan
{
    /// <summary>
    /// Tells <paramref name="described"/> each dump directory with a readable report, in name
    /// order, and returns one line per dump or directory that could not be read.
    /// </summary>
    public static IReadOnlyList<string> Run(string dumpDirectory, Action<string, JsonElement> described)
    {
        var problems = new List<string>();
        DumpTree.Walk(
            Path.GetFullPath(dumpDirectory),
            (directory, _, entries) =>
            {
                if (Read(entries, out var why) is { } json)
                {
                    described(directory, json);
                }
                else
                {
                    problems.Add($"{directory}: {DumpReport.JsonFileName} {why}");
                }
            },
            (directory, problem) => problems.Add($"{directory}: {problem}"));
        return problems;
    }

    /// <summary>The report of one dump directory, or null with <paramref name="why"/>.</summary>
    public static JsonElement? ReadOne(string directory, out string? why)
    {
        try
        {
            return Read(DumpTree.List(directory), out why);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"cannot be read: {e.Message}";
            return null;
        }
    }

    private static JsonElement? Read(Dictionary<string, FileSystemInfo> entries, out string? why)
    {
        if (!entries.TryGetValue(DumpReport.JsonFileName, out var entry))
        {
            why = "is missing (the dump has no report yet)";
            return null;
        }

        if (entry is not FileInfo file || DumpTree.IsLink(entry))
        {
            why = "is not a regular file";
            return null;
        }

        return DumpTree.ReadJson(file).OrNull(out why);
    }
}
