using Akka;
using Akka.Actor;
using Akka.Event;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Logger.Serilog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Netdump.Actors;
using Netdump.Actors.Catalog;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using Netdump.App.Configuration;
using Netdump.App.Http;
using Netdump.App.Logging;
using Serilog;

namespace Netdump.App.Hosting;

/// <summary>
/// The one place the server is composed: Serilog, the actor system (with Akka's log written to
/// Serilog by Akka.Logger.Serilog) and the top-level actors. Tests start the same host in-process.
/// </summary>
public static class NetdumpHost
{
    public const string ActorSystemName = "netdump";

    /// <summary>
    /// Akka's log, as Akka settings under the host's config: <see cref="SerilogLogger"/> writes
    /// each event to Serilog's <see cref="Log.Logger"/> with the message template and its
    /// properties (<c>{Client}</c>, <c>{Dir}</c>) as Serilog properties, plus the actor's path
    /// and the logging class; <see cref="SerilogLogMessageFormatter"/> renders the same templates
    /// wherever Akka formats a message itself; and <see cref="AkkaEarlyLog"/> takes what Akka
    /// logs while its loggers are not running (before they start, after they stop) into Serilog too.
    /// </summary>
    public static Config AkkaLogging { get; } = ConfigurationFactory.ParseString($"""
        akka.loggers = [{OperatorConfig.HoconQuote(typeof(SerilogLogger).AssemblyQualifiedName!)}]
        akka.logger-formatter = {OperatorConfig.HoconQuote(typeof(SerilogLogMessageFormatter).AssemblyQualifiedName!)}
        akka.stdout-logger-class = {OperatorConfig.HoconQuote(typeof(AkkaEarlyLog).AssemblyQualifiedName!)}
        """);

    /// <summary>
    /// Akka's log filter, with no filter in it. Without a setup Akka uses its "no filters"
    /// evaluator, which renders each event's whole text (time, thread, source and message) for
    /// the logger to look at, and <see cref="SerilogLogger"/> throws that text away: a cost in
    /// every small dump (docs/performance.md, "The descriptor table"). An evaluator over an empty
    /// list looks at sources only, and renders the message alone (which is all Akka's own
    /// standard-out logger would then print: <see cref="AkkaEarlyLog"/> replaces it).
    /// </summary>
    public static LogFilterSetup MessageOnlyLogFilter { get; } = new([]);

    /// <summary>
    /// Registers the <see cref="UdpListenerActor"/> (and through it every session), after the
    /// start-up scan. <paramref name="stopping"/> (the host's ApplicationStopping: SIGTERM,
    /// SIGINT) stops that scan between two dumps, and then nothing else is started; the scan
    /// tells <paramref name="systemd"/> and a daemon's launcher (<paramref name="starting"/>)
    /// that it goes on (<see cref="StartupHeartbeat"/>).
    /// </summary>
    public static AkkaConfigurationBuilder WithNetdumpListener(this AkkaConfigurationBuilder builder, NetdumpSettings settings, CancellationToken stopping = default,
        ISystemdNotifier? systemd = null, Action? starting = null) =>
        builder.WithActors((system, registry) =>
        {
            // dumpdir itself was checked before the start (StartupChecks); these two folders are
            // only ignored while untrusted, and each use checks again
            var untrusted = new[]
            {
                ScriptCheck.WhyFolderIgnored(Path.Combine(settings.DumpDirectory, ScriptNames.Directory)),
                new KnownClients(settings).WhyMagicIgnored(),
            };
            foreach (var warning in untrusted.OfType<string>())
            {
                system.Log.Warning("{Warning}", warning);
            }

            // before the listener binds: a dump a killed run left "receiving" is marked incomplete;
            // the same walk reads every dump's report for the catalog
            var catalogued = new List<CatalogEntry>();
            var careBacklog = new List<string>();
            var care = settings.CareSteps;
            var strings = new StringPool();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            system.Log.Info("Start-up scan of {DumpDir}: reading every dump's report before the ports open", settings.DumpDirectory);
            IReadOnlyList<RecoveredDump> recovered;
            // the launcher or systemd learns at once why the ports are not open yet
            var heartbeat = StartupHeartbeat.For(systemd, starting, system.Log);
            heartbeat.Start();
            try
            {
                recovered = RecoveryScan.Run(settings.DumpDirectory, DateTimeOffset.UtcNow, (directory, json) =>
                {
                    heartbeat.Beat();
                    if (CatalogEntries.FromJson(settings.DumpDirectory, directory, json) is { } entry)
                    {
                        catalogued.Add(strings.Pool(entry));
                    }

                    if (CareBacklog.Waits(directory, json, care))
                    {
                        careBacklog.Add(directory);
                    }
                }, stopping);
            }
            catch (RecoveryScan.Stopped stopped)
            {
                // SIGTERM or SIGINT while the scan ran (21 s for 60,000 dumps once): stop now,
                // not when it ends. Nothing more starts (no catalog, listener or care); the host
                // sees the stop and the server exits as stopped while starting.
                LogRecovered(system, stopped.Done);
                system.Log.Info("Start-up scan of {DumpDir} stopped after {Dumps} dumps in {Seconds:F1} s: the server is stopping; the rest is scanned at the next start",
                    settings.DumpDirectory, catalogued.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                return;
            }

            system.Log.Info("Start-up scan: {Dumps} dumps in {Seconds:F1} s", catalogued.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            registry.Register<CatalogActor>(system.ActorOf(CatalogActor.Props(settings, new CatalogSeed(catalogued, strings)), "catalog"));

            // every dump.json was parsed: that memory goes back before the dumps come (a few ms on a
            // small dumpdir; 100,000 dumps: docs/performance.md)
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            MetricsExtension.For(system).WatchFreeSpace(settings.DumpDirectory);
            LogRecovered(system, recovered);

            // before the listener: it hears of every dump the listener's writers complete (and
            // always runs: a complete dump an earlier run left without its SHA-256 gets it here)
            registry.Register<StorageCareActor>(system.ActorOf(StorageCareActor.Props(settings, careBacklog), "storage-care"));

            var listener = system.ActorOf(UdpListenerActor.Props(settings), "listener");
            registry.Register<UdpListenerActor>(listener);

            // after the recovery scan: a dump a killed run left receiving is finished by then
            if (settings.Retention.IsActive)
            {
                registry.Register<RetentionActor>(system.ActorOf(RetentionActor.Props(settings, TimeProvider.System), "retention"));
            }

            // SIGTERM/SIGINT: stop taking HERALDs, mark in-flight dumps "server shut down" and
            // let their netdump-reboot run, before the actor system goes away
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "finish-dumps", async () =>
            {
                system.Log.Info("Stopping: no new dumps; dumps in flight get up to {Seconds} s to close", settings.ShutdownTimeout.TotalSeconds);
                try
                {
                    await listener.Ask<UdpListenerActor.Drained>(UdpListenerActor.Drain.Instance, settings.ShutdownTimeout);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
                {
                    system.Log.Warning("Shutdown: dumps still closing after {Seconds} s; stopping anyway", settings.ShutdownTimeout.TotalSeconds);
                }

                return Done.Instance;
            });
        });

    /// <summary>One line for each dump the start-up scan marked, and for each it left alone, with why.</summary>
    private static void LogRecovered(ActorSystem system, IReadOnlyList<RecoveredDump> recovered)
    {
        foreach (var dump in recovered)
        {
            if (dump.Problem is null)
            {
                system.Log.Warning(dump.Marked == DumpStatus.Complete
                    ? "Recovered dump {Dir} left without its final reports by a previous run: marked complete (its core had its final name)"
                    : "Recovered dump {Dir} left receiving by a previous run: marked incomplete", dump.Directory);
            }
            else
            {
                system.Log.Warning("Start-up recovery scan: {Dir}: {Problem}", dump.Directory, dump.Problem);
            }
        }
    }

    /// <summary>
    /// Builds the host for a validated config (the <c>netdump</c> block plus Akka settings).
    /// <paramref name="logger"/> (default <see cref="Log.Logger"/>) takes the host's own messages;
    /// Akka's log goes where <c>akka.loggers</c> sends it, <see cref="AkkaLogging"/> unless the
    /// config names other loggers.
    /// </summary>
    public static IHost Build(Config config, Serilog.ILogger? logger = null, Action? starting = null)
    {
        var settings = NetdumpSettings.Create(config);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger ?? Log.Logger, dispose: false);
        // the host stops its services within its own timeout (30 s by default): shutdown_timeout
        // for the dumps, and as long again as before for everything else
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout + DefaultHostShutdown);

        // Under systemd (Type=notify): READY=1 once the host has started, STOPPING=1 on SIGTERM.
        // Anywhere else this does nothing and the console lifetime handles SIGTERM and SIGINT.
        builder.Services.AddSystemd();
        builder.Services.AddAkka(ActorSystemName, (akka, services) =>
        {
            akka.AddHocon(ShutdownPhase(settings).WithFallback(config).WithFallback(AkkaLogging), HoconAddMode.Replace)
                .AddSetup(MessageOnlyLogFilter)
                .WithNetdumpCluster(settings, ActorSystemName)
                .WithNetdumpListener(settings, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping,
                    services.GetService<ISystemdNotifier>(), starting);
        });

        // after Akka's: started once the catalog exists, stopped before the actor system
        builder.Services.AddSingleton(sp => new HttpService(settings, sp.GetRequiredService<ActorSystem>(),
            sp.GetRequiredService<ActorRegistry>(), logger ?? Log.Logger));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HttpService>());
        return builder.Build();
    }

    private static readonly TimeSpan DefaultHostShutdown = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The phase of Akka's coordinated shutdown that waits for the dumps in flight (the listener's
    /// drain, at most <c>shutdown_timeout</c>) may take that long and a little more: every phase
    /// is otherwise given up after Akka's <c>default-phase-timeout</c> (5 s), and the actor system
    /// then stopped under dumps still closing and <c>netdump-reboot</c> runs.
    /// </summary>
    internal static Config ShutdownPhase(NetdumpSettings settings) =>
        ConfigurationFactory.ParseString(
            $"akka.coordinated-shutdown.phases.{CoordinatedShutdown.PhaseServiceUnbind}.timeout = {(long)(settings.ShutdownTimeout + PhaseMargin).TotalMilliseconds}ms");

    // the drain's Ask ends at shutdown_timeout itself: the phase outlasts it, so its own warning is the one logged
    private static readonly TimeSpan PhaseMargin = TimeSpan.FromSeconds(5);

    /// <summary>Asks the listener where it listens for HERALDs; a failed bind becomes an exception with the reason.</summary>
    public static async Task<System.Net.IPEndPoint> ListenEndpointAsync(IHost host, TimeSpan timeout)
    {
        var registry = host.Services.GetRequiredService<ActorRegistry>();
        var listener = await registry.GetAsync<UdpListenerActor>();
        var reply = await listener.Ask<object>(UdpListenerActor.GetListenEndpoint.Instance, timeout);
        return reply switch
        {
            UdpListenerActor.ListenEndpoint endpoint => endpoint.Endpoint,
            UdpListenerActor.BindFailed failed => throw new IOException(failed.Reason),
            _ => throw new InvalidOperationException($"unexpected reply {reply}"),
        };
    }
}
