using System.Net;
using Akka.Actor;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// One Linux client's dump as the server pulls it (SPEC §7), run by the Linux port's thread:
/// GET_NR_PAGES, GET_PAGE_SIZE and GET_REGS (<see cref="Described"/> to the session), then,
/// once the session has the ELF header written (<see cref="PullMemory"/>), SEND_MEM for every
/// page with <see cref="Window"/> requests outstanding, each resent on its own
/// <see cref="RequestTimeout"/>. A page is written at its place in the core once its 1024-byte
/// chunks are in; a page of zeros is only recorded (the file stays sparse there); REPLY_RESERVED
/// records the frames up to the next RAM page as reserved and skips them. When every page is
/// in: <see cref="MemoryDone"/>. Then COMM_SHOW_STATE, and the console text that follows goes to
/// the dump's <c>log</c> until it has been quiet for <see cref="QuietTime"/> (Red Hat bz 226701):
/// <see cref="ConsoleDone"/>. The session commands it from its actor thread, the port's thread
/// feeds it packets and ticks; one lock, uncontended but for those commands. Requests and their
/// page buffers are reused: a dump allocates nothing per page.
/// </summary>
internal sealed class LinuxPull
{
    /// <summary>Pages asked for at once: 256 datagrams of 1 KiB in flight at 4 KiB pages.</summary>
    internal const int Window = 64;

    /// <summary>A client answers a request at once (it does nothing else while dumping); a missing answer is resent after this.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the console must stay quiet after SHOW_STATE before the dump is closed.</summary>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromSeconds(1);

    /// <summary>How often SHOW_STATE is sent before the server closes the dump without its answer.</summary>
    internal const int ShowStateSends = 3;

    /// <summary>The most console text a dump's log takes.</summary>
    internal const long MaxLogBytes = 16 << 20;

    public const string LogFileName = "log";

    private enum Phase
    {
        Acking,
        Querying,
        Described,
        Pulling,
        ShowingState,
        Done,
        Stopped,
    }

    private sealed class Request
    {
        public LinuxCommand Command { get; private set; }
        public uint From { get; private set; }
        public long SentAt { get; set; }
        public int Sends { get; set; }

        /// <summary>The page being assembled; kept when the request is reused.</summary>
        public byte[]? Page { get; set; }

        public int Chunks { get; set; }

        public Request Reset(LinuxCommand command, uint from, long sentAt)
        {
            (Command, From, SentAt, Sends, Chunks) = (command, from, sentAt, 1, 0);
            return this;
        }
    }

    private readonly LinuxPort _port;
    private readonly ulong _magic;
    private readonly ushort _machine;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Request> _outstanding = [];
    private readonly Stack<Request> _spare = []; // answered requests, for reuse
    private readonly ByteRanges _reserved = new(); // in page frames
    private readonly Queue<uint> _again = [];
    private IActorRef _session = ActorRefs.Nobody;
    private CoreFile? _core;
    private FileStream? _log;
    private long _logBase = -1;
    private long _logPrefix;
    private long _logEnd;
    private Phase _phase;
    private uint _nextSequence = 1;
    private uint? _pages;
    private uint? _pageSize;
    private byte[]? _registers;
    private string? _registersProblem;
    private long _dataOffset;
    private ulong _nextPfn;
    private bool _outOfRoom;
    private bool _memoryDone;
    private long _lastPacket = Environment.TickCount64;
    private long _lastLog;
    private long _firstData;
    private long _packets;

    public LinuxPull(LinuxPort port, IPEndPoint client, LinuxStart start)
    {
        _port = port;
        Client = client;
        Peer = Peer.Of(client);
        _magic = start.Magic;
        _machine = start.Machine;
    }

    public IPEndPoint Client { get; }

    internal Peer Peer { get; }

    /// <summary>The client answered the queries; the session builds the core's header.</summary>
    public sealed record Described(uint Pages, uint PageSize, byte[] Registers, string? RegistersProblem);

    /// <summary>Every page is in (written, zero or reserved).</summary>
    public sealed record MemoryDone(IReadOnlyList<(ulong First, ulong End)> Reserved, ulong Pages);

    /// <summary>SHOW_STATE was answered (or not, after its resends) and the console has gone quiet.</summary>
    public sealed record ConsoleDone(long LogBytes);

    public long LastPacketTicks => Interlocked.Read(ref _lastPacket);

    public DateTimeOffset? FirstDataAt => Interlocked.Read(ref _firstData) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public PumpCounters Counters => new(Interlocked.Read(ref _packets), 0);

    /// <summary>Takes the client's packets; the dump's log starts with its recent console text.</summary>
    public void Start(CoreFile core, IActorRef session)
    {
        lock (_lock)
        {
            _core = core;
            _session = session;
            OpenLog(Path.Combine(Path.GetDirectoryName(core.Path)!, LogFileName));
            _port.Register(this);
        }
    }

    /// <summary>COMM_START_NETDUMP_ACK (again for a repeated START); the first one starts the queries.</summary>
    public void Ack(uint sequence)
    {
        lock (_lock)
        {
            _port.Send(Peer, new LinuxRequest(_magic, sequence, LinuxCommand.StartNetdumpAck, LinuxVersion.Server));
            if (_phase == Phase.Acking)
            {
                _phase = Phase.Querying;
                Ask(LinuxCommand.GetNrPages, 0);
                Ask(LinuxCommand.GetPageSize, 0);
                Ask(LinuxCommand.GetRegs, 0);
            }
        }
    }

    /// <summary>The header is written: pull the pages, each at <paramref name="dataOffset"/> + pfn × page size.</summary>
    public void PullMemory(long dataOffset)
    {
        lock (_lock)
        {
            if (_phase != Phase.Described)
            {
                return;
            }

            _dataOffset = dataOffset;
            _phase = Phase.Pulling;
            AskForPages(Environment.TickCount64);
        }
    }

    /// <summary>The memory is final: ask for the task list, into the log.</summary>
    public void ShowState()
    {
        lock (_lock)
        {
            if (_phase == Phase.Pulling)
            {
                _phase = Phase.ShowingState;
                _lastLog = Environment.TickCount64;
                Ask(LinuxCommand.ShowState, 0);
            }
        }
    }

    /// <summary>There is room again: take pages again.</summary>
    public void ResumeWrites()
    {
        lock (_lock)
        {
            _outOfRoom = false;
            AskForPages(Environment.TickCount64);
        }
    }

    /// <summary>If nothing but STARTs came since the ack, stop for good; true then.</summary>
    public bool TryRetire()
    {
        lock (_lock)
        {
            if (_firstData != 0 && _phase != Phase.Stopped)
            {
                return false;
            }

            Stop();
            return true;
        }
    }

    /// <summary>Nothing more is asked, written or logged.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _phase = Phase.Stopped;
            _outstanding.Clear();
            _port.Unregister(this);
            _log?.Dispose();
            _log = null;
        }
    }

    /// <summary>Lets the client go: COMM_REBOOT, unless a newer dump of it has taken over.</summary>
    public void Reboot()
    {
        if (_port.Serves(this))
        {
            _port.Reboot(Client, _magic);
        }
    }

    /// <summary>A reply from the client (the port's thread).</summary>
    public void Handle(LinuxReplyHeader header, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (_phase is Phase.Stopped or Phase.Acking)
            {
                return;
            }

            Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
            Interlocked.Increment(ref _packets);
            if (_firstData == 0)
            {
                Interlocked.Exchange(ref _firstData, DateTimeOffset.UtcNow.UtcTicks);
                _session.Tell(new PumpEvent.FirstData(0));
            }

            if (!_outstanding.TryGetValue(header.Sequence, out var request))
            {
                return; // a late duplicate of something answered already
            }

            switch (header.Code)
            {
                case LinuxReplyCode.NrPages when request.Command == LinuxCommand.GetNrPages:
                    _pages = header.Info;
                    Answered(header.Sequence);
                    break;
                case LinuxReplyCode.PageSize when request.Command == LinuxCommand.GetPageSize:
                    _pageSize = header.Info;
                    Answered(header.Sequence);
                    break;
                case LinuxReplyCode.Regs when request.Command == LinuxCommand.GetRegs:
                    _registers = LinuxRegisters.TryRead(_machine, payload, out var gregs, out _registersProblem) ? gregs.ToArray() : [];
                    Answered(header.Sequence);
                    break;
                case LinuxReplyCode.Mem when request.Command == LinuxCommand.SendMem:
                    Chunk(header, request, payload);
                    break;
                case LinuxReplyCode.Reserved when request.Command == LinuxCommand.SendMem:
                    Reserve(request.From, header.Info);
                    Retire(header.Sequence);
                    AskForPages(Environment.TickCount64);
                    break;
                case LinuxReplyCode.Error when request.Command == LinuxCommand.SendMem:
                    // a frame the client says it does not have: recorded like a reserved one
                    Reserve(request.From, request.From + 1);
                    Retire(header.Sequence);
                    AskForPages(Environment.TickCount64);
                    break;
                case LinuxReplyCode.ShowState when request.Command == LinuxCommand.ShowState:
                    Retire(header.Sequence);
                    _lastLog = Environment.TickCount64;
                    break;
            }
        }
    }

    /// <summary>Console text during the dump, placed by its stream offset; false when this pull takes no more text.</summary>
    public bool Log(uint offset, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            if (_log is null)
            {
                return false;
            }

            Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
            _lastLog = Environment.TickCount64;
            if (_logBase < 0)
            {
                _logBase = offset; // no console text before the dump: the stream starts here
            }

            var skip = offset < _logBase ? _logBase - offset : 0; // already in the copied console text
            var at = _logPrefix + offset + skip - _logBase;
            if (skip >= text.Length || at + text.Length - skip > MaxLogBytes)
            {
                return true;
            }

            try
            {
                RandomAccess.Write(_log.SafeFileHandle, text[(int)skip..], at);
                _logEnd = Math.Max(_logEnd, at + text.Length - skip);
            }
            catch (IOException)
            {
                // the log is the dump's companion: a write error costs its text, not the dump
            }

            return true;
        }
    }

    /// <summary>Resends what timed out; closes SHOW_STATE when the console went quiet (the port's thread).</summary>
    public void Tick(long now)
    {
        lock (_lock)
        {
            if (_phase is Phase.Stopped or Phase.Done or Phase.Acking)
            {
                return;
            }

            var timeout = (long)RequestTimeout.TotalMilliseconds;
            foreach (var (sequence, request) in _outstanding)
            {
                if (now - request.SentAt < timeout)
                {
                    continue;
                }

                if (request.Command == LinuxCommand.ShowState && request.Sends >= ShowStateSends)
                {
                    Retire(sequence); // a client that cannot show its state still gets rebooted
                    continue;
                }

                request.SentAt = now;
                request.Sends++;
                _port.Send(Peer, new LinuxRequest(_magic, sequence, request.Command, request.From));
            }

            if (_phase == Phase.ShowingState && _outstanding.Count == 0 && now - _lastLog >= (long)QuietTime.TotalMilliseconds)
            {
                _phase = Phase.Done;
                _log?.Flush(flushToDisk: true);
                _session.Tell(new ConsoleDone(_logEnd));
            }
        }
    }

    private void OpenLog(string path)
    {
        try
        {
            _log = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            var (recent, next) = _port.RecentConsole(Client.Address);
            _log.Write(recent);
            _logPrefix = _logEnd = recent.Length;
            _logBase = recent.Length > 0 ? next : -1;
        }
        catch (IOException)
        {
            _log = null; // no log: the dump goes on without the console text
        }
    }

    private void Ask(LinuxCommand command, uint from)
    {
        var sequence = _nextSequence++;
        _outstanding[sequence] = (_spare.TryPop(out var spare) ? spare : new Request()).Reset(command, from, Environment.TickCount64);
        _port.Send(Peer, new LinuxRequest(_magic, sequence, command, from));
    }

    private void Answered(uint sequence)
    {
        Retire(sequence);
        if (_phase == Phase.Querying && _pages is not null && _pageSize is not null && _registers is not null)
        {
            _phase = Phase.Described;
            _session.Tell(new Described(_pages.Value, _pageSize.Value, _registers, _registersProblem));
        }
    }

    /// <summary>The request is answered (or given up): no longer outstanding, kept for reuse.</summary>
    private void Retire(uint sequence)
    {
        if (_outstanding.Remove(sequence, out var request))
        {
            _spare.Push(request);
        }
    }

    private void AskForPages(long now)
    {
        if (_phase != Phase.Pulling || _outOfRoom)
        {
            return;
        }

        while (_outstanding.Count < Window)
        {
            uint pfn;
            if (_again.Count > 0)
            {
                pfn = _again.Dequeue();
            }
            else if (_nextPfn < _pages!.Value)
            {
                pfn = (uint)_nextPfn++;
            }
            else
            {
                break;
            }

            Ask(LinuxCommand.SendMem, pfn);
        }

        if (!_memoryDone && _outstanding.Count == 0 && _again.Count == 0 && _nextPfn >= _pages!.Value)
        {
            _memoryDone = true;
            _session.Tell(new MemoryDone(_reserved.ToList().Select(r => (r.Start, r.End)).ToList(), _pages.Value));
        }
    }

    private void Chunk(LinuxReplyHeader header, Request request, ReadOnlySpan<byte> payload)
    {
        var pageSize = (int)_pageSize!.Value;
        if (header.Info >= pageSize)
        {
            return; // not a piece of this page
        }

        request.Page ??= new byte[pageSize];
        var bit = 1 << (int)(header.Info / LinuxReplyHeader.MemChunk);
        if ((request.Chunks & bit) != 0)
        {
            return; // a duplicate chunk
        }

        payload.CopyTo(request.Page.AsSpan((int)header.Info));
        request.Chunks |= bit;
        if (request.Chunks != (1 << (pageSize / LinuxReplyHeader.MemChunk)) - 1)
        {
            return;
        }

        var pfn = request.From;
        var offset = (ulong)_dataOffset + (ulong)pfn * (ulong)pageSize;
        var result = request.Page.AsSpan().ContainsAnyExcept((byte)0)
            ? _core!.Write(offset, request.Page)
            : _core!.RecordSparse(offset, (ulong)pageSize);
        Retire(header.Sequence); // the request may be reused from here on
        switch (result)
        {
            case CoreWriteResult.Written:
                AskForPages(Environment.TickCount64);
                break;
            case CoreWriteResult.NoSpace:
                _again.Enqueue(pfn);
                if (!_outOfRoom)
                {
                    _outOfRoom = true;
                    _session.Tell(new PumpEvent.OutOfRoom(offset, (ulong)pageSize));
                }

                break;
            default:
                _phase = Phase.Stopped;
                _session.Tell(new PumpEvent.WriteFailed(result == CoreWriteResult.BeyondLimit
                    ? $"page {pfn} at offset {offset} is beyond max_dump_size {_core.MaxSize}"
                    : $"write error at offset {offset}: {_core.LastError}"));
                break;
        }
    }

    /// <summary>Frames [first, next RAM frame) are not RAM; next 0 (or not ahead) means none to the end.</summary>
    private void Reserve(ulong first, ulong nextRam)
    {
        var end = nextRam > first ? Math.Min(nextRam, _pages!.Value) : _pages!.Value;
        _reserved.Add(first, end);
        var pageSize = (ulong)_pageSize!.Value;
        _core!.RecordSparse((ulong)_dataOffset + first * pageSize, (end - first) * pageSize);
        _nextPfn = Math.Max(_nextPfn, end);
    }
}
