using Netdump.Actors.Configuration;
using Serilog;
using Serilog.Events;

namespace Netdump.App.Logging;

/// <summary>
/// The one place the server's Serilog logger is built from the settings: the console (which
/// systemd passes on to the journal) in the foreground, syslog for a daemon, and the
/// <c>log_file</c> setting's file in either case.
/// </summary>
public static class NetdumpLogging
{
    public const string OutputTemplate = "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {Message:lj}{NewLine}{Exception}";

    /// <summary>
    /// Builds the logger. Throws <see cref="IOException"/> with the reason when the log file
    /// cannot be opened for appending, so a typo in <c>log_file</c> stops the start instead of
    /// losing the log; and when the log would go nowhere: syslog alone (a daemon without
    /// <c>log_file</c>) with no syslog socket to connect to.
    /// </summary>
    public static ServerLog Create(NetdumpSettings settings, bool console, bool syslog, string syslogPath = SyslogSink.DefaultPath)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            // boilerplate an operator has no use for: the host's "Application started. Press
            // Ctrl+C", "Hosting environment", "Content root path", "Application is shutting
            // down", and Akka's "CoordinatedShutdown invoked due to [Reason:...]"; the server
            // says itself when it listens, stops and has stopped. Their warnings still pass.
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Warning)
            // Kestrel and ASP.NET log every request at Information: the HTTP side logs its own start
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Akka.Actor.CoordinatedShutdown", LogEventLevel.Warning)
            // a hosted service that fails to start (the HTTP port taken, the actor system) has
            // its exception thrown to the server's start, which says it in one line; the host's
            // own "Hosting failed to start" with the stack trace (twice: the web application's
            // host inside the server's) would bury that line under 80 more
            .Filter.ByExcluding(IsHostStartupFault);
        if (console)
        {
            configuration.WriteTo.Console(outputTemplate: OutputTemplate);
        }

        var file = settings.LogFile is { } path ? new LogFileSink(path) : null;
        if (file is not null)
        {
            configuration.WriteTo.Sink(file);
        }

        if (syslog)
        {
            var sink = new SyslogSink(syslogPath);
            if (!console && file is null && sink.WhyUnreachable() is { } why)
            {
                // a daemon with nowhere to log would receive dumps that nobody hears about
                sink.Dispose();
                throw new IOException($"no log for the daemon: no syslog at {syslogPath} ({why}) and no log_file; set log_file in netdump.conf, or start syslog");
            }

            configuration.WriteTo.Sink(sink);
        }

        return new ServerLog(configuration.CreateLogger(), file);
    }

    /// <summary>Microsoft.Extensions.Hosting's event for a start that threw (its <c>EventId</c> as Serilog receives it: Id and Name).</summary>
    private static bool IsHostStartupFault(LogEvent e) =>
        e.Properties.TryGetValue("EventId", out var id) && id is StructureValue eventId
        && eventId.Properties.Any(p => p is { Name: "Name", Value: ScalarValue { Value: "HostedServiceStartupFaulted" } });
}
