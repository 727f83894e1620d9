namespace Netdump.App.Http;

/// <summary>
/// The one home of the HTTP API's paths and query names: the server maps them
/// (<see cref="DumpsApi"/>) and the commands ask them (<c>CommandLine/</c>, relative to the
/// server's URL). docs/operations.md describes each; the dashboard's script asks the same paths.
/// </summary>
public static class ApiRoutes
{
    public const string Dumps = "/api/dumps";
    public const string Dump = Dumps + "/{id}";
    public const string DumpFile = Dump + "/files/{name}";
    public const string Sessions = "/api/sessions";
    public const string Groups = "/api/groups";
    public const string Health = "/healthz";
    public const string Metrics = "/metrics";

    /// <summary>The query names of <see cref="Dumps"/> (<see cref="ListQuery"/>).</summary>
    public static class Query
    {
        public const string Host = "host";
        public const string Status = "status";
        public const string Since = "since";
        public const string Group = "group";
        public const string Limit = "limit";
        public const string Offset = "offset";
    }

    /// <summary>One dump's path, its id escaped.</summary>
    public static string DumpPath(string id) => $"{Dumps}/{Uri.EscapeDataString(id)}";

    /// <summary>One file of a dump, its id and name escaped.</summary>
    public static string FilePath(string id, string name) => $"{DumpPath(id)}/files/{Uri.EscapeDataString(name)}";

    /// <summary>A path as a command asks it: relative to the server's URL, which may have a path of its own.</summary>
    public static string Relative(string path) => path.TrimStart('/');

    /// <summary>A path as a command asks it (<see cref="Relative"/>), with the query parameters given a value, each escaped.</summary>
    public static string Relative(string path, params (string Name, string? Value)[] query)
    {
        var given = string.Join('&', query.Where(q => q.Value is not null).Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value!)}"));
        return given.Length == 0 ? Relative(path) : $"{Relative(path)}?{given}";
    }
}
