using Netdump.Actors.Configuration;
using Serilog;

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
    /// losing the log.
    /// </summary>
    public static ServerLog Create(NetdumpSettings settings, bool console, bool syslog, string syslogPath = SyslogSink.DefaultPath)
    {
        var configuration = new LoggerConfiguration().MinimumLevel.Information();
        if (console)
        {
            configuration.WriteTo.Console(outputTemplate: OutputTemplate);
        }

        if (syslog)
        {
            configuration.WriteTo.Sink(new SyslogSink(syslogPath));
        }

        var file = settings.LogFile is { } path ? new LogFileSink(path) : null;
        if (file is not null)
        {
            configuration.WriteTo.Sink(file);
        }

        return new ServerLog(configuration.CreateLogger(), file);
    }
}
