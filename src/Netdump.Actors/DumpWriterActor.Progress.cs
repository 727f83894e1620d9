using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// While a dump arrives, at each flush tick: the core flushed in the background (and, once, the
/// directories that find it made durable), the reports' reserved files made at the first tick,
/// the receiving report when something changed, the catalog's progress, a progress line for
/// long dumps and the free-space check.
/// </summary>
public sealed partial class DumpWriterActor
{
    /// <summary>What the next receiving report has to tell; a change of what the dump is outranks more bytes.</summary>
    private enum ReportNews
    {
        None,

        /// <summary>Only the bytes or the rate changed: reported every <see cref="ProgressReportTicks"/> ticks.</summary>
        Progress,

        /// <summary>The dump opened, or its KDH or memory description arrived: reported at the next tick.</summary>
        Change,
    }

    private void HandleFlushTick()
    {
        MakeReportsRoom();
        FlushInBackground();
        var elapsed = Stopwatch.GetElapsedTime(_openedAt);
        var bytes = _core?.BytesReceived ?? 0;
        if (_progress.Tick(bytes, elapsed) && _news == ReportNews.None)
        {
            _news = ReportNews.Progress;
        }

        if (!WriteReceivingReport(elapsed))
        {
            PublishProgress(bytes, elapsed);
        }

        LogProgress(bytes, elapsed);
        ReportLowSpace();
    }

    private void FlushInBackground()
    {
        if (_core is not { UnflushedBytes: > 0 })
        {
            return;
        }

        try
        {
            _core.Flush();
            MakeDirectoryDurable();
        }
        catch (IOException e)
        {
            // the kernel may have dropped the dirty pages: what was acked may not be on disk, so
            // the dump cannot be trusted to complete, and the session ends it now; no more
            // background flushes meanwhile, they would fail alike
            _failure ??= EndReason.FsyncFailed(e.Message);
            Timers.Cancel(FlushTimer);
            _log.Error("Client {Client}: fsync of {Core} failed: {Error}", _herald.Client.Address, _core.Path, e.Message);
            Context.Parent.Tell(new DiskFailed(_failure));
        }
    }

    /// <summary>
    /// Once per dump: fsyncs the dump directory (its core's entry) and the directory that holds
    /// it (the dump directory's own entry), so that the data the background flushes make durable
    /// can be found after a crash. Called after the first flush of the core and, for a dump that
    /// ends before one, when the final report is written.
    /// </summary>
    private void MakeDirectoryDurable()
    {
        if (_directoryDurable)
        {
            return;
        }

        _disk.FsyncDirectory(_directory);
        _disk.FsyncDirectory(ParentDirectory);
        _directoryDurable = true;
    }

    private string ParentDirectory => Path.GetDirectoryName(_directory)!;

    /// <summary>
    /// Ticks between two receiving reports that only the bytes or the rate changed: each write
    /// makes and frees two inodes, and in a crash storm a report every tick was most of the file
    /// creations and a large share of the server's CPU (docs/performance.md). The
    /// live progress is the catalog's (HTTP, CLI) and the progress log line's.
    /// </summary>
    internal const int ProgressReportTicks = 10;

    /// <summary>
    /// On a flush tick (there are none after the end), the report of a dump still receiving,
    /// when something it shows changed since the last one: at the next tick when the dump
    /// opened or its KDH or memory description arrived; every <see cref="ProgressReportTicks"/>
    /// ticks when only more bytes arrived or the client stalled. A dump shorter than a tick has
    /// only its final report, and an idle dump writes none (each write makes and frees inodes,
    /// docs/performance.md). Not fsynced, since the final report is, and the recovery scan
    /// rebuilds a report it cannot read.
    /// </summary>
    /// <returns>whether it was due: the catalog has heard its record</returns>
    private bool WriteReceivingReport(TimeSpan elapsed)
    {
        var due = _news == ReportNews.Change || (_news == ReportNews.Progress && elapsed >= _nextProgressReportAt);
        if (!due || elapsed < _nextReportAt)
        {
            return false;
        }

        _news = ReportNews.None;
        _nextProgressReportAt = elapsed + _settings.FlushInterval * ProgressReportTicks;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var record = BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null) with { Rate = _progress.Rate };
            PublishReceiving(record, elapsed);
            DumpReport.Write(record, ReportDurability.None);

            // a report listing many thousand ranges (a scattering client) costs milliseconds:
            // it waits, so that reports take at most a tenth of the writer's time
            _nextReportAt = elapsed + Stopwatch.GetElapsedTime(started) * 10;
        }
        catch (IOException e)
        {
            _log.Warning("Client {Client}: cannot update {Dir}/dump.json: {Error}", _herald.Client.Address, _directory, e.Message);
        }

        return true;
    }

    /// <summary>
    /// Every <see cref="ReceiveProgress"/> interval of a dump still arriving, one line with how
    /// far it is: the bytes, the share of the length once known, the rate since the last line
    /// and the time left at that rate.
    /// </summary>
    private void LogProgress(ulong bytes, TimeSpan elapsed)
    {
        if (_progress.LogDue(bytes, elapsed) is not { } rate)
        {
            return;
        }

        var received = $"{bytes} bytes ({ByteUnits.Size(bytes)})";
        var speed = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ByteUnits.Rate(rate)} over the last {_settings.ProgressLogInterval.TotalSeconds:0.#} s");
        if (ExpectedLength is not { } length)
        {
            _log.Info("Client {Client}: {Received} received, {Rate}; length not known yet", _herald.Client.Address, received, speed);
            return;
        }

        var percent = length == 0 ? 100 : Math.Min(100, (int)(bytes * 100.0 / length));
        var left = ReceiveRate.SecondsLeft(bytes, length, rate) is { } seconds ? $"about {seconds} s left" : "time left unknown (nothing arriving)";
        _log.Info("Client {Client}: {Received} of {Length} received ({Percent}%), {Rate}, {Left}",
            _herald.Client.Address, received, $"{length} ({ByteUnits.Size(length)})", percent, speed, left);
    }
}
