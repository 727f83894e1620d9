using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Logger.Serilog;
using Microsoft.Extensions.DependencyInjection;
using Netdump.App.Configuration;
using Netdump.App.Hosting;
using Netdump.App.Logging;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog;

namespace Netdump.Tests.App;

/// <summary>
/// Akka's log as the server sets it up (<see cref="NetdumpHost.AkkaLogging"/>): Akka.Logger.Serilog's
/// logger writing to Serilog's static logger. Alone, because it replaces that logger, which the
/// in-process servers of the other tests share.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class AkkaLoggingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Akka_log_call_inside_an_actor_should_reach_the_serilog_sinks_with_its_properties()
    {
        var events = new ConcurrentQueue<LogEvent>();
        var previous = Log.Logger;
        Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new Capture(events)).CreateLogger();
        try
        {
            var dumpDir = _dir.Combine("crash");
            Directory.CreateDirectory(dumpDir);
            using var host = NetdumpHost.Build(OperatorConfig.BuildConfig(ServerHarness.LoopbackKeys(dumpDir)));
            await host.StartAsync();
            var endpoint = await NetdumpHost.ListenEndpointAsync(host, TimeSpan.FromSeconds(10));
            var system = host.Services.GetRequiredService<ActorSystem>();

            // the listener actor's _log.Info("Listening for netdump HERALDs on {Endpoint}, dumps go to {DumpDir}", ...)
            var listening = await WaitForAsync(events, e => e.MessageTemplate.Text.StartsWith("Listening for netdump HERALDs", StringComparison.Ordinal));
            await host.StopAsync();

            Assert.IsType<SerilogLogMessageFormatter>(system.Settings.LogFormatter);
            Assert.Equal(LogEventLevel.Information, listening.Level);
            Assert.Equal("Listening for netdump HERALDs on {Endpoint}, dumps go to {DumpDir}", listening.MessageTemplate.Text);
            Assert.Equal($"Listening for netdump HERALDs on {endpoint}, dumps go to {dumpDir}", Rendered(listening));
            Assert.Equal(endpoint.ToString(), Scalar(listening, "Endpoint"));
            Assert.Equal(dumpDir, Scalar(listening, "DumpDir"));
            Assert.Equal("Netdump.Actors.UdpListenerActor", Scalar(listening, Constants.SourceContextPropertyName));
            Assert.Equal("akka://netdump/user/listener", Scalar(listening, "LogSource"));

            // Akka's filter step keeps every event and renders its message alone: its default
            // renders the whole event's text (time, thread, source), which the logger discards
            var kept = system.Settings.LogFilter.ShouldTryKeepMessage(
                new Akka.Event.Info("akka://netdump/user/listener", typeof(AkkaLoggingTests), "dump started"), out var rendered);
            Assert.True(kept);
            Assert.Equal("dump started", rendered);

            // what Akka logs while its loggers are not running reaches Serilog with its level and source
            system.Settings.StdoutLogger.Tell(new Akka.Event.Warning("akka://netdump/system", typeof(AkkaLoggingTests), "logged before the loggers started"));
            var early = await WaitForAsync(events, e => e.MessageTemplate.Text == "{Message:l}" && Scalar(e, "Message") == "logged before the loggers started");
            Assert.Equal(LogEventLevel.Warning, early.Level);
            Assert.Equal("logged before the loggers started", Rendered(early));
            Assert.Equal("akka://netdump/system", Scalar(early, "LogSource"));
            Assert.Equal(typeof(AkkaLoggingTests).FullName, Scalar(early, Constants.SourceContextPropertyName));
        }
        finally
        {
            Log.Logger = previous;
        }
    }

    /// <summary>The message as the server's log writes it (<see cref="NetdumpLogging.OutputTemplate"/>'s <c>{Message:lj}</c>).</summary>
    private static string Rendered(LogEvent logEvent)
    {
        var text = new StringWriter();
        new MessageTemplateTextFormatter("{Message:lj}").Format(logEvent, text);
        return text.ToString();
    }

    private static string? Scalar(LogEvent logEvent, string property) =>
        Assert.IsType<ScalarValue>(logEvent.Properties[property]).Value?.ToString();

    private static async Task<LogEvent> WaitForAsync(ConcurrentQueue<LogEvent> events, Func<LogEvent, bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            if (events.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no such event; got:\n{string.Join("\n", events.Select(e => e.MessageTemplate.Text))}");
            }

            await Task.Delay(20);
        }
    }

    private sealed class Capture(ConcurrentQueue<LogEvent> events) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => events.Enqueue(logEvent);
    }
}
