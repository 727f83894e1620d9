using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>The end of a dump: the last fsyncs, complete or incomplete (SPEC §3), the core's final name and the final reports.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>Ends the dump: incomplete for an <paramref name="imposed"/> reason, else as its data decides.</summary>
    private void HandleFinish(EndReason? imposed, string? supersededBy)
    {
        Timers.CancelAll();
        FsyncConsoleLog();
        // what the data says, first: a complete core is cut to its length before its one fsync,
        // which then makes the cut durable too
        var reason = imposed ?? _failure ?? IncompleteBecause() ?? CutToLength();
        try
        {
            _core!.Flush();
            _key?.Flush(flushToDisk: true);
            if (!_directoryDurable)
            {
                // a dump that ended before its first background flush: the final report fsyncs
                // the dump directory, and this makes the dump directory's own entry durable
                _disk.FsyncDirectory(ParentDirectory);
                _directoryDurable = true;
            }
        }
        catch (IOException e)
        {
            _failure ??= EndReason.FsyncFailed(e.Message);
        }

        _core!.ReturnUnusedSpace(); // nothing more is written: the pump is sealed or stopped
        // a failed fsync outranks what the data said; the final name only for a complete core
        reason = imposed ?? _failure ?? reason ?? NameFinal();

        var record = BuildRecord(reason is null ? DumpStatus.Complete : DumpStatus.Incomplete, reason, supersededBy, DateTimeOffset.UtcNow);
        _core.Close(); // final: nothing holds it open now (the checksum and a compression open it by name)
        record = WithChecksumIfSmall(record);
        try
        {
            WriteFinalReports(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the dump's end stands as it is (a full disk is often why it ended: "no space"); only
            // its description waits, for room another dump, retention or the operator makes
            _log.Error("Client {Client}: cannot write the reports of {Dir}: {Error}; the dump ends {Status} all the same, and its reports are written as soon as there is room",
                _herald.Client.Address, _directory, e.Message, record.Reason is null ? "complete" : $"incomplete ({record.Reason.Text})");
            MakeCoresNameDurable();
            _unreported = record;
            _phase = Phase.Unreported;
            Timers.StartPeriodicTimer(ReportsTimer, RetryReports.Instance, _settings.FlushInterval);
            Sender.Tell(new Finalized(record, Reported: false));
            Publish(record);
            return;
        }

        _phase = Phase.Final;
        // the link before the session hears of the end: its netdump-reboot, and anyone told of
        // the dump from then on, find the host's newest dump behind it
        PointLastLinkIfComplete(record);
        Sender.Tell(new Finalized(record));
        Publish(record);
        ChecksumOrStop(record);
    }

    /// <summary>
    /// The final reports' own directory fsync did not come: the directory is fsynced all the
    /// same, so that the core's final name (its rename from <c>vmcore-incomplete</c>) is as
    /// durable as its bytes before the FINISHED ack; only the reports wait for room.
    /// </summary>
    private void MakeCoresNameDurable()
    {
        try
        {
            _disk.FsyncDirectory(_directory);
        }
        catch (IOException e)
        {
            _log.Error("Client {Client}: cannot fsync {Dir}: {Error}; the core's name may not survive a power loss until its reports are written", _herald.Client.Address, _directory, e.Message);
        }
    }

    /// <summary>The final reports are on disk: a complete dump gets its <c>.last</c> link and its checksum.</summary>
    private void AfterReports(DumpRecord record)
    {
        PointLastLinkIfComplete(record);
        ChecksumOrStop(record);
    }

    private void PointLastLinkIfComplete(DumpRecord record)
    {
        if (record.Status == DumpStatus.Complete)
        {
            PointLastLink(record);
        }
    }

    /// <summary>
    /// A complete dump's checksum, if its final reports do not carry it yet; else the writer's
    /// work is over and it stops (<see cref="Retire"/>).
    /// </summary>
    private void ChecksumOrStop(DumpRecord record)
    {
        if (record.Status == DumpStatus.Complete)
        {
            Checksum(record);
        }
        else
        {
            Retire();
        }
    }

    /// <summary>A dump whose reports found no room, the reports again (at each flush interval until they are written).</summary>
    private void RetryFinalReports()
    {
        var record = _unreported!;
        if (!TryWriteUnreported(out _))
        {
            return; // still no room: logged once, at the end
        }

        Timers.Cancel(ReportsTimer);
        _unreported = null;
        _phase = Phase.Final;
        _log.Info("Client {Client}: the reports of {Dir} are written: there is room again", _herald.Client.Address, _directory);
        AfterReports(record);
    }

    /// <summary>The final reports that found no room, written again: false, with the error, while there is still none.</summary>
    private bool TryWriteUnreported([NotNullWhen(false)] out string? error)
    {
        try
        {
            WriteFinalReports(_unreported!);
            error = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>The core's full length once the client said it (the KDH's, or the ELF core's); null before.</summary>
    private ulong? ExpectedLength => _header?.DumpLength ?? (ulong?)_linux?.Layout.FileSize;

    /// <summary>Why a dump whose FINISHED arrived is still not complete, or null when it is.</summary>
    private EndReason? IncompleteBecause()
    {
        if (_herald.Dialect == Ingest.Dialect.Linux)
        {
            return _linux is null ? EndReason.NoMemoryDescription
                : _core!.Holes((ulong)_linux.Layout.FileSize) is { Count: > 0 } missing
                    ? EndReason.Holes(missing.Count, ByteRange.Total(missing))
                    : null;
        }

        if (_header is null)
        {
            return _headerProblem is null ? EndReason.NoKernelDumpHeader : EndReason.BadKernelDumpHeader(_headerProblem);
        }

        var holes = _core!.Holes(_header.DumpLength);
        if (holes.Count > 0)
        {
            return EndReason.Holes(holes.Count, ByteRange.Total(holes));
        }

        return _header.DumpKeySize > 0 && !_keyRanges.Covers(0, _header.DumpKeySize)
            ? EndReason.KeyIncomplete($"{_keyRanges.TotalBytes} of {_header.DumpKeySize} bytes received, {MissingKeyBytes()} missing")
            : null;
    }

    /// <summary>
    /// Cuts a complete core to its length: a Linux core's sparse tail of zero and reserved pages,
    /// a compressed core's padded last block (what lies beyond was never part of the dump); a
    /// failure is the reason the dump is incomplete.
    /// </summary>
    private EndReason? CutToLength()
    {
        try
        {
            if (_linux is { } linux)
            {
                _core!.Truncate((ulong)linux.Layout.FileSize);
            }
            else if (_header!.Compression != DumpCompression.None)
            {
                _core!.Truncate(_header.DumpLength);
            }

            return null;
        }
        catch (IOException e)
        {
            return EndReason.WriteFailed(what: null, e.Message);
        }
    }

    /// <summary>Gives a complete, fsynced core its final name; a failure is the reason the dump is incomplete.</summary>
    private EndReason? NameFinal()
    {
        try
        {
            _core!.Rename(FinalCoreName());
            return null;
        }
        catch (IOException e)
        {
            return EndReason.WriteFailed(what: null, e.Message);
        }
    }

    private string FinalCoreName() =>
        _linux is not null
            ? CoreFileNames.Plain
            : CoreFileNames.WithCompression(Encrypted ? CoreFileNames.Encrypted : CoreFileNames.Plain, _header!.Compression);
}
