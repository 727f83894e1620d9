using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
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
/// (<see cref="CoreChecksum"/>): the FINISHED ack never waits for either. Once its dump needs
/// nothing more of it (final, reported, hashed if complete) it stops itself; the session waits
/// for that before it stops, since stopping the writer sooner abandons the hash, or reports still
/// waiting for room.
/// Answers: <see cref="Open"/> → <see cref="Opened"/> | <see cref="OpenFailed"/>;
/// <see cref="StoreKey"/> → <see cref="Stored"/> (or nothing when refused); <see cref="KeepHeader"/> → nothing;
/// <see cref="ClientFinished"/> | <see cref="EndNow"/> → <see cref="Finalized"/>;
/// <see cref="Discard"/> → <see cref="Discarded"/>; <see cref="CheckSpace"/> → <see cref="SpaceOk"/> | <see cref="LowSpace"/>.
/// It also tells its parent <see cref="LowSpace"/> by itself when free space falls below
/// <c>min_free_space</c> (checked at open and at each background flush).
/// <para>
/// This file holds the dump's life (open, discard) and its record; its phases and which
/// messages each takes are in <c>DumpWriterActor.Phases.cs</c>, the
/// messages themselves in <c>.Messages.cs</c>, the end (complete or incomplete, the
/// final name and reports) in <c>.Finishing.cs</c>, free space and the reports' room in
/// <c>.Space.cs</c>, the FreeBSD KDH and key in <c>.Headers.cs</c>, a Linux core's header and
/// facts in <c>.Linux.cs</c>, the flush tick (background flush, receiving report, live progress) in
/// <c>.Progress.cs</c>, the catalog's events in
/// <c>.Catalog.cs</c>, the checksum and the <c>.last</c> link after the end in <c>.Aftercare.cs</c>.
/// </para>
/// </summary>
public sealed partial class DumpWriterActor : UntypedActor, IWithTimers
{
    /// <summary>The dispatcher (in netdump.hocon) for disk work.</summary>
    public const string DispatcherId = "akka.actor.netdump-disk-dispatcher";

    /// <summary>The mailbox (in netdump.hocon) that tells the disk threads when a client waits for this writer.</summary>
    public const string MailboxId = "akka.actor.netdump-writer-mailbox";

    private const string FlushTimer = "flush";
    private const string ReportsTimer = "reports";

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
    private Phase _phase = Phase.Opening;

    /// <summary>The final record whose reports found no room (<see cref="Phase.Unreported"/> only).</summary>
    private DumpRecord? _unreported;
    private ReportNews _news; // what the next receiving report has to tell
    private bool _lowSpaceReported;
    private bool _directoryDurable;
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
    }

    /// <summary>Free bytes for unprivileged users on the file system holding a path; tests inject one.</summary>
    public delegate ulong FreeSpaceProbe(string path);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props of a writer on the disk dispatcher.</summary>
    public static Props Props(NetdumpSettings settings, Herald herald, FreeSpaceProbe? freeSpace = null, CoreDisk? disk = null, DiskSpace? space = null) =>
        ActorProps.Of(() => new DumpWriterActor(settings, herald, freeSpace, disk, space)).WithDispatcher(DispatcherId).WithMailbox(MailboxId);

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
            _news = ReportNews.Change;

            // a Linux client says its size before any page comes: the free-space checks judge it
            // then, so only an explicit max_dump_size caps it (DescribeLinux); the reports' room
            // counts as taken
            var maxSize = _settings.MaxDumpSize ?? (_herald.Dialect == Ingest.Dialect.Linux ? ulong.MaxValue : FreeBeyondReports());
            // the reports' room is held now and its files made at the first flush tick: two files
            // fewer before the ack, which a crash storm's HERALDs wait for in turn (docs/performance.md)
            DiskSpace.Account? account = null;
            try
            {
                reportsRoom = _space.Hold(DumpReport.ReservedBytes);
                account = _space.Open();
                _core = CoreFile.Create(Path.Combine(_directory, CoreFileNames.Incomplete), maxSize, _disk, account);
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

        // opened and answered: nothing from here on may answer OpenFailed. The reports' files are
        // made at the first flush tick (or the final reports made at the end), in the room held
        // till then: in a crash storm the disk threads have the next dumps' starts to do first
        _reportsRoom = new HeldRoom(reportsRoom);
        _phase = Phase.Receiving;
        ReportLowSpace();
    }

    private void HandleDiscard()
    {
        _phase = Phase.Discarded; // first: a failure below must not mark the refused dump at the stop
        Timers.CancelAll();
        _reportsRoom?.GiveBack(); // nothing was written in the room held for the reports
        _reportsRoom = null;
        _core?.Dispose();
        _core = null;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Client {Client}: cannot remove the refused dump {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
        }

        Context.System.EventStream.Publish(new Catalog.CatalogProtocol.DumpsRemoved([_directory]));
        Sender.Tell(Discarded.Instance);
    }

    private bool Encrypted => _keyRanges.TotalBytes > 0 || _header is { DumpKeySize: > 0 };

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
            BytesReceived = ByteRange.Total(ranges),
            Ranges = ranges,
            Holes = _core is null ? [] : _core.Holes(holesUntil),
            Encrypted = Encrypted,
            KeyBytesReceived = _keyRanges.TotalBytes,
            Vmcore = Path.GetFileName(_core?.Path ?? CoreFileNames.Incomplete),
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
        if (_phase == Phase.Receiving && _core is { } core)
        {
            try
            {
                // the pump may still run (its session stops it only after this): nothing it writes
                // from now on is written or acked past this fsync and these reports
                core.EndWrites();
                FsyncConsoleLog(); // a Linux dump's console text is as much the dump's as its core
                core.Flush();
                var record = BuildRecord(DumpStatus.Incomplete, _failure ?? EndReason.WriterFailed, supersededBy: null, DateTimeOffset.UtcNow);
                WriteFinalReports(record);
                Publish(record);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Error("Client {Client}: cannot mark the unfinished dump {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
            }
        }

        if (_phase == Phase.Unreported && !TryWriteUnreported(out var error)) // a last try
        {
            _log.Error("Client {Client}: the reports of {Dir} were never written: no room until the server stopped ({Error})",
                _herald.Client.Address, _directory, error);
        }

        _reportsRoom?.GiveBack(); // the writer stops without its final reports: what it held goes back
        _reportsRoom = null;
        _checksumCancel?.Cancel(); // the server is going down: the dump keeps its reports without a hash
        _checksumCancel?.Dispose();
        _core?.Dispose();
        _key?.Dispose();
    }
}
