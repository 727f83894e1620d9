using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;
using Netdump.App.Http.Dashboard;
using Prometheus;
using Serilog;

namespace Netdump.App.Http;

/// <summary>
/// The HTTP side of the server (SPEC §9): Kestrel in the same process, started by the host after
/// the actor system and stopped before it. Serves the JSON API (<see cref="DumpsApi"/>),
/// <c>/metrics</c> (prometheus-net, the actor system's <see cref="MetricsExtension"/> registry)
/// and <c>/healthz</c>; <c>/</c> is left for the dashboard. With <c>http = off</c> it starts
/// nothing. With <c>http_token_file</c> every request needs the bearer token
/// (<see cref="BearerToken"/>); with <c>http_cert</c>/<c>http_key</c> it speaks TLS only.
/// </summary>
public sealed class HttpService(NetdumpSettings settings, ActorSystem system, ActorRegistry registry, Serilog.ILogger logger) : IHostedService
{
    private WebApplication? _app;

    /// <summary>Where it listens once started (the real port when <c>http</c> asked for port 0); null when off.</summary>
    public IPEndPoint? Endpoint { get; private set; }

    /// <summary>The base URL (<c>http://127.0.0.1:20080</c>) once started; null when off.</summary>
    public string? Url => Endpoint is { } e ? settings.Http!.Url(e.Port) : null;

    /// <summary>Checks what <c>http_token_file</c>, <c>http_cert</c> and <c>http_key</c> name before anything starts; throws <see cref="OperatorConfigException"/>.</summary>
    public static (BearerToken? Token, X509Certificate2? Certificate) LoadSecrets(HttpSettings http)
    {
        var token = http.TokenFile is { } file ? BearerToken.Load(file) : null;
        X509Certificate2? certificate = null;
        if (http.CertificateFile is { } cert)
        {
            try
            {
                certificate = X509Certificate2.CreateFromPemFile(cert, http.KeyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                throw new OperatorConfigException($"http_cert {cert} with http_key {http.KeyFile}: not a PEM certificate and matching private key: {e.Message}", e);
            }
        }

        return (token, certificate);
    }

    /// <summary>The most HTTP connections open at once: an operator's API, far below any descriptor limit.</summary>
    public const int MaxConnections = 256;

    /// <summary>How long an idle connection is kept between requests (Kestrel's default is 130 s).</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.Http is not { } http)
        {
            return;
        }

        var (token, certificate) = LoadSecrets(http);
        var catalog = await registry.GetAsync<CatalogActor>(cancellationToken);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger, dispose: false);

        // the server's own host owns the process's signals and lifetime: this one only starts and stops
        builder.Services.AddSingleton<IHostLifetime, InnerLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // every connection holds one of the process's file descriptors, which the dumps need
            // (a session socket, a core, reports): idle connections that never send a request
            // (the token is checked only on a request) once took them all, and every new dump was
            // refused. Beyond the limit a connection is closed at once.
            kestrel.Limits.MaxConcurrentConnections = MaxConnections;
            kestrel.Limits.KeepAliveTimeout = KeepAlive;
            kestrel.Listen(http.Endpoint, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });

        var app = builder.Build();

        // an answer without a body of its own (no route for the path, a method no route takes, an
        // unknown dashboard asset) gets the API's error body too: every 4xx/5xx is {"error": ...}
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var what = ReasonPhrases.GetReasonPhrase(http.Response.StatusCode).ToLowerInvariant();
            var path = Netdump.Actors.Storage.DumpReport.OneLine(http.Request.Path.ToString());
            return DumpsApi.Error(http.Response.StatusCode, $"{http.Request.Method} {path}: {what}").ExecuteAsync(http);
        });
        app.Use(async (context, next) =>
        {
            // the dashboard's page and its script and style hold no data, and a browser cannot add
            // a header to the page's own load: they are served to anyone; every request for
            // data (the API, /metrics, /healthz) still needs the token, which the page asks for
            if (token is not null && !DashboardEndpoints.IsPublic(context.Request) && !token.Admits(context.Request))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await DumpsApi.Error(StatusCodes.Status401Unauthorized, "a bearer token is required (Authorization: Bearer <the token of http_token_file>)").ExecuteAsync(context);
                return;
            }

            if (token is null && IsDumpFile(context) && !PeerOwnsDumps(context.Connection))
            {
                // loopback is every local user: a dump's files (kernel memory, 0600 on disk) go
                // only to those who could read them there; the list and the reports stay open
                await DumpsApi.Error(StatusCodes.Status403Forbidden,
                    "a dump's files are kernel memory: without http_token_file they are served only to the server's own user and root").ExecuteAsync(context);
                return;
            }

            try
            {
                await next(context);
            }
            catch (AskTimeoutException)
            {
                await DumpsApi.Error(StatusCodes.Status503ServiceUnavailable, "the catalog did not answer in time").ExecuteAsync(context);
            }
        });
        var metrics = MetricsExtension.For(system);
        app.MapMetrics(ApiRoutes.Metrics, metrics.Registry);
        DumpsApi.Map(app, catalog, TimeProvider.System, settings.Cluster is { } cluster
            ? new DumpsApi.Fleet(cluster.NodeName, node => Hosting.NetdumpCluster.HttpUrlOf(system, node))
            : null);
        app.MapDashboard();

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // Kestrel reports "address in use" as an IOException around the socket's error, and
            // every other bind failure (EACCES for a port below 1024, EADDRNOTAVAIL) as the bare
            // SocketException: both are one line for the operator, in the log as on stderr
            await app.DisposeAsync();
            var problem = $"http: cannot listen on {http.Endpoint}: {(e is IOException { InnerException: { } inner } ? inner : e).Message}";
            logger.Error("{Problem}", problem);
            throw new IOException(problem, e);
        }

        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Endpoint = new IPEndPoint(http.Endpoint.Address, new Uri(bound).Port);
        logger.Information("HTTP API, /metrics and dashboard on {Url}{Auth}", Url, token is null ? "" : " (bearer token required)");
    }

    /// <summary>The web application's lifetime inside the server's host: no console or signal handling of its own.</summary>
    private sealed class InnerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    private static bool IsDumpFile(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<DumpsApi.DumpMemory>() is not null;

    private static bool PeerOwnsDumps(ConnectionInfo connection) =>
        connection.RemoteIpAddress is { } client && connection.LocalIpAddress is { } local
        && LoopbackPeer.IsOwnUserOrRoot(client, connection.RemotePort, local, connection.LocalPort);
}
