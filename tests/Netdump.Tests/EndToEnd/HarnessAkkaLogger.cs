using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Logger.Serilog;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Akka's logger for the in-process servers: the production <see cref="SerilogLogger"/>, whose
/// events go to this one server's log. Akka.Logger.Serilog writes to the static
/// <see cref="Log.Logger"/>, one per process, while tests run servers side by side, each keeping
/// its own lines: the static logger is <see cref="Router"/>, which hands each event to the server
/// whose logger actor is writing it on this thread.
/// </summary>
public sealed class HarnessAkkaLogger : SerilogLogger
{
    private const string CaptureKey = "netdump-tests.log-capture";

    private static readonly ConcurrentDictionary<string, ILogger> Captures = new();

    [ThreadStatic]
    private static ILogger? _writing;

    private readonly ILogger _capture = Captures[Context.System.Settings.Config.GetString(CaptureKey)];

    /// <summary>The process's <see cref="Log.Logger"/> while servers run in it.</summary>
    public static Logger Router { get; } = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new RouterSink()).CreateLogger();

    /// <summary>Akka settings that make this logger write to <paramref name="capture"/>; undone with <see cref="Forget"/>.</summary>
    public static Config For(ILogger capture, out string id)
    {
        Log.Logger = Router;
        id = Guid.NewGuid().ToString("N");
        Captures[id] = capture;
        return ConfigurationFactory.ParseString($"""
            akka.loggers = ["{typeof(HarnessAkkaLogger).AssemblyQualifiedName}"]
            {CaptureKey} = "{id}"
            """);
    }

    public static void Forget(string id) => Captures.TryRemove(id, out _);

    protected override bool AroundReceive(Akka.Actor.Receive receive, object message)
    {
        _writing = _capture;
        try
        {
            return base.AroundReceive(receive, message);
        }
        finally
        {
            _writing = null;
        }
    }

    private sealed class RouterSink : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => _writing?.Write(logEvent);
    }
}
