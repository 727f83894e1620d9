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
/// </summary>
public sealed class DumpWriterActor : ReceiveActor, IWithTimers
{
    /// <summary>The dispatcher (in netdump.hocon) for disk work.</summary>
    public const string DispatcherId = "akka.actor.netdump-disk-dispatcher";

    public const string IncompleteCoreName = "vmcore-incomplete";
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
    private string? _failure;
    private bool _lowSpaceReported;
    private bool _finalized;
    private bool _directoryDurable;
    private bool _reportStale;
    private int _headerProblemsLogged;
    private string? _heraldPathFallback;
    private readonly ReceiveProgress _progress;
    private long _openedAt; // Stopwatch timestamp: the progress's clock
    private TimeSpan _nextReportAt; // since the dump opened: a costly report is not written every tick
    private (long Bytes, string? PanicString) _consoleLog; // a Linux dump's log as last read
    private CancellationTokenSource? _checksumCancel;

    /// <summary>A client that keeps sending bad headers or keys gets this many log lines, not one per packet.</summary>
    private const int MaxHeaderProblemsLogged = 3;

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
                _reportStale = true;
            }

            WriteReceivingReport(elapsed);
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
    public sealed record Finish(string? Reason, string? SupersededBy = null);

    public sealed record Finalized(DumpRecord Record);

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
    private sealed record ChecksumComputed(DumpRecord Record, string? Sha256, string? Error, TimeSpan Took);

    /// <summary>To the session: the disk failed under this dump (a background fsync); end it with this reason.</summary>
    public sealed record DiskFailed(string Reason);

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

    /// <summary>
    /// A Linux client described its memory: write the ELF core's header (SPEC §7). Answered with
    /// <see cref="LinuxDescribed"/>, or <see cref="DiskFailed"/> when the description or the write cannot be used.
    /// </summary>
    public sealed record DescribeLinux(LinuxStart Start, uint Pages, uint PageSize, byte[] Registers);

    /// <summary>The header is written; page frame N goes at <paramref name="DataOffset"/> + N × page size.</summary>
    public sealed record LinuxDescribed(long DataOffset);

    /// <summary>Every page is in; these page frames are not RAM.</summary>
    public sealed record LinuxMemoryDone(IReadOnlyList<ByteRange> Reserved);

    /// <summary>A Linux dump's core: its layout and what the client said.</summary>
    private sealed record LinuxCore(LinuxStart Start, ElfCoreLayout Layout, bool Registers, IReadOnlyList<ByteRange> Reserved);

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
            ReserveRoomForReports();
            // the first dump.json ("receiving") is written by the first flush tick, if the dump
            // is still going then: a dump that ends sooner gets only its final, durable report.
            // Until then the directory and vmcore-incomplete say that a dump is arriving, and the
            // recovery scan treats them so. Each report write made and deleted inodes, and that
            // was most of the writer's fixed cost per dump (docs/performance.md).
            _reportStale = true;

            // measured last, so that everything else this dump needs is already taken
            // a Linux client says its size before any page comes: the free-space checks judge it
            // then, so only an explicit max_dump_size caps it (DescribeLinux)
            var maxSize = _settings.MaxDumpSize ?? (_herald.Dialect == Ingest.Dialect.Linux ? ulong.MaxValue : _freeSpace(_directory));
            var account = _space.Open();
            try
            {
                _core = CoreFile.Create(Path.Combine(_directory, IncompleteCoreName), maxSize, _disk, account);
            }
            catch
            {
                account.Dispose(); // no core, no dump: its room goes back
                throw;
            }

            Timers.StartPeriodicTimer(FlushTimer, FlushTick.Instance, _settings.FlushInterval);
            Sender.Tell(new Opened(_directory, _core));
            ReportLowSpace();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new OpenFailed(e.Message));
        }
    }

    private void HandleStore(Store store)
    {
        var packet = store.Packet;
        switch (packet.Type)
        {
            case MessageType.Kdh:
                StoreHeader(packet);
                break;
            case MessageType.EkcdKey:
                if (!StoreKey(packet))
                {
                    return;
                }

                break;
            default:
                throw new ArgumentException($"the writer does not store {packet.Type}");
        }

        Sender.Tell(new Stored(packet.Sequence));
    }

    private void HandleDescribeLinux(DescribeLinux describe)
    {
        var start = describe.Start;
        if (!ElfCoreLayout.TryCreate(start.Machine, describe.PageSize, describe.Pages, start.PageOffset, out var layout, out var problem))
        {
            _failure ??= $"unusable memory description: {problem}";
            _log.Warning("Client {Client}: {Problem}", _herald.Client.Address, _failure);
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        if (_settings.MaxDumpSize is { } cap && (ulong)layout!.FileSize > cap)
        {
            _failure ??= $"the client's core of {layout.FileSize} bytes is beyond max_dump_size {cap}";
            _log.Warning("Client {Client}: {Problem}", _herald.Client.Address, _failure);
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        var header = layout!.Header(describe.Registers, start.TaskStruct);
        if (_core!.WriteHeader(header) != CoreWriteResult.Written)
        {
            _failure ??= $"cannot write the core's header: {_core.LastError}";
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        // registers count only where the core holds them (a machine whose layout is known here)
        _linux = new LinuxCore(start, layout, describe.Registers.Length > 0 && LinuxRegisters.GregsetSize(start.Machine) is not null, []);
        _log.Info("Client {Client}: {Pages} pages of {PageSize} bytes, machine {Machine}; pulling the memory",
            _herald.Client.Address, describe.Pages, describe.PageSize, start.Machine);
        _reportStale = true;
        Sender.Tell(new LinuxDescribed(layout.DataOffset));
        ReportLowSpace(); // the whole size is known now: netdump-nospace before the pull, if need be
    }

    private void StoreHeader(PumpEvent.ControlPacket packet)
    {
        if (packet.Offset != 0)
        {
            _headerProblem = $"kernel dump header at offset {packet.Offset}";
        }
        else if (KernelDumpHeader.TryParse(packet.Payload.Span, out var header, out var problem))
        {
            if (header == _header)
            {
                return; // a retransmission: logged and reported already
            }

            _header = header;
            _headerProblem = null;
            if (!header!.ParityOk)
            {
                _log.Warning("Client {Client}: kernel dump header parity check failed", _herald.Client.Address);
            }

            // the strings come from the client: one line each, so they cannot forge log lines
            _log.Info("Client {Client}: kernel dump header from {Host}, {Length} bytes ({LengthSize}), panic \"{Panic}\"",
                _herald.Client.Address, DumpReport.OneLine(header.Hostname), header.DumpLength, ByteUnits.Size(header.DumpLength), DumpReport.OneLine(header.PanicString));
            _reportStale = true; // the next flush tick describes it
            return;
        }
        else
        {
            _headerProblem = problem;
        }

        if (_headerProblemsLogged++ < MaxHeaderProblemsLogged)
        {
            _log.Warning("Client {Client}: bad kernel dump header: {Reason}", _herald.Client.Address, DumpReport.OneLine(_headerProblem!));
        }
    }

    private bool StoreKey(PumpEvent.ControlPacket packet)
    {
        var end = packet.Offset + (ulong)packet.Payload.Length;
        if (packet.Offset > (ulong)_settings.MaxKeySize || end > (ulong)_settings.MaxKeySize)
        {
            if (_headerProblemsLogged++ < MaxHeaderProblemsLogged)
            {
                _log.Warning("Client {Client}: encryption key bytes {Start}-{End} exceed max_key_size {Max}; not acked",
                    _herald.Client.Address, packet.Offset, end, _settings.MaxKeySize);
            }
            return false;
        }

        try
        {
            _key ??= new FileStream(Path.Combine(_directory, KeyFileName), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            RandomAccess.Write(_key.SafeFileHandle, packet.Payload.Span, (long)packet.Offset);
            _keyRanges.Add(packet.Offset, end);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure ??= $"write error on the key: {e.Message}";
            _log.Error("Client {Client}: cannot write the encryption key: {Error}", _herald.Client.Address, e.Message);
            return false;
        }
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
            _failure ??= $"fsync failed: {e.Message}";
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

    private void ReserveRoomForReports()
    {
        try
        {
            DumpReport.Reserve(_directory);
        }
        catch (IOException e)
        {
            _log.Warning("Client {Client}: no room to reserve for the reports of {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
        }
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
            _failure ??= $"fsync failed: {e.Message}";
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
            record = record with { Status = DumpStatus.Incomplete, Reason = $"write error: {e.Message}" };
        }

        _finalized = true;
        Sender.Tell(new Finalized(record));
        if (record.Status == DumpStatus.Complete)
        {
            PointLastLink(record);
            StartChecksum(record);
        }
    }

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
    /// Hashes the finished core on a long-running thread of its own: a core of many gigabytes
    /// takes seconds to minutes, which must not hold a disk dispatcher thread that other dumps'
    /// writers need. Nothing writes the core any more (the pump is sealed or stopped, the core
    /// has its final name), so the hash is the file's. Stopping the writer cancels it.
    /// </summary>
    private void StartChecksum(DumpRecord record)
    {
        _checksumCancel = new CancellationTokenSource();
        var cancel = _checksumCancel.Token;
        var path = Path.Combine(record.Directory, record.Vmcore);
        var started = Stopwatch.GetTimestamp();
        Task.Factory.StartNew(() => CoreChecksum.Compute(path, cancel), cancel, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(Self,
                success: sha256 => new ChecksumComputed(record, sha256, null, Stopwatch.GetElapsedTime(started)),
                failure: e => new ChecksumComputed(record, null, e.GetBaseException().Message, Stopwatch.GetElapsedTime(started)));
    }

    /// <summary>The final reports again, now with the hash, as durably as the first time.</summary>
    private void HandleChecksum(ChecksumComputed computed)
    {
        var record = computed.Record;
        if (computed.Sha256 is null)
        {
            _log.Error("Client {Client}: cannot compute the SHA-256 of {Dir}/{Core}: {Error}; the reports go without it",
                _herald.Client.Address, record.Directory, record.Vmcore, computed.Error);
        }
        else
        {
            try
            {
                DumpReport.Write(record with { Sha256 = computed.Sha256 });
                _log.Info("Client {Client}: SHA-256 of {Dir}/{Core} is {Sha256} ({Seconds:F1} s)",
                    _herald.Client.Address, record.Directory, record.Vmcore, computed.Sha256, computed.Took.TotalSeconds);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error("Client {Client}: cannot write the SHA-256 into the reports of {Dir}: {Error}", _herald.Client.Address, record.Directory, e.Message);
            }
        }

        Context.Parent.Tell(ChecksumDone.Instance);
    }

    /// <summary>The core's full length once the client said it (the KDH's, or the ELF core's); null before.</summary>
    private ulong? ExpectedLength => _header?.DumpLength ?? (ulong?)_linux?.Layout.FileSize;

    /// <summary>Why a dump whose FINISHED arrived is still not complete, or null when it is.</summary>
    private string? IncompleteBecause()
    {
        if (_herald.Dialect == Ingest.Dialect.Linux)
        {
            return _linux is null ? "the client never described its memory"
                : _core!.Holes((ulong)_linux.Layout.FileSize) is { Count: > 0 } missing
                    ? $"holes: {missing.Count} missing ranges, {missing.Aggregate(0UL, (sum, h) => sum + h.Length)} bytes"
                    : null;
        }

        if (_header is null)
        {
            return _headerProblem is null ? "no kernel dump header" : $"bad kernel dump header: {_headerProblem}";
        }

        var holes = _core!.Holes(_header.DumpLength);
        if (holes.Count > 0)
        {
            var missing = holes.Aggregate(0UL, (sum, h) => sum + h.Length);
            return $"holes: {holes.Count} missing ranges, {missing} bytes";
        }

        return _header.DumpKeySize > 0 && !_keyRanges.Covers(0, _header.DumpKeySize)
            ? $"encryption key incomplete: {_keyRanges.TotalBytes} of {_header.DumpKeySize} bytes received, {MissingKeyBytes()} missing"
            : null;
    }

    /// <summary>The key's holes, the first few by name (a scattered key must not make a reason of any length).</summary>
    private string MissingKeyBytes()
    {
        const int named = 4;
        var holes = _keyRanges.Holes(_header!.DumpKeySize);
        var text = "bytes " + string.Join(", ", holes.Take(named).Select(h => $"{h.Start}-{h.End - 1}"));
        return holes.Count > named ? $"{text} and {holes.Count - named} more ranges" : text;
    }

    /// <summary>Truncates a compressed core to its length and gives it its final name; a failure is the reason.</summary>
    private string? Seal()
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
            return $"write error: {e.Message}";
        }
    }

    private bool Encrypted => _keyRanges.TotalBytes > 0 || _header is { DumpKeySize: > 0 };

    private string FinalCoreName()
    {
        if (_linux is not null)
        {
            return "vmcore";
        }

        var name = Encrypted ? "vmcore_encrypted" : "vmcore";
        return _header!.Compression switch
        {
            DumpCompression.Gzip => name + ".gz",
            DumpCompression.Zstd => name + ".zst",
            _ => name,
        };
    }

    /// <summary>
    /// On a flush tick (there are none after the end), the report of a dump still receiving,
    /// when something it shows changed since the last one: the dump opened, its KDH or memory
    /// description arrived, more bytes arrived, or the client stalled. At most once a tick, so
    /// a dump shorter than a tick has only its final report. Each write makes and frees inodes
    /// (docs/performance.md), so an idle dump writes none. Not fsynced, since the final report
    /// is, and the recovery scan rebuilds a report it cannot read.
    /// </summary>
    private void WriteReceivingReport(TimeSpan elapsed)
    {
        if (!_reportStale || elapsed < _nextReportAt)
        {
            return;
        }

        _reportStale = false;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var record = BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null) with { Rate = _progress.Rate };
            DumpReport.Write(record, durable: false);

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

    private DumpRecord BuildRecord(DumpStatus status, string? reason, string? supersededBy, DateTimeOffset? finishedAt)
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

    private LinuxFacts? LinuxFacts()
    {
        if (_herald.Linux is not { } start)
        {
            return null;
        }

        var log = ReadConsoleLog();
        return new LinuxFacts(LinuxVersion.Effective(start.MaxVersion), start.Machine, _linux?.Layout.PageSize ?? 0,
            _linux?.Layout.Pages ?? 0, _linux?.Reserved ?? [], _linux?.Registers ?? false, log.Bytes, log.PanicString)
        {
            CoreSize = (ulong?)_linux?.Layout.FileSize,
        };
    }

    /// <summary>
    /// A Linux dump's log as the reports show it, read again only when it grew: the receiving
    /// report is written every tick, and the log (appended to, up to 1 MiB searched) rarely changes.
    /// </summary>
    private (long Bytes, string? PanicString) ReadConsoleLog()
    {
        var log = new FileInfo(Path.Combine(_directory, Ingest.Linux.LinuxPull.LogFileName));
        if ((log.Exists ? log.Length : 0) != _consoleLog.Bytes)
        {
            _consoleLog = ConsoleLog.Read(log.FullName);
        }

        return _consoleLog;
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
                DumpReport.WriteFinal(BuildRecord(DumpStatus.Incomplete, _failure ?? "writer failed", supersededBy: null, DateTimeOffset.UtcNow));
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
