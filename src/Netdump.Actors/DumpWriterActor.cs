using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// Owns one dump on disk: its directory, the core file (which the session's pump writes data
/// into), the KDH, the key, <c>info</c> and <c>dump.json</c>. It flushes the core in the
/// background as data arrives and, on <see cref="Finish"/>, decides complete or incomplete
/// (SPEC §3), renames, writes the reports and fsyncs before it answers <see cref="Finalized"/>.
/// Runs on the disk dispatcher, so its blocking file work never holds up an ack.
/// After a complete dump's <see cref="Finalized"/> it points the host's <c>.last</c> link at the
/// dump (<see cref="LastLinks"/>) and hashes the core on a thread of its own
/// (<see cref="CoreChecksum"/>): the FINISHED ack never waits for either. With the hash in the
/// reports it tells its parent <see cref="ChecksumDone"/>; the session waits for that before it
/// stops, since stopping the writer abandons the hash.
/// Answers: <see cref="Open"/> → <see cref="Opened"/> | <see cref="OpenFailed"/>;
/// <see cref="Store"/> → <see cref="Stored"/> (or nothing when refused); <see cref="Finish"/> → <see cref="Finalized"/>;
/// <see cref="Discard"/> → <see cref="Discarded"/>; <see cref="CheckSpace"/> → <see cref="SpaceOk"/> | <see cref="LowSpace"/>.
/// It also tells its parent <see cref="LowSpace"/> by itself when free space falls below
/// <c>min_free_space</c> (checked at open and at each background flush).
/// <para>
/// This file holds the dump's life (open, flush, finish, discard) and its reports; the FreeBSD
/// KDH and key are in <c>DumpWriterActor.Headers.cs</c>, a Linux core's header and facts in
/// <c>.Linux.cs</c>, the live progress in <c>.Progress.cs</c>, the checksum and the <c>.last</c>
/// link after the end in <c>.Aftercare.cs</c>.
/// </para>
/// </summary>
public sealed partial class DumpWriterActor : ReceiveActor, IWithTimers
{
    /// <summary>The dispatcher (in netdump.hocon) for disk work.</summary>
    public const string DispatcherId = "akka.actor.netdump-disk-dispatcher";

    public const string IncompleteCoreName = CoreFileNames.Incomplete;
    public const string KeyFileName = "key";

    private const string FlushTimer = "flush";

    private readonly NetdumpSettings _settings;
    private readonly Herald _herald;
    private readonly FreeSpaceProbe _freeSpace;
    private readonly DiskSpace _space;
    private readonly CoreDisk _disk;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string _directory = "";
    private CoreFile? _core;
    private FileStream? _key;
    private readonly ByteRanges _keyRanges = new(); // as for the core: the highest byte says nothing of a lost first packet
    private KernelDumpHeader? _header;
    private LinuxCore? _linux;
    private string? _headerProblem;
    private EndReason? _failure;
    private bool _lowSpaceReported;
    private bool _finalized;
    private bool _directoryDurable;
    private bool _reportStale; // what the dump is changed (opened, KDH, memory described): the next tick reports it
    private bool _progressStale; // only the bytes or the rate changed: reported every ProgressReportTicks ticks
    private int _headerProblemsLogged;
    private string? _heraldPathFallback;
    private readonly ReceiveProgress _progress;
    private long _openedAt; // Stopwatch timestamp: the progress's clock
    private TimeSpan _nextReportAt; // since the dump opened: a costly report is not written every tick
    private TimeSpan _nextProgressReportAt;
    private ConsoleFacts _consoleLog; // a Linux dump's log as last read
    private CancellationTokenSource? _checksumCancel;

    /// <param name="space">the room all dumps share (the listener's); a writer given none accounts for its own dump alone</param>
    public DumpWriterActor(NetdumpSettings settings, Herald herald, FreeSpaceProbe? freeSpace = null, CoreDisk? disk = null, DiskSpace? space = null)
    {
        _settings = settings;
        _herald = herald;
        _freeSpace = freeSpace ?? FileSystemSync.AvailableBytes;
        _space = space ?? new DiskSpace(settings.DumpDirectory, settings.MinFreeSpace, path => _freeSpace(path));
        _disk = disk ?? CoreDisk.Real;
        _progress = new ReceiveProgress(settings.ProgressLogInterval);
        Receive<Open>(_ => HandleOpen());
        Receive<Store>(HandleStore);
        Receive<FlushTick>(_ =>
        {
            FlushInBackground();
            var elapsed = Stopwatch.GetElapsedTime(_openedAt);
            var bytes = _core?.BytesReceived ?? 0;
            if (_progress.Tick(bytes, elapsed))
            {
                _progressStale = true;
            }

            WriteReceivingReport(elapsed);
            PublishProgress(bytes, elapsed);
            LogProgress(bytes, elapsed);
            ReportLowSpace();
        });
        Receive<CheckSpace>(_ => Sender.Tell(MeasureSpace() ?? MeasureSharedRoom() ?? (object)SpaceOk.Instance));
        Receive<Finish>(HandleFinish);
        Receive<DescribeLinux>(HandleDescribeLinux);
        Receive<LinuxMemoryDone>(done => _linux = _linux! with { Reserved = done.Reserved });
        Receive<Discard>(_ => HandleDiscard());
        Receive<ChecksumComputed>(HandleChecksum);
    }

    /// <summary>Free bytes for unprivileged users on the file system holding a path; tests inject one.</summary>
    public delegate ulong FreeSpaceProbe(string path);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Create the dump directory, the room for its reports and the empty core.</summary>
    public sealed class Open
    {
        public static readonly Open Instance = new();
        private Open() { }
    }

    /// <summary>The dump exists on disk; the pump may write into <paramref name="Core"/>.</summary>
    public sealed record Opened(string Directory, CoreFile Core);

    public sealed record OpenFailed(string Reason);

    /// <summary>Store a KDH or EKCD_KEY message; answered with <see cref="Stored"/> once it is written.</summary>
    public sealed record Store(PumpEvent.ControlPacket Packet);

    public sealed record Stored(uint Sequence);

    /// <summary>
    /// End the dump. <paramref name="Reason"/> null means FINISHED arrived and the data decides;
    /// otherwise the dump is incomplete for that reason.
    /// </summary>
    public sealed record Finish(EndReason? Reason, string? SupersededBy = null);

    public sealed record Finalized(DumpRecord Record);

    /// <summary>To the session: the disk failed under this dump (a background fsync); end it with this reason.</summary>
    public sealed record DiskFailed(EndReason Reason);

    /// <summary>The dump was refused before any data (netdump-crash said no): remove its directory.</summary>
    public sealed class Discard
    {
        public static readonly Discard Instance = new();
        private Discard() { }
    }

    public sealed class Discarded
    {
        public static readonly Discarded Instance = new();
        private Discarded() { }
    }

    /// <summary>Measure free space now; answered with <see cref="SpaceOk"/> or <see cref="LowSpace"/>.</summary>
    public sealed class CheckSpace
    {
        public static readonly CheckSpace Instance = new();
        private CheckSpace() { }
    }

    public sealed class SpaceOk
    {
        public static readonly SpaceOk Instance = new();
        private SpaceOk() { }
    }

    /// <summary>Free space is below what this dump needs: <c>min_free_space</c>, plus the rest of the dump once the KDH gave its length.</summary>
    public sealed record LowSpace(ulong Available, ulong Needed);

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();
        private FlushTick() { }
    }

    /// <summary>The props of a writer on the disk dispatcher.</summary>
    public static Props Props(NetdumpSettings settings, Herald herald, FreeSpaceProbe? freeSpace = null, CoreDisk? disk = null, DiskSpace? space = null) =>
        Akka.Actor.Props.Create<DumpWriterActor>(settings, herald, freeSpace, disk, space).WithDispatcher(DispatcherId);

    private void HandleOpen()
    {
        DiskSpace.Account? reportsRoom = null;
        try
        {
            _openedAt = Stopwatch.GetTimestamp();
            var parent = DumpLocation.ChooseParent(_settings.DumpDirectory, _herald.RequestedPath, out var refusal);
            _heraldPathFallback = _herald.PathProblem ?? refusal;
            if (_heraldPathFallback is not null)
            {
                _log.Warning("Client {Client}: {Reason}; the dump goes to {DumpDir}",
                    _herald.Client.Address, _heraldPathFallback, _settings.DumpDirectory);
            }

            _directory = DumpLocation.CreateDumpDirectory(parent, _herald.Client.Address, _herald.ReceivedAt.LocalDateTime);
            // the first dump.json ("receiving") is written by the first flush tick, if the dump
            // is still going then: a dump that ends sooner gets only its final, durable report.
            // Until then the directory and vmcore-incomplete say that a dump is arriving, and the
            // recovery scan treats them so. Each report write made and deleted inodes, and that
            // was most of the writer's fixed cost per dump (docs/performance.md).
            _reportStale = true;

            // a Linux client says its size before any page comes: the free-space checks judge it
            // then, so only an explicit max_dump_size caps it (DescribeLinux); the reports' room,
            // made after the ack, counts as taken
            var maxSize = _settings.MaxDumpSize ?? (_herald.Dialect == Ingest.Dialect.Linux ? ulong.MaxValue : FreeBeyondReports());
            // the reports' room is held now and its files made after the ack: two files fewer
            // before the ack, which a crash storm's HERALDs wait for in turn (docs/performance.md)
            DiskSpace.Account? account = null;
            try
            {
                reportsRoom = _space.Hold(DumpReport.ReservedBytes);
                account = _space.Open();
                _core = CoreFile.Create(Path.Combine(_directory, IncompleteCoreName), maxSize, _disk, account);
            }
            catch
            {
                account?.Dispose(); // no core, no dump: its room goes back
                reportsRoom?.Dispose();
                throw;
            }

            Timers.StartPeriodicTimer(FlushTimer, FlushTick.Instance, _settings.FlushInterval);
            Sender.Tell(new Opened(_directory, _core));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new OpenFailed(e.Message));
            return;
        }

        // opened and answered: nothing from here on may answer OpenFailed
        ReserveRoomForReports(reportsRoom);
        PublishReceiving();
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
            // the dump cannot be trusted to complete; the session ends it now
            // no more background flushes: they would fail alike until the session ends the dump
            _failure ??= EndReason.WriteError($"fsync failed: {e.Message}");
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
    /// The files the final reports are written into, in the room held for them at open (none
    /// held: the file system is at its reserve, and they take from it, as a dump's reports may).
    /// </summary>
    private void ReserveRoomForReports(DiskSpace.Account? held)
    {
        try
        {
            DumpReport.Reserve(_directory);
            held?.Spent(DumpReport.ReservedBytes); // on the disk now: the next measurement sees them
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Client {Client}: no room to reserve for the reports of {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
        }
        finally
        {
            held?.Dispose();
        }
    }

    private ulong FreeBeyondReports()
    {
        var free = _freeSpace(_directory);
        return free > DumpReport.ReservedBytes ? free - DumpReport.ReservedBytes : 0;
    }

    /// <summary>Null when there is room; otherwise what is free and what is needed.</summary>
    private LowSpace? MeasureSpace()
    {
        var available = _freeSpace(_directory);
        var needed = _settings.MinFreeSpace;
        if (ExpectedLength is { } length && _core is not null && length > _core.BytesReceived)
        {
            // saturating: a KDH may claim any length up to 2^64
            var rest = length - _core.BytesReceived;
            needed = rest > ulong.MaxValue - needed ? ulong.MaxValue : needed + rest;
        }

        return available < needed ? new LowSpace(available, needed) : null;
    }

    /// <summary>Null when the room all dumps share (free space less the reserve and the others' reservations) is not empty.</summary>
    private LowSpace? MeasureSharedRoom() => _space.HasRoomFor(DiskSpace.Chunk)
        ? null
        : new LowSpace(_freeSpace(_directory), _settings.MinFreeSpace + DiskSpace.Chunk);

    /// <summary>Tells the session once when space runs low; again only after it recovered.</summary>
    private void ReportLowSpace()
    {
        var low = MeasureSpace();
        if (low is not null && !_lowSpaceReported)
        {
            Context.Parent.Tell(low);
        }

        _lowSpaceReported = low is not null;
    }

    private void HandleDiscard()
    {
        Timers.CancelAll();
        _core?.Dispose();
        _core = null;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException e)
        {
            _log.Warning("Client {Client}: cannot remove the refused dump {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
        }

        Context.System.EventStream.Publish(new Catalog.CatalogProtocol.DumpsRemoved([_directory]));
        Sender.Tell(Discarded.Instance);
    }

    private void HandleFinish(Finish finish)
    {
        Timers.CancelAll();
        var reason = finish.Reason;
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
            _failure ??= EndReason.WriteError($"fsync failed: {e.Message}");
        }

        _core!.ReturnUnusedSpace(); // nothing more is written: the pump is sealed or stopped
        reason ??= _failure ?? IncompleteBecause();
        if (reason is null)
        {
            reason = Seal();
        }

        var record = BuildRecord(reason is null ? DumpStatus.Complete : DumpStatus.Incomplete, reason, finish.SupersededBy, DateTimeOffset.UtcNow);
        try
        {
            DumpReport.WriteFinal(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("Client {Client}: cannot write the reports of {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
            record = record with { Status = DumpStatus.Incomplete, Reason = EndReason.WriteError($"write error: {e.Message}") };
        }

        _finalized = true;
        Sender.Tell(new Finalized(record));
        Publish(record);
        if (record.Status == DumpStatus.Complete)
        {
            PointLastLink(record);
            StartChecksum(record);
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
                    ? EndReason.Holes(missing.Count, missing.Aggregate(0UL, (sum, h) => sum + h.Length))
                    : null;
        }

        if (_header is null)
        {
            return _headerProblem is null ? EndReason.NoKernelDumpHeader : EndReason.BadKernelDumpHeader(_headerProblem);
        }

        var holes = _core!.Holes(_header.DumpLength);
        if (holes.Count > 0)
        {
            return EndReason.Holes(holes.Count, holes.Aggregate(0UL, (sum, h) => sum + h.Length));
        }

        return _header.DumpKeySize > 0 && !_keyRanges.Covers(0, _header.DumpKeySize)
            ? EndReason.KeyIncomplete($"{_keyRanges.TotalBytes} of {_header.DumpKeySize} bytes received, {MissingKeyBytes()} missing")
            : null;
    }

    /// <summary>Truncates a compressed core to its length and gives it its final name; a failure is the reason.</summary>
    private EndReason? Seal()
    {
        try
        {
            if (_linux is { } linux)
            {
                _core!.Truncate((ulong)linux.Layout.FileSize); // the sparse tail of zero and reserved pages
                _core.Flush();
            }
            else if (_header!.Compression != DumpCompression.None)
            {
                _core!.Truncate(_header.DumpLength);
                _core.Flush();
            }

            _core!.Rename(FinalCoreName());
            return null;
        }
        catch (IOException e)
        {
            return EndReason.WriteError($"write error: {e.Message}");
        }
    }

    private bool Encrypted => _keyRanges.TotalBytes > 0 || _header is { DumpKeySize: > 0 };

    private string FinalCoreName() =>
        _linux is not null
            ? CoreFileNames.Plain
            : CoreFileNames.WithCompression(Encrypted ? CoreFileNames.Encrypted : CoreFileNames.Plain, _header!.Compression);

    private DumpRecord BuildRecord(DumpStatus status, EndReason? reason, string? supersededBy, DateTimeOffset? finishedAt)
    {
        var ranges = _core?.Ranges() ?? [];
        // without the length, the gaps up to the last byte received are holes already
        var holesUntil = ExpectedLength ?? (ranges.Count > 0 ? ranges[^1].End : 0);
        return new DumpRecord
        {
            Status = status,
            Reason = reason,
            ClientIp = _herald.Client.Address,
            ServerIp = _herald.LocalAddress,
            HeraldPath = _herald.RequestedPath,
            HeraldPathFallback = _heraldPathFallback,
            Directory = _directory,
            ReceivedAt = _herald.ReceivedAt,
            FinishedAt = finishedAt,
            Header = _header,
            BytesReceived = ranges.Aggregate(0UL, (sum, r) => sum + r.Length),
            Ranges = ranges,
            Holes = _core is null ? [] : _core.Holes(holesUntil),
            Encrypted = Encrypted,
            KeyBytesReceived = _keyRanges.TotalBytes,
            Vmcore = Path.GetFileName(_core?.Path ?? IncompleteCoreName),
            SupersededBy = supersededBy,
            Dialect = _herald.Dialect,
            Linux = LinuxFacts(),
        };
    }

    /// <summary>
    /// A writer stopped before its dump was finalized (it threw, or the system is going down
    /// hard) still marks the dump, so no dump.json says "receiving" for ever.
    /// </summary>
    protected override void PostStop()
    {
        if (_core is not null && !_finalized)
        {
            try
            {
                _core.Flush();
                var record = BuildRecord(DumpStatus.Incomplete, _failure ?? EndReason.WriterFailed, supersededBy: null, DateTimeOffset.UtcNow);
                DumpReport.WriteFinal(record);
                Publish(record);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error("Client {Client}: cannot mark the unfinished dump {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
            }
        }

        _checksumCancel?.Cancel(); // the server is going down: the dump keeps its reports without a hash
        _checksumCancel?.Dispose();
        _core?.Dispose();
        _key?.Dispose();
    }
}
