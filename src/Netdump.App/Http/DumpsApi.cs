using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Netdump.Actors.Catalog;
using static Netdump.Actors.Catalog.CatalogProtocol;

namespace Netdump.App.Http;

/// <summary>
/// The JSON API's endpoints (SPEC §9; the contract is in docs/operations.md, "HTTP API"). Each
/// answer comes from the catalog actor, which holds everything in memory: a request never walks
/// the dump tree (one dump's request lists its one directory for its files).
/// </summary>
public static class DumpsApi
{
    /// <summary>How long a request waits for the catalog before it answers 503.</summary>
    public static readonly TimeSpan CatalogTimeout = TimeSpan.FromSeconds(5);

    /// <summary>In a cluster: this node's name, and where another node's HTTP API is (null: not known now).</summary>
    public sealed record Fleet(string Node, Func<string, string?> HttpUrlOf);

    /// <summary>
    /// Marks the route that serves a dump's files: kernel memory, which without a token only the
    /// server's own user and root may read (<see cref="LoopbackPeer"/>, checked in <see cref="HttpService"/>).
    /// </summary>
    public sealed class DumpMemory
    {
        public static readonly DumpMemory Instance = new();
        private DumpMemory() { }
    }

    public static void Map(IEndpointRouteBuilder app, IActorRef catalog, TimeProvider time, Fleet? fleet = null)
    {
        app.MapGet(ApiRoutes.Dumps, async (HttpRequest request) =>
        {
            var q = request.Query;
            if (ListQuery.Parse(q[ApiRoutes.Query.Host], q[ApiRoutes.Query.Status], q[ApiRoutes.Query.Since], q[ApiRoutes.Query.Group],
                    q[ApiRoutes.Query.Limit], q[ApiRoutes.Query.Offset], time.GetUtcNow(), out var problem) is not { } query)
            {
                return Error(StatusCodes.Status400BadRequest, problem!);
            }

            var page = await catalog.Ask<DumpPage>(new QueryDumps(query.Filter, query.Offset, query.Limit), CatalogTimeout);
            return Results.Json(new DumpList(page.Total, page.Offset, page.Limit, page.Items.Select(DumpItem.From).ToList()), ApiJson.Default.DumpList);
        });

        app.MapGet(ApiRoutes.Dump, async (string id, HttpRequest request) =>
        {
            if (await Find(catalog, id) is not { } entry)
            {
                return NotFound(id);
            }

            if (Elsewhere(fleet, entry, request) is { } redirect)
            {
                return redirect;
            }

            var files = FileItem.Of(entry.Directory, entry.Id);
            return Results.Json(DumpItem.From(entry) with { Files = files }, ApiJson.Default.DumpItem);
        });

        app.MapGet(ApiRoutes.DumpFile, async (string id, string name, HttpRequest request) =>
        {
            // a route value keeps an encoded "/" as %2F: decoded here, so that it is refused as a path
            var plain = Uri.UnescapeDataString(name);
            if (DumpFiles.WhyRefused(plain) is { } refused)
            {
                return Error(StatusCodes.Status400BadRequest, refused);
            }

            if (await Find(catalog, id) is not { } entry)
            {
                return NotFound(id);
            }

            if (Elsewhere(fleet, entry, request) is { } redirect)
            {
                return redirect;
            }

            return DumpFiles.Find(entry.Directory, plain) is { } file
                ? Results.File(file.FullName, "application/octet-stream", file.Name, enableRangeProcessing: true)
                : Error(StatusCodes.Status404NotFound, $"dump {id} has no file \"{Netdump.Actors.Storage.DumpReport.OneLine(plain)}\"");
        }).WithMetadata(DumpMemory.Instance);

        app.MapGet(ApiRoutes.Sessions, async () =>
        {
            var sessions = await catalog.Ask<Sessions>(GetSessions.Instance, CatalogTimeout);
            return Results.Json(new SessionList(sessions.Items.Select(DumpItem.From).ToList()), ApiJson.Default.SessionList);
        });

        app.MapGet(ApiRoutes.Groups, async (HttpRequest request) =>
        {
            if (ListQuery.ParsePage(request.Query[ApiRoutes.Query.Limit], request.Query[ApiRoutes.Query.Offset], out var problem) is not { } page)
            {
                return Error(StatusCodes.Status400BadRequest, problem!);
            }

            var groups = await catalog.Ask<Groups>(new GetGroups(page.Offset, page.Limit, ListQuery.HostsPerGroup), CatalogTimeout);
            return Results.Json(new GroupList(groups.Total, page.Offset, page.Limit, groups.Items.Select(GroupItem.From).ToList()), ApiJson.Default.GroupList);
        });

        app.MapGet(ApiRoutes.Health, async () =>
        {
            var page = await catalog.Ask<DumpPage>(new QueryDumps(DumpFilter.All, 0, 0), CatalogTimeout);
            var sessions = await catalog.Ask<Sessions>(GetSessions.Instance, CatalogTimeout);
            return Results.Json(new Health("ok", page.Total, sessions.Items.Count), ApiJson.Default.Health);
        });
    }

    /// <summary>
    /// A dump on another node of the fleet: its files and its file list are that node's, so the
    /// request is redirected there (307, the same path and query); 503 while that node's API is
    /// not known (unreachable, or it has no HTTP API at a fixed port). Null for this node's dump.
    /// </summary>
    private static IResult? Elsewhere(Fleet? fleet, CatalogEntry entry, HttpRequest request)
    {
        if (fleet is null || entry.Node is not { } node || node == fleet.Node)
        {
            return null;
        }

        return fleet.HttpUrlOf(node) is { } url
            ? Results.Redirect(url.TrimEnd('/') + request.Path + request.QueryString, permanent: false, preserveMethod: true)
            : Error(StatusCodes.Status503ServiceUnavailable, $"dump {entry.Id} is on node {node}, whose HTTP API is not reachable now");
    }

    public static IResult Error(int status, string message) => Results.Json(new ApiError(message), ApiJson.Default.ApiError, statusCode: status);

    private static IResult NotFound(string id) => Error(StatusCodes.Status404NotFound, $"no dump {Netdump.Actors.Storage.DumpReport.OneLine(id)}");

    private static async Task<CatalogEntry?> Find(IActorRef catalog, string id) =>
        await catalog.Ask<object>(new GetDump(id), CatalogTimeout) is DumpFound found ? found.Entry : null;
}
