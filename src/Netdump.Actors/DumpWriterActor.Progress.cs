using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>While a dump arrives: its receiving report at the flush tick when something changed, and a progress line for long dumps.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>
    /// Ticks between two receiving reports that only the bytes or the rate changed: each write
    /// makes and frees two inodes, and in a crash storm of 128 dumps a report every tick was
    /// most of the file creations and a tenth of the server's CPU (docs/performance.md). The
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
    private void WriteReceivingReport(TimeSpan elapsed)
    {
        if (!(_reportStale || (_progressStale && elapsed >= _nextProgressReportAt)) || elapsed < _nextReportAt)
        {
            return;
        }

        _reportStale = _progressStale = false;
        _nextProgressReportAt = elapsed + _settings.FlushInterval * ProgressReportTicks;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var record = BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null) with { Rate = _progress.Rate };
            DumpReport.Write(record, ReportDurability.None);

            // a report listing many thousand ranges (a scattering client) costs milliseconds:
            // it waits, so that reports take at most a tenth of the writer's time
            _nextReportAt = elapsed + Stopwatch.GetElapsedTime(started) * 10;
        }
        catch (IOException e)
        {
            _log.Warning("Client {Client}: cannot update {Dir}/dump.json: {Error}", _herald.Client.Address, _directory, e.Message);
        }
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
