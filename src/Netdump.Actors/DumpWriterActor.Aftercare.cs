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
    /// <summary>
    /// To the parent, after a complete dump's <see cref="Finalized"/>: its SHA-256 is in its
    /// reports, or could not be computed or written (logged). No other dump gets one.
    /// </summary>
    public sealed class ChecksumDone
    {
        public static readonly ChecksumDone Instance = new();
        private ChecksumDone() { }
    }
    /// <summary>The hash's thread is done: <paramref name="Sha256"/> or why not.</summary>
    private sealed record ChecksumComputed(DumpRecord Record, string Sha256, ulong Bytes, TimeSpan Took);

    /// <summary>The hash's thread could not read the core: why.</summary>
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
    /// Hashes the finished core on the <see cref="BackgroundLane"/>: a core of many gigabytes
    /// takes seconds to minutes, which must not hold a disk dispatcher thread that other dumps'
    /// writers need, nor take CPU from dumps still arriving. Nothing writes the core any more
    /// (the pump is sealed or stopped, the core has its final name), so the hash is the file's.
    /// Stopping the writer cancels it. The outcome comes straight from the lane's outcome thread.
    /// </summary>
    private void StartChecksum(DumpRecord record)
    {
        _checksumCancel = new CancellationTokenSource();
        var cancel = _checksumCancel.Token;
        var path = Path.Combine(record.Directory, record.Vmcore);
        var started = Stopwatch.GetTimestamp();
        var self = Self;
        BackgroundLane.Shared.Run(() => (CoreChecksum.Compute(path, cancel), (ulong)new FileInfo(path).Length),
            hash => self.Tell(new ChecksumComputed(record, hash.Item1, hash.Item2, Stopwatch.GetElapsedTime(started))),
            e => self.Tell(new ChecksumFailed(record, e.GetBaseException().Message)),
            cancel);
    }
    /// <summary>
    /// The final reports again, now with the hash: each file fsynced before its rename, so that
    /// a crash leaves the new reports or the previous ones, both true; the directory is not
    /// fsynced again (its rename is durable with the next writeback), which spares every dump
    /// an fsync (docs/performance.md, "The fixed cost per dump").
    /// </summary>
    private void HandleChecksum(ChecksumComputed computed)
    {
        var record = computed.Record;
        try
        {
            var hashed = DumpReport.WriteChecksum(record, computed.Sha256, computed.Bytes);
            Publish(hashed);
            _log.Info("Client {Client}: SHA-256 of {Dir}/{Core} is {Sha256} ({Seconds:F1} s)",
                _herald.Client.Address, record.Directory, record.Vmcore, computed.Sha256, computed.Took.TotalSeconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("Client {Client}: cannot write the SHA-256 into the reports of {Dir}: {Error}", _herald.Client.Address, record.Directory, e.Message);
        }

        ChecksumOver(record);
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
        Context.Parent.Tell(ChecksumDone.Instance);
    }
}
