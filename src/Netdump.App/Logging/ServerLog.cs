using Serilog.Core;

namespace Netdump.App.Logging;

/// <summary>The server's logger, and what SIGHUP does to it.</summary>
public sealed class ServerLog(Logger logger, LogFileSink? file) : IDisposable
{
    public Logger Logger => logger;

    /// <summary>
    /// SIGHUP, as logrotate sends it: reopens <c>log_file</c>, and says in the log what it did.
    /// Settings are not read again (netdump.conf is read only at start).
    /// </summary>
    public void OnHangup()
    {
        if (file is null)
        {
            logger.Information("SIGHUP: no log_file to reopen; settings are read only at start (restart to change them)");
            return;
        }

        try
        {
            file.Reopen();
            logger.Information("SIGHUP: reopened log file {LogFile}", file.Path);
        }
        catch (IOException e)
        {
            logger.Error("SIGHUP: {Reason}; still logging to the file opened before", e.Message);
        }
    }

    public void Dispose() => logger.Dispose();
}
