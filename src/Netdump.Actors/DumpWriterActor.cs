using System.Net;
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
/// Answers: <see cref="Open"/> → <see cref="Opened"/> | <see cref="OpenFailed"/>;
/// <see cref="Store"/> → <see cref="Stored"/> (or nothing when refused); <see cref="Finish"/> → <see cref="Finalized"/>.
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
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string _directory = "";
    private CoreFile? _core;
    private FileStream? _key;
    private ulong _keyBytes;
    private KernelDumpHeader? _header;
    private string? _headerProblem;
    private string? _failure;

    public DumpWriterActor(NetdumpSettings settings, Herald herald)
    {
        _settings = settings;
        _herald = herald;
        Receive<Open>(_ => HandleOpen());
        Receive<Store>(HandleStore);
        Receive<FlushTick>(_ => FlushInBackground());
        Receive<Finish>(HandleFinish);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Create the dump directory, the empty core and a first dump.json.</summary>
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

    public sealed record Stored(uint Sequence, IPEndPoint From);

    /// <summary>
    /// End the dump. <paramref name="Reason"/> null means FINISHED arrived and the data decides;
    /// otherwise the dump is incomplete for that reason.
    /// </summary>
    public sealed record Finish(string? Reason, string? SupersededBy = null);

    public sealed record Finalized(DumpRecord Record);

    private sealed class FlushTick
    {
        public static readonly FlushTick Instance = new();
        private FlushTick() { }
    }

    /// <summary>The props of a writer on the disk dispatcher.</summary>
    public static Props Props(NetdumpSettings settings, Herald herald) =>
        Akka.Actor.Props.Create(() => new DumpWriterActor(settings, herald)).WithDispatcher(DispatcherId);

    private void HandleOpen()
    {
        try
        {
            var parent = DumpLocation.ChooseParent(_settings.DumpDirectory, _herald.RequestedPath, out var refusal);
            if (_herald.PathProblem is not null || refusal is not null)
            {
                _log.Warning("Client {Client}: {Reason}; the dump goes to {DumpDir}",
                    _herald.Client.Address, _herald.PathProblem ?? refusal, _settings.DumpDirectory);
            }

            _directory = DumpLocation.CreateDumpDirectory(parent, _herald.Client.Address, _herald.ReceivedAt.LocalDateTime);
            var maxSize = _settings.MaxDumpSize ?? FileSystemSync.AvailableBytes(_directory);
            _core = CoreFile.Create(Path.Combine(_directory, IncompleteCoreName), maxSize);
            DumpReport.Write(BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null));
            Timers.StartPeriodicTimer(FlushTimer, FlushTick.Instance, _settings.FlushInterval);
            Sender.Tell(new Opened(_directory, _core));
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

        Sender.Tell(new Stored(packet.Sequence, packet.From));
    }

    private void StoreHeader(PumpEvent.ControlPacket packet)
    {
        if (packet.Offset != 0)
        {
            _headerProblem = $"kernel dump header at offset {packet.Offset}";
        }
        else if (KernelDumpHeader.TryParse(packet.Payload.Span, out var header, out var problem))
        {
            _header = header;
            _headerProblem = null;
            if (!header!.ParityOk)
            {
                _log.Warning("Client {Client}: kernel dump header parity check failed", _herald.Client.Address);
            }

            _log.Info("Client {Client}: kernel dump header from {Host}, {Length} bytes, panic \"{Panic}\"",
                _herald.Client.Address, header.Hostname, header.DumpLength, header.PanicString);
            WriteReceivingReport();
            return;
        }
        else
        {
            _headerProblem = problem;
        }

        _log.Warning("Client {Client}: bad kernel dump header: {Reason}", _herald.Client.Address, _headerProblem);
    }

    private bool StoreKey(PumpEvent.ControlPacket packet)
    {
        var end = packet.Offset + (ulong)packet.Payload.Length;
        if (packet.Offset > (ulong)_settings.MaxKeySize || end > (ulong)_settings.MaxKeySize)
        {
            _log.Warning("Client {Client}: encryption key bytes {Start}-{End} exceed max_key_size {Max}; not acked",
                _herald.Client.Address, packet.Offset, end, _settings.MaxKeySize);
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
            _keyBytes = Math.Max(_keyBytes, end);
            return true;
        }
        catch (IOException e)
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
        }
        catch (IOException e)
        {
            _failure ??= $"fsync failed: {e.Message}";
            _log.Error("Client {Client}: fsync of {Core} failed: {Error}", _herald.Client.Address, _core.Path, e.Message);
        }
    }

    private void HandleFinish(Finish finish)
    {
        Timers.CancelAll();
        var reason = finish.Reason;
        try
        {
            _core!.Flush();
            _key?.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            _failure ??= $"fsync failed: {e.Message}";
        }

        reason ??= _failure ?? IncompleteBecause();
        if (reason is null)
        {
            reason = Seal();
        }

        var record = BuildRecord(reason is null ? DumpStatus.Complete : DumpStatus.Incomplete, reason, finish.SupersededBy, DateTimeOffset.UtcNow);
        try
        {
            DumpReport.Write(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Error("Client {Client}: cannot write the reports of {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
            record = record with { Status = DumpStatus.Incomplete, Reason = $"write error: {e.Message}" };
        }

        Sender.Tell(new Finalized(record));
    }

    /// <summary>Why a dump whose FINISHED arrived is still not complete, or null when it is.</summary>
    private string? IncompleteBecause()
    {
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

        return _header.DumpKeySize > 0 && _keyBytes < _header.DumpKeySize
            ? $"encryption key incomplete: {_keyBytes} of {_header.DumpKeySize} bytes"
            : null;
    }

    /// <summary>Truncates a compressed core to its length and gives it its final name; a failure is the reason.</summary>
    private string? Seal()
    {
        try
        {
            if (_header!.Compression != DumpCompression.None)
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

    private bool Encrypted => _keyBytes > 0 || _header is { DumpKeySize: > 0 };

    private string FinalCoreName()
    {
        var name = Encrypted ? "vmcore_encrypted" : "vmcore";
        return _header!.Compression switch
        {
            DumpCompression.Gzip => name + ".gz",
            DumpCompression.Zstd => name + ".zst",
            _ => name,
        };
    }

    private void WriteReceivingReport()
    {
        try
        {
            DumpReport.Write(BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null));
        }
        catch (IOException e)
        {
            _log.Warning("Client {Client}: cannot update {Dir}/dump.json: {Error}", _herald.Client.Address, _directory, e.Message);
        }
    }

    private DumpRecord BuildRecord(DumpStatus status, string? reason, string? supersededBy, DateTimeOffset? finishedAt) => new()
    {
        Status = status,
        Reason = reason,
        ClientIp = _herald.Client.Address,
        ServerIp = _herald.LocalAddress,
        HeraldPath = _herald.RequestedPath,
        Directory = _directory,
        ReceivedAt = _herald.ReceivedAt,
        FinishedAt = finishedAt,
        Header = _header,
        BytesReceived = _core?.BytesReceived ?? 0,
        Ranges = _core?.Ranges() ?? [],
        Holes = _header is null || _core is null ? [] : _core.Holes(_header.DumpLength),
        Encrypted = Encrypted,
        Vmcore = Path.GetFileName(_core?.Path ?? IncompleteCoreName),
        SupersededBy = supersededBy,
    };

    protected override void PostStop()
    {
        _core?.Dispose();
        _key?.Dispose();
    }
}
