using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Netdump.App.Http.Dashboard;

namespace Netdump.Tests.Dashboard;

/// <summary>
/// The dashboard's page and assets as a browser gets them: from the assembly (nothing on disk),
/// with their types, a policy that keeps the page to this server, and revalidation by ETag.
/// </summary>
public sealed class DashboardEndpointsTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapDashboard();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_page_is_served_at_the_root_with_a_same_origin_policy()
    {
        using var response = await _http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.Contains("connect-src 'self'", policy);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("src=\"dashboard/dashboard.js\"", page);
        Assert.Contains("href=\"dashboard/dashboard.css\"", page);
    }

    [Fact]
    public async Task Every_asset_the_page_names_is_served_with_its_type_and_nothing_comes_from_elsewhere()
    {
        Assert.Equal(["dashboard.css", "dashboard.js", "index.html"], EmbeddedAssets().Order(StringComparer.Ordinal));
        foreach (var (name, type) in new[] { ("dashboard.js", "text/javascript"), ("dashboard.css", "text/css") })
        {
            using var response = await _http.GetAsync($"{DashboardEndpoints.AssetsPath}/{name}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("http://", text);
            Assert.DoesNotContain("https://", text);
        }
    }

    [Fact]
    public async Task An_unknown_asset_is_not_found_and_no_path_leads_out_of_the_assets()
    {
        foreach (var path in new[] { "/dashboard/nothing.js", "/dashboard/..%2F..%2Fappsettings.json", "/dashboard/%2E%2E%2Fnetdump-server.dll" })
        {
            using var response = await _http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_browser_holding_the_page_gets_304_while_it_has_not_changed()
    {
        using var first = await _http.GetAsync("/dashboard/dashboard.js");
        var tag = first.Headers.ETag;
        Assert.NotNull(tag);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/dashboard/dashboard.js");
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(tag.Tag));
        using var response = await _http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    /// <summary>The assets embedded in the server's assembly, by name: what the dashboard serves.</summary>
    private static IEnumerable<string> EmbeddedAssets()
    {
        var prefix = $"{typeof(DashboardEndpoints).Namespace}.Assets.";
        return typeof(DashboardEndpoints).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(name => name[prefix.Length..]);
    }
}
