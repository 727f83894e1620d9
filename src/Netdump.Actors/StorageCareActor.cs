using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// The work on complete dumps that can wait (SPEC §10): decryption with <c>decrypt_key</c>
/// (<see cref="CoreDecryption"/>) and compression at rest with <c>compress = zstd</c>
/// (<see cref="CoreCompression"/>). One dump at a time, on a <see cref="BackgroundLane"/> of its own
/// (a thread at a low CPU priority, which libzstd's worker threads inherit), and paused between
/// chunks while any dump is being received (<see cref="ConcurrencyGuardActor.SlotsInUse"/> on
/// the event stream closes its <see cref="PauseGate"/>): a low priority alone still took a
/// large share of a receiving dump's speed on a small machine (docs/performance.md). Each
/// dump's record is read from its <c>dump.json</c> when its turn comes, so the reports stay the
/// one truth. Dumps come from writers, which publish <see cref="DumpCompleted"/> on the event
/// stream once a complete dump's checksum is in its reports, and from the start-up scan, which
/// finds the complete dumps still waiting (<see cref="CareBacklog"/>: a stopped server's
/// backlog, or dumps from before the key was set). Made in every server: a complete dump an
/// earlier run left without its SHA-256 gets it here.
/// </summary>
public sealed class StorageCareActor : ReceiveActor
{
    private readonly NetdumpSettings _settings;
    private readonly RSA? _key;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<string> _waiting = new();
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly PauseGate _gate = new(); // closed while any dump is being received

    // a lane of its own: a copy paused through a long storm must not hold up the checksums
    private readonly BackgroundLane _lane = new("storage-care");
    private readonly IReadOnlyList<string> _backlog;
    private bool _busy;

    public StorageCareActor(NetdumpSettings settings, IReadOnlyList<string> backlog)
    {
        _settings = settings;
        _backlog = backlog;
        if (settings.DecryptKey is { } path)
        {
            // checked at start already; a key changed since is logged and decryption stays off
            _key = DecryptKey.Load(path, out var why);
            if (_key is null)
            {
                _log.Error("Decryption is off: {Why}", why);
            }
        }

        Receive<DumpCompleted>(completed => Enqueue(completed.Directory));
        Receive<ConcurrencyGuardActor.SlotsInUse>(slots =>
        {
            if (slots.Count > 0)
            {
                _gate.Close();
            }
            else
            {
                _gate.Open();
            }
        });
        Receive<Done>(HandleDone);
    }

    /// <summary>Published on the event stream by a writer once a complete dump's checksum is in its reports.</summary>
    public sealed record DumpCompleted(string Directory);

    /// <summary>A dump's turn is over: what each step did, or why its record could not be read.</summary>
    /// <param name="Changed">the dump's record as its reports now say, when a step rewrote them (for the catalog)</param>
    private sealed record Done(string Directory, DecryptionResult? Decryption, CompressionResult? Compression, string? Unreadable, TimeSpan Took,
        ChecksumResult? Checksum = null, DumpRecord? Changed = null);

    /// <summary>A complete dump's missing SHA-256 (an earlier run stopped before it was written): computed, or why not.</summary>
    private sealed record ChecksumResult(string? Sha256, string? Problem, TimeSpan Took);

    /// <param name="backlog">the complete dumps the start-up scan found waiting (<see cref="CareBacklog"/>)</param>
    public static Props Props(NetdumpSettings settings, IReadOnlyList<string> backlog) =>
        ActorProps.Of(() => new StorageCareActor(settings, backlog)).WithDispatcher(DumpWriterActor.DispatcherId);

    protected override void PreStart()
    {
        // a new dump's checksum is its writer's: only decryption and compression wait for this
        // actor (when neither is on, each dump's turn here read its dump.json for nothing, a
        // few thread hand-offs of every dump's fixed cost: docs/performance.md)
        var cares = _key is not null || _settings.Compress == AtRestCompression.Zstd;
        if (cares)
        {
            Context.System.EventStream.Subscribe(Self, typeof(DumpCompleted));
        }

        if (cares || _backlog.Count > 0)
        {
            Context.System.EventStream.Subscribe(Self, typeof(ConcurrencyGuardActor.SlotsInUse));
        }

        _log.Info("Storage care: compress {Compress}, decrypt_key {Key}", _settings.Compress == AtRestCompression.Zstd ? "zstd" : "off", _settings.DecryptKey ?? "none");
        if (_backlog.Count > 0)
        {
            _log.Info("Storage care: {Count} complete dumps wait for a checksum, decryption or compression since an earlier run", _backlog.Count);
        }

        foreach (var directory in _backlog)
        {
            Enqueue(directory);
        }
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        _stop.Cancel(); // a copy being written is removed; the original stays and the next start goes on
        _lane.Dispose();
        _key?.Dispose(); // the gate and the token stay: the worker may still be leaving them
    }

    private void Enqueue(string directory)
    {
        if (_known.Add(directory))
        {
            _waiting.Enqueue(directory);
        }

        StartNext();
    }

    private void StartNext()
    {
        if (_busy || !_waiting.TryDequeue(out var directory))
        {
            return;
        }

        _busy = true;
        var (key, compress, gate, cancel) = (_key, _settings.Compress, _gate, _stop.Token);
        var room = new CopyRoom(FileSystemSync.AvailableBytes, _settings.MinFreeSpace);
        _lane.Run(() => Care(directory, key, compress, room, gate, cancel), cancel)
            .PipeTo(Self, failure: e => new Done(directory, null, null, e.GetBaseException().Message, TimeSpan.Zero));
    }

    /// <summary>One dump's turn, on its own thread: decrypted first (what the operator reads), then compressed.</summary>
    private static Done Care(string directory, RSA? key, AtRestCompression compress, CopyRoom room, PauseGate gate, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        if (DumpRecordReader.Read(directory, out var why) is not { } record)
        {
            return new Done(directory, null, null, why, TimeSpan.Zero);
        }

        var read = record;
        ChecksumResult? checksum = null;
        if (record is { Status: DumpStatus.Complete, Sha256: null })
        {
            (checksum, record) = Hash(record, cancel);
        }

        DecryptionResult? decryption = null;
        if (key is not null && CoreDecryption.WhyNot(record) is null)
        {
            decryption = CoreDecryption.Run(record, key, cancel, gate, room);
            record = decryption.Record;
        }

        CompressionResult? compression = null;
        if (compress == AtRestCompression.Zstd && CoreCompression.WhyNot(record) is null)
        {
            compression = CoreCompression.Run(record, Environment.ProcessorCount, cancel, room, gate);
        }

        var now = compression?.Record ?? record;
        return new Done(directory, decryption, compression, null, Stopwatch.GetElapsedTime(started), checksum, now == read ? null : now);
    }

    /// <summary>
    /// The SHA-256 an earlier run did not write (it stopped while hashing): of the stored core,
    /// as the writer's aftercare computes it, into the reports the same way.
    /// </summary>
    private static (ChecksumResult, DumpRecord) Hash(DumpRecord record, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        var path = Path.Combine(record.Directory, record.Vmcore);
        try
        {
            var hash = CoreChecksum.Hash(path, cancel);
            var hashed = DumpReport.WriteChecksum(record, hash);
            return (new ChecksumResult(hash.Sha256, null, Stopwatch.GetElapsedTime(started)), hashed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            return (new ChecksumResult(null, e.Message, Stopwatch.GetElapsedTime(started)), record);
        }
    }

    private void HandleDone(Done done)
    {
        _busy = false;
        _known.Remove(done.Directory);
        if (done.Unreadable is { } why)
        {
            _log.Warning("Storage care: {Dir} left as it is: {Why}", done.Directory, why);
        }

        switch (done.Checksum)
        {
            case { Sha256: { } sha256 } c:
                _log.Info("Storage care: SHA-256 of {Dir} is {Sha256} ({Seconds:F1} s), missing since an earlier run stopped while hashing", done.Directory, sha256, c.Took.TotalSeconds);
                break;
            case { Problem: { } problem }:
                _log.Warning("Storage care: cannot compute the SHA-256 of {Dir}: {Why}; the next start tries again", done.Directory, problem);
                break;
        }

        switch (done.Decryption)
        {
            case { Outcome: DecryptionOutcome.Decrypted } d:
                _log.Info("Decrypted {Dir}/{Encrypted} into {Plain} ({Seconds:F1} s)", done.Directory, d.Record.Vmcore, d.Record.DecryptedVmcore, done.Took.TotalSeconds);
                break;
            case { Outcome: DecryptionOutcome.Refused } d:
                _log.Error("Cannot decrypt {Dir}: {Why}; the encrypted core is kept", done.Directory, d.Why);
                break;
            case { } d:
                _log.Warning("Decryption of {Dir} did not finish: {Why}; the next start tries again", done.Directory, d.Why);
                break;
        }

        switch (done.Compression)
        {
            case { Outcome: CompressionOutcome.Compressed } c:
                _log.Info("Compressed {Dir}/vmcore at rest: {Bytes} bytes to {Stored} ({Seconds:F1} s), verified against its SHA-256; vmcore removed",
                    done.Directory, c.Record.BytesReceived, c.Record.StoredBytes, done.Took.TotalSeconds);
                break;
            case { Outcome: CompressionOutcome.Refused } c:
                _log.Error("Not compressing {Dir}: {Why}", done.Directory, c.Why);
                break;
            case { } c:
                _log.Warning("Compression of {Dir} did not finish: {Why}; vmcore is kept as it is, and the next start tries again", done.Directory, c.Why);
                break;
        }

        if (done.Changed is { } changed && Directory.Exists(changed.Directory))
        {
            // (a dump retention removed once the copy let go of it is not listed again)
            // what the API and the dashboard show: the core's new name, its SHA-256, the plain copy
            Context.System.EventStream.Publish(new Catalog.CatalogProtocol.DumpChanged(changed));
        }

        StartNext();
    }
}
