using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>After a complete dump is final (and acked): its core's SHA-256, off the ack path, and the host's <c>.last</c> link.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>The lane hashed the core and wrote the reports with the hash (<paramref name="Hashed"/>).</summary>
    private sealed record ChecksumComputed(DumpRecord Hashed, TimeSpan Took);

    /// <summary>The lane hashed the core but could not write the hash into the reports: why.</summary>
    private sealed record ChecksumNotWritten(DumpRecord Record, string Sha256, string Error);

    /// <summary>The lane could not read the core: why.</summary>
    private sealed record ChecksumFailed(DumpRecord Record, string Error);
    /// <summary><c>&lt;host&gt;.last</c> beside the dump now points to it; a failure costs the link only.</summary>
    private void PointLastLink(DumpRecord record)
    {
        var name = LastLinks.LinkName(_header?.Hostname, _herald.Client.Address);
        try
        {
            LastLinks.Point(ParentDirectory, name, record.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Client {Client}: cannot point {Link} at {Dir}: {Error}", _herald.Client.Address, name, record.Directory, e.Message);
        }
    }
    /// <summary>
    /// A complete core of at most this many bytes, whose dump is the only one being received, is
    /// hashed at its end, before the FINISHED ack (about half a millisecond a MiB here), and its
    /// final reports carry the hash: writing them again with it later costs a small dump more
    /// than the hash (two more files written, fsynced and renamed, and a turn on the lane). A
    /// larger core is hashed after the ack (<see cref="StartChecksum"/>): its hash would hold the
    /// ack, whose client gives up after about 12 s (SPEC §3); and so is any core while other
    /// dumps are received: in a crash storm their ends come in the same second, and each end's
    /// hash on a disk thread held the next ones' acks (docs/performance.md).
    /// </summary>
    public const long ChecksumBeforeAckBytes = 16L << 20;

    /// <summary>
    /// The record with its core's SHA-256 if the dump is complete, its core small
    /// (<see cref="ChecksumBeforeAckBytes"/>) and no other dump is being received; as it is
    /// otherwise, or when the core cannot be read now: then the lane tries again after the ack,
    /// and says what it finds.
    /// </summary>
    private DumpRecord WithChecksumIfSmall(DumpRecord record)
    {
        // this dump's own account is closed by now (ReturnUnusedSpace)
        if (record.Status != DumpStatus.Complete || _space.DumpsReceiving > 0)
        {
            return record;
        }

        try
        {
            return CoreChecksum.Hash(Path.Combine(record.Directory, record.Vmcore), ChecksumBeforeAckBytes, CancellationToken.None) is { } hash
                ? record.WithChecksum(hash)
                : record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return record;
        }
    }

    /// <summary>
    /// A complete dump's checksum: done if <see cref="WithChecksumIfSmall"/> put it in the final
    /// reports (the catalog has that record, and the session's end line says the hash), else
    /// computed on the lane.
    /// </summary>
    private void Checksum(DumpRecord record)
    {
        if (record.Sha256 is null)
        {
            StartChecksum(record);
        }
        else
        {
            ChecksumOver(record);
        }
    }

    /// <summary>
    /// Hashes the finished core on the <see cref="BackgroundLane"/>, and writes the reports again
    /// with the hash there too: a core of many gigabytes takes seconds to minutes, which must not
    /// hold a disk dispatcher thread that other dumps' writers need, nor take CPU from dumps still
    /// arriving; and the reports' two fsyncs, on a disk thread, came between the ends of a crash
    /// storm's other dumps, whose clients wait for their FINISHED's ack (docs/performance.md).
    /// Nothing writes the core any more (the pump is sealed or stopped, the core has its final
    /// name), so the hash is the file's; nothing else writes the reports until the writer tells
    /// storage care (<see cref="ChecksumOver"/>). Stopping the writer cancels the hash. The
    /// outcome comes straight from the lane's outcome thread.
    /// </summary>
    private void StartChecksum(DumpRecord record)
    {
        _checksumCancel = new CancellationTokenSource();
        var cancel = _checksumCancel.Token;
        var path = Path.Combine(record.Directory, record.Vmcore);
        var started = Stopwatch.GetTimestamp();
        var self = Self;
        BackgroundLane.Shared.Run(() =>
            {
                var hash = CoreChecksum.Hash(path, cancel);
                cancel.ThrowIfCancellationRequested(); // a writer that stopped leaves its dump's reports as they are
                try
                {
                    return (object)new ChecksumComputed(DumpReport.WriteChecksum(record, hash), Stopwatch.GetElapsedTime(started));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new ChecksumNotWritten(record, hash.Sha256, e.Message);
                }
            },
            outcome => self.Tell(outcome),
            e => self.Tell(new ChecksumFailed(record, e.GetBaseException().Message)),
            cancel);
    }

    private void HandleChecksum(ChecksumComputed computed)
    {
        var hashed = computed.Hashed;
        Publish(hashed);
        _log.Info("Client {Client}: SHA-256 of {Dir}/{Core} is {Sha256} ({Seconds:F1} s)",
            _herald.Client.Address, hashed.Directory, hashed.Vmcore, hashed.Sha256, computed.Took.TotalSeconds);
        ChecksumOver(hashed);
    }

    private void HandleChecksumNotWritten(ChecksumNotWritten failed)
    {
        _log.Error("Client {Client}: cannot write the SHA-256 {Sha256} into the reports of {Dir}: {Error}",
            _herald.Client.Address, failed.Sha256, failed.Record.Directory, failed.Error);
        ChecksumOver(failed.Record);
    }

    private void HandleChecksumFailure(ChecksumFailed failed)
    {
        _log.Error("Client {Client}: cannot compute the SHA-256 of {Dir}/{Core}: {Error}; the reports go without it",
            _herald.Client.Address, failed.Record.Directory, failed.Record.Vmcore, failed.Error);
        ChecksumOver(failed.Record);
    }

    /// <summary>Hashed or not, the dump's aftercare goes on: decryption and compression at rest take it from here, if the server does either.</summary>
    private void ChecksumOver(DumpRecord record)
    {
        Context.System.EventStream.Publish(new StorageCareActor.DumpCompleted(record.Directory));
        Retire();
    }

    /// <summary>
    /// The dump needs nothing more of its writer (final, reported, hashed if complete): it stops,
    /// and its session, which watches it, hears <see cref="Terminated"/>. The session waits for
    /// that before it stops itself (stopping the writer sooner would abandon a hash or reports
    /// still waiting for room); a writer that stops at the end of its own last turn on a disk
    /// thread spares its dump a turn there for the session's stop (docs/performance.md).
    /// </summary>
    private void Retire() => Context.Stop(Self);
}
