using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Netdump.App.Http.Dashboard;

/// <summary>
/// The dashboard (SPEC §9): one page, <c>/</c>, and its script and style sheet under
/// <see cref="AssetsPath"/>, all embedded in this assembly from <c>Http/Dashboard/Assets/</c> (no
/// build step, no CDN). The page holds no data: its script reads the JSON API, with the bearer
/// token when the server has one. Every answer carries a Content-Security-Policy that lets the
/// page load and fetch from this server only.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Where the page's script and style sheet are served (relative to the page: <c>dashboard/...</c>).</summary>
    public const string AssetsPath = "/dashboard";

    public const string PageName = "index.html";

    // 'self' only: a page that shows kernel memory's metadata loads nothing from elsewhere,
    // and nothing can frame it
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    /// <summary>A GET of the page or one of its assets: no data, served without the bearer token.</summary>
    public static bool IsPublic(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && (request.Path == "/" || request.Path.StartsWithSegments(AssetsPath));

    /// <summary>Maps <c>GET /</c> (the page) and <c>GET /dashboard/{name}</c> (its assets); an unknown name is a 404.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (HttpContext context) => Serve(context, PageName)).ExcludeFromDescription();
        endpoints.MapGet($"{AssetsPath}/{{name}}", (HttpContext context, string name) => Serve(context, name)).ExcludeFromDescription();
        return endpoints;
    }

    private static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.Value.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        // revalidated on each load (a 304 when unchanged): an upgraded server's page is seen at once
        headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Bytes, asset.ContentType, entityTag: asset.ETag);
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var provider = new EmbeddedFileProvider(assembly, $"{typeof(DashboardEndpoints).Namespace}.Assets");
        var types = new FileExtensionContentTypeProvider();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var file in provider.GetDirectoryContents(""))
        {
            using var stream = file.CreateReadStream();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var type = types.TryGetContentType(file.Name, out var known) ? known : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
            assets[file.Name] = new Asset(bytes, type, new EntityTagHeaderValue($"\"{hash}\""));
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Bytes, string ContentType, EntityTagHeaderValue ETag);
}
