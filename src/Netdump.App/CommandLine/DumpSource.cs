using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;
using Netdump.App.Http;

namespace Netdump.App.CommandLine;

/// <summary>The query of <c>list</c>, as the API takes it (<see cref="ListQuery"/>): each part as the operator wrote it; null is none.</summary>
public sealed record ListArguments(string? Host, string? Status, string? Since, string? Group, string? Limit, string? Offset);

/// <summary>
/// Where <c>list</c> and <c>show</c> find dumps: the running server's API, or, with no server,
/// the dump directory's reports read into the same catalog index the server keeps. Both answer
/// with the API's own types, so the table and <c>--json</c> read the same either way.
/// </summary>
public abstract class DumpSource
{
    /// <summary>What the source is, for the operator (<c>http://127.0.0.1:20080/</c>, <c>/var/crash (no server)</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The dump directory whose dumps the source has (for the server: the one of its conf), to name a dump by its directory.</summary>
    public abstract string Root { get; }

    public abstract Task<DumpList> ListAsync(ListArguments query, CancellationToken cancel);

    /// <summary>The dump with its files; null when there is none with that id.</summary>
    public abstract Task<DumpItem?> GetAsync(string id, CancellationToken cancel);

    /// <summary>The dumps of the running server.</summary>
    public sealed class Server(FleetClient client, string dumpDirectory) : DumpSource
    {
        public override string Name => client.Server.ToString();

        public override string Root { get; } = Path.GetFullPath(dumpDirectory);

        public override async Task<DumpList> ListAsync(ListArguments q, CancellationToken cancel)
        {
            var path = ApiRoutes.Relative(ApiRoutes.Dumps,
                (ApiRoutes.Query.Host, q.Host), (ApiRoutes.Query.Status, q.Status), (ApiRoutes.Query.Since, q.Since),
                (ApiRoutes.Query.Group, q.Group), (ApiRoutes.Query.Limit, q.Limit), (ApiRoutes.Query.Offset, q.Offset));
            return (await client.GetAsync(path, ApiJson.Default.DumpList, cancel)).Value;
        }

        public override async Task<DumpItem?> GetAsync(string id, CancellationToken cancel)
        {
            try
            {
                return (await client.GetAsync(ApiRoutes.Relative(ApiRoutes.DumpPath(id)), ApiJson.Default.DumpItem, cancel)).Value;
            }
            catch (ServerAnswerException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The dumps on disk, read once (<see cref="ReportScan"/>) into a <see cref="CatalogIndex"/>
    /// the first time a list or an id asks for them: the server's own filters and order, without
    /// a server. A dump whose report cannot be read is one line written to the error writer given.
    /// A dump directory that does not exist is an error only then: <c>show DIR --offline</c> of a
    /// dump elsewhere (a copy) reads that directory alone and needs none.
    /// </summary>
    public sealed class Disk(string dumpDirectory, TimeProvider clock, TextWriter problems) : DumpSource
    {
        private readonly string _root = Path.GetFullPath(dumpDirectory);
        private CatalogIndex? _index;

        public override string Name => $"{_root} (no server)";

        public override string Root => _root;

        public override Task<DumpList> ListAsync(ListArguments q, CancellationToken cancel)
        {
            var query = ListQuery.Parse(q.Host, q.Status, q.Since, q.Group, q.Limit, q.Offset, clock.GetUtcNow(), out var problem)
                ?? throw new Configuration.OperatorConfigException(problem!);
            var page = Index().Query(query.Filter, query.Offset, query.Limit);
            return Task.FromResult(new DumpList(page.Total, page.Offset, page.Limit, page.Items.Select(DumpItem.From).ToList()));
        }

        public override Task<DumpItem?> GetAsync(string id, CancellationToken cancel)
        {
            if (Index().Get(id) is not { } entry)
            {
                return Task.FromResult<DumpItem?>(null);
            }

            var files = FileItem.Of(entry.Directory, entry.Id);
            return Task.FromResult<DumpItem?>(DumpItem.From(entry) with { Files = files });
        }

        private CatalogIndex Index()
        {
            if (_index is { } read)
            {
                return read;
            }

            if (!Directory.Exists(_root))
            {
                throw new Configuration.OperatorConfigException($"dumpdir {_root} does not exist");
            }

            var index = new CatalogIndex();
            foreach (var problem in ReportScan.Run(_root, (directory, json) =>
            {
                if (CatalogEntries.FromJson(_root, directory, json) is { } entry)
                {
                    index.Put(entry);
                }
                else
                {
                    problems.WriteLine($"netdump-server: skipped {directory}: its {DumpReport.JsonFileName} lacks a {DumpJson.Status}, {DumpJson.ClientIp} or {DumpJson.ReceivedAt}");
                }
            }))
            {
                problems.WriteLine($"netdump-server: skipped {problem}");
            }

            return _index = index;
        }
    }
}
