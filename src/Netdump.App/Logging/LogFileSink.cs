using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Netdump.App.Logging;

/// <summary>
/// The <c>log_file</c> sink: Serilog's file sink, which can be <see cref="Reopen">reopened</see>
/// (SIGHUP) so that logrotate may move the file away and the server goes on in a new file at
/// the same path. Serilog's own sink would write on into the file it opened, renamed or not.
/// </summary>
public sealed class LogFileSink : ILogEventSink, IDisposable
{
    private readonly Lock _gate = new();
    private Logger _file;

    /// <summary>Opens <paramref name="path"/> for appending; <see cref="IOException"/> with the reason when it cannot be.</summary>
    public LogFileSink(string path)
    {
        Path = path;
        _file = Open(path);
    }

    public string Path { get; }

    public void Emit(LogEvent logEvent)
    {
        lock (_gate)
        {
            _file.Write(logEvent);
        }
    }

    /// <summary>
    /// Opens the path anew (creating the file when it was moved away) and closes the old file
    /// once no event is being written to it. When the path cannot be opened, throws
    /// <see cref="IOException"/> with the reason and keeps writing to the old file.
    /// </summary>
    public void Reopen()
    {
        var fresh = Open(Path);
        Logger old;
        lock (_gate)
        {
            old = _file;
            _file = fresh;
        }

        old.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }

    private static Logger Open(string path)
    {
        // Serilog's file sink reports a file it cannot open only to its SelfLog: probe first.
        try
        {
            using var probe = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot open log file {path}: {e.Message}", e);
        }

        return new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(path, outputTemplate: NetdumpLogging.OutputTemplate, fileSizeLimitBytes: null)
            .CreateLogger();
    }
}
