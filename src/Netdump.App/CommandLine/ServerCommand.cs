using System.CommandLine;
using System.Net;
using System.Text.Json;
using Akka.Configuration;
using Microsoft.Extensions.Hosting;
using Netdump.Actors.Configuration;
using Netdump.App.Hosting;
using Serilog;

namespace Netdump.App.CommandLine;

/// <summary>
/// The root command: runs the server. Settings come from the command line, in front of the
/// built-in defaults of netdump.hocon. Bad operator input ends with one line on stderr and a
/// non-zero exit.
/// </summary>
public static class ServerCommand
{
    public const int ExitOk = 0;
    public const int ExitError = 1;

    public static RootCommand Create()
    {
        var addr = new Option<string>("--addr") { Description = "IPv4 address to listen on (default 0.0.0.0)" };
        var port = new Option<int?>("--port") { Description = "UDP port for HERALDs (default 20023)" };
        var dumpdir = new Option<string>("--dumpdir") { Description = "where dumps go (default /var/crash)" };
        var root = new RootCommand("netdump-server: collects FreeBSD netdump crash dumps over UDP");
        root.Options.Add(addr);
        root.Options.Add(port);
        root.Options.Add(dumpdir);
        root.SetAction((parse, cancel) =>
        {
            var overrides = new Dictionary<string, object?>
            {
                ["addr"] = parse.GetValue(addr),
                ["port"] = parse.GetValue(port),
                ["dumpdir"] = parse.GetValue(dumpdir),
            };
            return RunAsync(overrides, cancel);
        });
        return root;
    }

    /// <summary>The built-in config with the given netdump keys (null = not set) in front of it.</summary>
    public static Config BuildConfig(IReadOnlyDictionary<string, object?> netdumpKeys)
    {
        var lines = netdumpKeys
            .Where(kv => kv.Value is not null)
            .Select(kv => $"netdump.{kv.Key} = {JsonSerializer.Serialize(kv.Value)}");
        return ConfigurationFactory.ParseString(string.Join("\n", lines)).WithFallback(NetdumpSettings.BuiltInConfig());
    }

    private static async Task<int> RunAsync(IReadOnlyDictionary<string, object?> overrides, CancellationToken cancel)
    {
        Config config;
        NetdumpSettings settings;
        try
        {
            config = BuildConfig(overrides);
            settings = NetdumpSettings.Create(config);
            PrepareDumpDirectory(settings.DumpDirectory);
        }
        catch (Exception e) when (e is ConfigurationException or IOException or UnauthorizedAccessException or FormatException)
        {
            return Fail(e.Message);
        }

        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.Console(outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:lj}{NewLine}{Exception}")
            .CreateLogger();
        using var host = NetdumpHost.Build(config);
        try
        {
            await host.StartAsync(cancel);
            await NetdumpHost.ListenEndpointAsync(host, TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or TimeoutException)
        {
            await host.StopAsync(CancellationToken.None);
            await Log.CloseAndFlushAsync();
            return Fail(e.Message);
        }

        await host.WaitForShutdownAsync(cancel);
        await Log.CloseAndFlushAsync();
        return ExitOk;
    }

    /// <summary>The dump directory must exist (it is made, mode 0700, when missing) and be writable.</summary>
    public static void PrepareDumpDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var probe = Path.Combine(path, $".netdump-write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"dump directory {path} is not writable: {e.Message}", e);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"netdump-server: {message}");
        return ExitError;
    }
}
