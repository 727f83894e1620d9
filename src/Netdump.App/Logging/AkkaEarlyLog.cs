using Akka.Event;
using Serilog.Core;
using LogEventLevel = Serilog.Events.LogEventLevel;

namespace Netdump.App.Logging;

/// <summary>
/// Akka's log while its loggers are not running (before they start and after they stop, at
/// <c>akka.stdout-loglevel</c>), into the server's Serilog log like every other line, with its
/// level and source: a daemon's goes to syslog or <c>log_file</c>, not to a closed standard
/// output. Akka's own StandardOutLogger prints the text its log filter step hands over, which
/// under <see cref="Hosting.NetdumpHost.MessageOnlyLogFilter"/> is the message alone.
/// Named by <c>akka.stdout-logger-class</c> in <see cref="Hosting.NetdumpHost.AkkaLogging"/>.
/// </summary>
public sealed class AkkaEarlyLog : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is not LogEvent e)
        {
            Serilog.Log.Information("{Message:l}", message.ToString());
            return;
        }

        Serilog.Log.Logger
            .ForContext(Constants.SourceContextPropertyName, e.LogClass?.FullName)
            .ForContext("LogSource", e.LogSource)
            .Write(LevelOf(e), e.Cause, "{Message:l}", e.Message?.ToString());
    }

    private static LogEventLevel LevelOf(LogEvent e) => e.LogLevel() switch
    {
        LogLevel.DebugLevel => LogEventLevel.Debug,
        LogLevel.InfoLevel => LogEventLevel.Information,
        LogLevel.WarningLevel => LogEventLevel.Warning,
        _ => LogEventLevel.Error,
    };
}
