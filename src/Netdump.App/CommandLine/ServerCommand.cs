using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Runtime.InteropServices;
using Akka.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;
using Netdump.App.Daemon;
using Netdump.App.Http;
using Netdump.App.Hosting;
using Netdump.App.Logging;
using Serilog;

namespace Netdump.App.CommandLine;

/// <summary>
/// The root command: runs the server with netdump-server(8)'s options. Settings: command line >
/// netdump.conf (<c>--config</c>, default <c>/etc/netdump.conf</c>) > netdump.hocon. Every problem
/// found before the server listens, and every command-line parse error, is one line on stderr
/// (<c>netdump-server: ...</c>) and exit status 1; a clean exit, SIGTERM and SIGINT included, is 0.
/// </summary>
public static partial class ServerCommand
{
    public const int ExitOk = 0;
    public const int ExitError = 1;

    /// <summary>The version of this build (the App project's <c>Version</c>), without a source revision.</summary>
    public static string Version { get; } =
        typeof(ServerCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ServerCommand).Assembly.GetName().Version?.ToString(3)
        ?? "unknown";

    public static RootCommand Create()
    {
        var root = new RootCommand("netdump-server: collects FreeBSD netdump crash dumps over UDP");
        root.Options.Add(Integer(ServerOptions.OptionOf(ConfigKeys.Port), "N", "UDP port for HERALDs (default 20023)"));
        root.Options.Add(Integer(ServerOptions.OptionOf(ConfigKeys.LinuxPort), "N", "UDP port for Linux (Red Hat) netdump clients (default 6666; 0: none)"));
        root.Options.Add(Text(ServerOptions.OptionOf(ConfigKeys.Addr), "IP", "IPv4 address to listen on (default 0.0.0.0)"));
        root.Options.Add(Integer(ServerOptions.OptionOf(ConfigKeys.MaxConcurrentDumps), "N", $"dumps received at once, conf key {ConfigKeys.MaxConcurrentDumps.Name} (default 4)"));
        root.Options.Add(Text(ServerOptions.OptionOf(ConfigKeys.PidFile), "PATH", "write a pidfile (default: none)"));
        root.Options.Add(Flag(ServerOptions.OptionOf(ConfigKeys.Daemon), "detach and run in the background"));
        root.Options.Add(Boolean(ServerOptions.OptionOf(ConfigKeys.Secure), "1: only known clients may dump (default); 0: any client"));
        root.Options.Add(Text(ServerOptions.OptionOf(ConfigKeys.DumpDir), "PATH", "where dumps go (default /var/crash)"));
        root.Options.Add(Text(ServerOptions.OptionOf(ConfigKeys.Http), "ADDR:PORT", "serve the HTTP API, /metrics and the dashboard there (default 127.0.0.1:20080; off: none)"));
        root.Options.Add(Integer(ServerOptions.OptionOf(ConfigKeys.ClusterPort), "N", $"with cluster = on: the TCP port this node's peers reach it on (conf key {ConfigKeys.ClusterPort.Name}, default 20090)"));
        root.Options.Add(Text(ServerOptions.OptionOf(ConfigKeys.NodeName), "NAME", $"with cluster = on: this node's name in the fleet (conf key {ConfigKeys.NodeName.Name}; default addr:cluster_port)"));
        root.Options.Add(Text(ServerOptions.ConfigOption, "PATH", $"the key=value settings file (default {OperatorConfig.DefaultConfigPath}; may be missing)"));
        foreach (var version in root.Options.OfType<VersionOption>())
        {
            version.Action = new PrintVersion();
        }

        root.SetAction((parse, cancel) => RunAsync(ServerOptions.From(parse), cancel));
        return root;
    }

    /// <summary>
    /// Parses and runs: the process's main. A parse error (unknown option, missing or bad value) is
    /// one line and status 1, for the subcommands too. For the server, SIGTERM and SIGINT are left
    /// to the host, which stops cleanly however long in-flight dumps take to close; System.CommandLine
    /// would otherwise end the process with 143 or 130 two seconds after the signal.
    /// </summary>
    public static Task<int> InvokeAsync(RootCommand root, IReadOnlyList<string> args)
    {
        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            var errors = string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')));
            return Task.FromResult(Fail($"{errors} (see --help)"));
        }

        var configuration = new InvocationConfiguration();
        if (parse.CommandResult.Command == root)
        {
            configuration.ProcessTerminationTimeout = null;
        }

        return parse.InvokeAsync(configuration);
    }


    private static async Task<int> RunAsync(ServerOptions options, CancellationToken cancel)
    {
        // Everything the operator said, checked before anything runs: the conf file, every value,
        // the dump directory, the HERALD port.
        OperatorConfig loaded;
        try
        {
            loaded = options.Load();
            StartupChecks.PrepareDumpDirectory(loaded.Settings.DumpDirectory);
            StartupChecks.CheckStorageCare(loaded.Settings);
            StartupChecks.CheckListenPort(loaded.Settings.Address, loaded.Settings.Port);
            if (loaded.Settings.Cluster is { } cluster)
            {
                StartupChecks.CheckClusterPort(loaded.Settings.Address, cluster.Port);
            }
            if (loaded.Settings.Http is { } http)
            {
                _ = HttpService.LoadSecrets(http); // the token and certificate files, before anything runs
            }
        }
        catch (OperatorConfigException e)
        {
            return Fail(e.Message);
        }

        var settings = loaded.Settings;

        // Before the host starts (exec ends the runtime's own threads): with cpu_scheduling = batch
        // a normal process goes on as the same program executed again, batch from its start, or
        // says below why not
        var scheduling = BatchScheduling.Enter(settings.CpuScheduling, loaded.ConfigFile);

        // The configuration is valid and nothing runs yet. With --daemon this process only
        // launches the daemon (this same program again) and waits until it listens or fails.
        if (Daemonizer.ShouldLaunch(settings.Daemon))
        {
            var launch = await Daemonizer.LaunchAsync(Daemonizer.OwnArguments(), Daemonizer.DefaultReadyTimeout);
            return launch.Ready ? ExitOk : Fail(launch.Error ?? "the daemon did not start");
        }

        // SIGHUP from here on: logrotate's "reopen your log", never the default end of the
        // process (which left dumps "receiving" and the pidfile behind). Before the log exists
        // there is nothing to reopen.
        ServerLog? log = null;
        // A process inherits the signals its parent ignored, and .NET's registration leaves an
        // ignored SIGHUP ignored. Under nohup it is: logrotate's HUP would do nothing and the
        // server would write on into the rotated file. It goes back to the default here (as
        // daemon(7) asks), for the handler below. (An inherited ignored SIGTERM the runtime takes
        // anyway; SIGINT stays as inherited, since a shell ignores it for a background job on
        // purpose.)
        Posix.Signal(Posix.SIGHUP, Posix.SigDfl);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Volatile.Read(ref log)?.OnHangup();
        });

        var daemonChild = Daemonizer.IsDaemonChild;
        PidFile? pidFile = null;
        DumpDirectoryLock dumpDirectoryLock;
        try
        {
            if (daemonChild)
            {
                Daemonizer.Detach();
            }

            pidFile = settings.PidFile is { } pidPath ? PidFile.Acquire(pidPath) : null;

            // Held by the process that runs the server (the daemon, not its launcher) until it
            // exits, and taken before the recovery scan, which must never see another server's dumps.
            dumpDirectoryLock = DumpDirectoryLock.Acquire(settings.DumpDirectory);
        }
        catch (IOException e)
        {
            pidFile?.Dispose();
            return Fail(e.Message);
        }

        using var ownDumpDirectory = dumpDirectoryLock;

        // Removed at every exit after this point (explicitly before the exit status is reported).
        using var ownPidFile = pidFile;
        try
        {
            var created = NetdumpLogging.Create(settings, console: !daemonChild, syslog: daemonChild);
            Log.Logger = created.Logger;
            Volatile.Write(ref log, created);
        }
        catch (IOException e)
        {
            pidFile?.Dispose();
            return Fail(e.Message);
        }

        if (pidFile?.TakeOverNote is { } takeOver)
        {
            Log.Warning("{PidFile}", takeOver);
        }

        if (settings.Daemon && !daemonChild && Daemonizer.UnderSystemd)
        {
            Log.Warning("daemon = yes is ignored under systemd, which keeps the server in the background itself");
        }

        foreach (var warning in loaded.Warnings)
        {
            Log.Warning("{Warning}", warning);
        }

        if (scheduling is BatchScheduling.Outcome.NotApplied notApplied)
        {
            Log.Warning("{Key} = batch not applied ({Why}); the threads keep the policy they started with ({Key} = normal runs so without this warning)",
                ConfigKeys.CpuScheduling.Name, notApplied.Why);
        }

        StartupProfile.Start(settings.CacheDirectory);
        using var host = NetdumpHost.Build(loaded.Config, starting: daemonChild ? Daemonizer.ReportStarting : null);
        try
        {
            await host.StartAsync(cancel);

            // a stop asked for during the start-up scan ends the scan, and nothing else starts:
            // there is no listener to ask (the host's start returns without a word when no
            // service of its own saw the stop)
            host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.ThrowIfCancellationRequested();
            var endpoint = await NetdumpHost.ListenEndpointAsync(host, TimeSpan.FromSeconds(10));
            if (settings.Port == 0)
            {
                // allowed (a test or a trial run takes any free port), but a production server
                // on it would lose every dump: FreeBSD sends its HERALD to 20023, fixed
                Log.Warning("port = 0: listening on random port {Port}, which no FreeBSD client can reach (they send to 20023); set port", endpoint.Port);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested
            || host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            // SIGTERM or SIGINT while starting (the start-up scan of a large dumpdir takes
            // seconds): a stop as asked, not an error; a daemon's launcher, which waits for it
            // to listen, says why it will not
            await host.StopAsync(CancellationToken.None);
            pidFile?.Dispose();
            Log.Information("Stopped while starting");
            await Log.CloseAndFlushAsync();
            if (daemonChild)
            {
                Daemonizer.ReportError(StoppedWhileStarting);
            }

            return ExitOk;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or TimeoutException or Akka.Actor.AskTimeoutException or OperatorConfigException)
        {
            await host.StopAsync(CancellationToken.None);
            await Log.CloseAndFlushAsync();
            pidFile?.Dispose();
            return Fail(e.Message);
        }

        // The listener is bound: a daemon's launcher may now exit 0.
        if (daemonChild)
        {
            Daemonizer.ReportReady();
        }

        await host.WaitForShutdownAsync(cancel);
        pidFile?.Dispose();
        Log.Information("Stopped");
        await Log.CloseAndFlushAsync();

        var reason = Akka.Actor.CoordinatedShutdown.Get(host.Services.GetRequiredService<Akka.Actor.ActorSystem>()).ShutdownReason;
        return WhyStopped(reason) is { } why ? Fail(why) : ExitOk;
    }

    /// <summary>
    /// A stop the operator did not ask for, as one line (the status is then an error's, so that a
    /// supervisor sees a failure, not a clean stop); null for a stop asked for (SIGTERM, SIGINT).
    /// </summary>
    internal static string? WhyStopped(Akka.Actor.CoordinatedShutdown.Reason? reason) => reason switch
    {
        // its node name is another node's in the fleet
        Netdump.Actors.FleetCatalogActor.NodeNameInUse clash => clash.Message,
        // the split-brain resolver stopped it: on the minority side of a partition, or cut off
        Akka.Actor.CoordinatedShutdown.ClusterDowningReason =>
            "the fleet removed this node (it was cut off from the majority of the nodes, docs/cluster.md): it stops; started again, it joins the fleet once the network is back",
        _ => null,
    };

    /// <summary>What a daemon's launcher prints when the daemon was stopped before it listened.</summary>
    public const string StoppedWhileStarting = "stopped while starting, before it listened (SIGTERM or SIGINT)";

    /// <summary>One line for the operator on stderr (from a daemon: to its launcher, which prints it), and the error status.</summary>
    public static int Fail(string message)
    {
        // one line, and only text: a value quoted from a file or an option may hold anything
        message = Netdump.Actors.Storage.DumpReport.OneLine(message);
        if (Daemonizer.IsDaemonChild)
        {
            Daemonizer.ReportError(message);
            return ExitError;
        }

        Console.Error.WriteLine($"netdump-server: {message}");
        return ExitError;
    }
}
