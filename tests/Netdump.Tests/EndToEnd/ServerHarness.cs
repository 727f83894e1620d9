using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;
using Netdump.App.Hosting;
using Netdump.App.Http;
using Netdump.App.Simulation;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A real server in this process, built by the production <see cref="NetdumpHost"/>, listening
/// on 127.0.0.1 port 0 with a temporary dump directory and short timeouts. Keeps every log line
/// so tests can assert what an operator would read.
/// </summary>
public sealed class ServerHarness : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly LogCapture _logs = new();
    private bool _stopped;
    private string _captureId = "";

    private ServerHarness(IHost host, string dumpDir, IPEndPoint endpoint, LogCapture logs)
    {
        _host = host;
        DumpDir = dumpDir;
        Endpoint = endpoint;
        _logs = logs;
    }

    public string DumpDir { get; }

    /// <summary>The server's actor system, as its host made it.</summary>
    public Akka.Actor.ActorSystem System => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Akka.Actor.ActorSystem>(_host.Services);
    public IPEndPoint Endpoint { get; }

    /// <summary>Where Linux clients send (null unless the test set <c>linux_port</c>).</summary>
    public IPEndPoint? LinuxEndpoint { get; private init; }
    public IReadOnlyCollection<string> LogLines => _logs.Lines;

    /// <summary>The HTTP API's base URL (null unless the test set <c>http</c>, e.g. to 127.0.0.1:0).</summary>
    public string? HttpUrl { get; private init; }

    /// <summary>The host's services (the actor system, the registry), for tests that look inside.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>
    /// The settings of a server under test, on loopback with any free port, whose dumps go to
    /// <paramref name="dumpDir"/>: no Linux port and no HTTP unless a test asks, since servers
    /// under test run side by side.
    /// </summary>
    public static Dictionary<string, object?> LoopbackKeys(string dumpDir) => new()
    {
        ["addr"] = "127.0.0.1",
        ["port"] = 0,
        ["linux_port"] = 0,
        ["dumpdir"] = dumpDir,
        ["http"] = HttpSettings.Off,
    };

    public static async Task<ServerHarness> StartAsync(IDictionary<string, object?>? settings = null)
    {
        var dumpDir = Path.Combine(Path.GetTempPath(), $"netdump-e2e-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dumpDir);
        var keys = LoopbackKeys(dumpDir);
        keys["session_timeout"] = "2s";
        keys["linger"] = "2s";
        keys["flush_interval"] = "200ms";
        foreach (var (key, value) in settings ?? new Dictionary<string, object?>())
        {
            keys[key] = value;
        }

        if (!Equals(keys["dumpdir"], dumpDir))
        {
            Directory.Delete(dumpDir);
            dumpDir = (string)keys["dumpdir"]!;
        }

        var logs = new LogCapture();
        var logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(logs).CreateLogger();
        var akkaLog = HarnessAkkaLogger.For(logger, out var captureId);
        var config = akkaLog.WithFallback(OperatorConfig.BuildConfig(keys));
        var host = NetdumpHost.Build(config, logger);
        IPEndPoint endpoint;
        try
        {
            await host.StartAsync();
            endpoint = await NetdumpHost.ListenEndpointAsync(host, TimeSpan.FromSeconds(10));
        }
        catch
        {
            // a server that did not start must not keep its actor system and sockets for the rest of the run
            await host.StopAsync();
            host.Dispose();
            HarnessAkkaLogger.Forget(captureId);
            throw;
        }

        // the Linux port as the server read it (a test that sets one picks a free port: it is bound, or the start failed)
        var read = NetdumpSettings.Create(config);
        return new ServerHarness(host, dumpDir, endpoint, logs)
        {
            LinuxEndpoint = read.LinuxPort is { } linuxPort ? new IPEndPoint(read.Address, linuxPort) : null,
            HttpUrl = host.Services.GetRequiredService<HttpService>().Url,
            _captureId = captureId,
        };
    }

    /// <summary>Options for a simulated client from <paramref name="source"/> aimed at this server, with a short resend time.</summary>
    public SimulationOptions Client(string source = "127.0.0.1") => new()
    {
        Server = Endpoint,
        Source = IPAddress.Parse(source),
        ResendAfter = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>The dump directories of one client, oldest first.</summary>
    public IReadOnlyList<string> DumpsOf(string client, string? under = null) =>
        Directory.GetDirectories(under ?? DumpDir, client + "-*").Order(StringComparer.Ordinal).ToList();

    public string SingleDumpOf(string client, string? under = null) => Assert.Single(DumpsOf(client, under));

    /// <summary>Waits (bounded) until the client's dump directory exists, and returns it.</summary>
    public async Task<string> WaitForDumpOfAsync(string client)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (DumpsOf(client) is [var dir])
            {
                return dir;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no dump of {client}");
            }

            await Task.Delay(20);
        }
    }

    public static JsonElement ReadJson(string dumpDir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(dumpDir, "dump.json"))).RootElement;

    /// <summary>
    /// Waits (bounded) until the dump's dump.json leaves "receiving", and returns it. The first
    /// dump.json comes with the writer's first flush tick or the end, whichever is sooner.
    /// </summary>
    public static Task<JsonElement> WaitForEndAsync(string dumpDir, TimeSpan? timeout = null) =>
        WaitForJsonAsync(dumpDir, json => json.GetProperty("status").GetString() != "receiving", timeout);

    /// <summary>Waits (bounded) until the dump has a dump.json for which <paramref name="until"/> holds, and returns it.</summary>
    public static async Task<JsonElement> WaitForJsonAsync(string dumpDir, Func<JsonElement, bool> until, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            // replaced atomically by the writer: never half-written
            if (File.Exists(Path.Combine(dumpDir, "dump.json")) && ReadJson(dumpDir) is var json && until(json))
            {
                return json;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{dumpDir}: no dump.json as awaited");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits (bounded) for a log line containing all the given fragments.</summary>
    public async Task<string> WaitForLogAsync(params string[] fragments)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var line = _logs.Lines.FirstOrDefault(l => fragments.All(l.Contains));
            if (line is not null)
            {
                return line;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no log line with {string.Join(", ", fragments)}; log:\n{string.Join("\n", _logs.Lines)}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Stops the server as SIGTERM would (in-flight dumps are marked, scripts run).</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
        HarnessAkkaLogger.Forget(_captureId);
        try
        {
            Directory.Delete(DumpDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class LogCapture : ILogEventSink
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly MessageTemplateTextFormatter _format = new("[{Level}] {Message:lj}");

        public IReadOnlyCollection<string> Lines => _lines;

        public void Emit(LogEvent logEvent)
        {
            using var line = new StringWriter();
            _format.Format(logEvent, line);
            _lines.Enqueue(line.ToString());
        }
    }
}
