using System.Net;
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
    /// <remarks>
    /// The kernel prints the task list before it answers SHOW_STATE, and netconsole sends each
    /// line as it is printed: what is still on its way after the answer arrives within a LAN's
    /// round trips. Every new line starts the wait again.
    /// </remarks>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(500);

    /// <summary>SHOW_STATE is resent only after this long without its answer or console text (each one prints the whole task list).</summary>
    internal static readonly TimeSpan ShowStateTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The longest the console is collected after SHOW_STATE, however much it talks.</summary>
    internal static readonly TimeSpan ShowStateDeadline = TimeSpan.FromSeconds(30);

    /// <summary>GET_NR_PAGES, GET_PAGE_SIZE and GET_REGS are sent at most this often (5 s of resends).</summary>
    internal const int QuerySends = 20;

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

        /// <summary>The 1024-byte chunks of the page that arrived, a bit each (up to 64: a 64 KiB page).</summary>
        public ulong Chunks { get; set; }

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
    private ControlEvents _session = _ => { };
    private CoreFile? _core;
    private FileStream? _log;
    private long _logBase = -1;
    private long _logPrefix;
    private long _logEnd;
    private Phase _phase;
    /// <summary>Starts anywhere, so that a late reply to an earlier dump of the same client matches nothing here.</summary>
    private uint _nextSequence = (uint)Random.Shared.Next(1, int.MaxValue);
    private long _showStateAt;
    private volatile bool _acked;
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
    private readonly PacketMeter? _meter;
    private long _meteredPackets; // told to the meter at each tick
    private long _bytesSinceTick;

    public LinuxPull(LinuxPort port, IPEndPoint client, LinuxStart start, PacketMeter? meter = null)
    {
        _meter = meter;
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
    public sealed class ConsoleDone
    {
        public static readonly ConsoleDone Instance = new();
        private ConsoleDone() { }
    }

    public long LastPacketTicks => Interlocked.Read(ref _lastPacket);

    public DateTimeOffset? FirstDataAt => Interlocked.Read(ref _firstData) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public PumpCounters Counters => new(Interlocked.Read(ref _packets), 0);

    /// <summary>Takes the client's packets; the dump's log starts with its recent console text.</summary>
    public void Start(CoreFile core, ControlEvents session)
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
            _acked = true;
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
                _lastLog = _showStateAt = Environment.TickCount64;
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
            FlushMeter();
            _phase = Phase.Stopped;
            _outstanding.Clear();
            _port.Unregister(this);
            _log?.Dispose();
            _log = null;
        }
    }

    /// <summary>
    /// Lets the client go: COMM_REBOOT, unless a newer dump of it has taken over. An acked
    /// client gets REBOOT alone: should it have panicked again and be back in its handshake,
    /// it ignores that, instead of being let in and rebooted out of its new dump.
    /// </summary>
    public void Reboot()
    {
        if (_port.Serves(this))
        {
            _port.Reboot(Client, _magic, inHandshake: !_acked);
        }
    }

    /// <summary>Something unexpected went wrong on the port's thread with this dump: it ends, the others go on.</summary>
    public void Fault(Exception e)
    {
        lock (_lock)
        {
            Stop();
            _session(new PumpEvent.Faulted(e.Message));
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

            if (!_outstanding.TryGetValue(header.Sequence, out var request))
            {
                return; // a late duplicate of something answered already, or not ours
            }

            // only an answer to a question counts as the client being alive
            Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
            Interlocked.Increment(ref _packets);
            _bytesSinceTick += payload.Length;
            if (_firstData == 0)
            {
                Interlocked.Exchange(ref _firstData, DateTimeOffset.UtcNow.UtcTicks);
                _session(new PumpEvent.FirstData(0));
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
                case LinuxReplyCode.Error when request.Command == LinuxCommand.GetRegs:
                    NoRegisters(header.Sequence, "the client answered GET_REGS with an error");
                    break;
                case LinuxReplyCode.Error when request.Command is LinuxCommand.GetNrPages or LinuxCommand.GetPageSize:
                    CannotDescribe($"the client answered {request.Command} with an error");
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
                // new text (not a duplicate, not past the cap) is the client alive and talking
                _lastLog = Environment.TickCount64;
                Interlocked.Exchange(ref _lastPacket, _lastLog);
            }
            catch (IOException)
            {
                // the log is the dump's companion: a write error costs its text, not the dump
            }

            return true;
        }
    }

    /// <summary>What arrived since the last tick, to the metrics: once a tick, not once a packet (under the lock).</summary>
    private void FlushMeter()
    {
        var packets = Interlocked.Read(ref _packets);
        _meter?.Add(packets - _meteredPackets, _bytesSinceTick, 0, 0);
        _meteredPackets = packets;
        _bytesSinceTick = 0;
    }

    /// <summary>Resends what timed out; closes SHOW_STATE when the console went quiet (the port's thread).</summary>
    public void Tick(long now)
    {
        lock (_lock)
        {
            FlushMeter();

            if (_phase is Phase.Stopped or Phase.Done or Phase.Acking)
            {
                return;
            }

            foreach (var (sequence, request) in _outstanding)
            {
                if (request.Command == LinuxCommand.ShowState)
                {
                    // resent only when neither its answer nor console text has come for a while
                    if (now - Math.Max(request.SentAt, _lastLog) < (long)ShowStateTimeout.TotalMilliseconds)
                    {
                        continue;
                    }

                    if (request.Sends >= ShowStateSends)
                    {
                        Retire(sequence); // a client that cannot show its state still gets rebooted
                        continue;
                    }
                }
                else if (now - request.SentAt < (long)RequestTimeout.TotalMilliseconds)
                {
                    continue;
                }
                else if (request.Command != LinuxCommand.SendMem && request.Sends >= QuerySends)
                {
                    if (request.Command == LinuxCommand.GetRegs)
                    {
                        NoRegisters(sequence, $"no answer to GET_REGS after {QuerySends} requests");
                    }
                    else
                    {
                        CannotDescribe($"no answer to {request.Command} after {QuerySends} requests");
                    }

                    return;
                }

                request.SentAt = now;
                request.Sends++;
                _port.Send(Peer, new LinuxRequest(_magic, sequence, request.Command, request.From));
            }

            var quiet = _outstanding.Count == 0 && now - _lastLog >= (long)QuietTime.TotalMilliseconds;
            if (_phase == Phase.ShowingState && (quiet || now - _showStateAt >= (long)ShowStateDeadline.TotalMilliseconds))
            {
                _phase = Phase.Done;
                _log?.Flush(flushToDisk: true);
                _log?.Dispose(); // the log is final: text from now on goes to the client's console file
                _log = null;
                _session(ConsoleDone.Instance);
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
            // after a restart of the server the stream's position is unknown: the first packet sets it
            _logBase = recent.Length > 0 && next > 0 ? next : -1;
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

    /// <summary>The dump goes on without registers (the core then has no NT_PRSTATUS).</summary>
    private void NoRegisters(uint sequence, string problem)
    {
        _registers = [];
        _registersProblem = problem;
        Answered(sequence);
    }

    /// <summary>Without its page count or size there is no core to fill: the dump ends with the reason.</summary>
    private void CannotDescribe(string reason)
    {
        Stop();
        _session(new PumpEvent.WriteFailed(EndReason.Undescribed(reason)));
    }

    private void Answered(uint sequence)
    {
        Retire(sequence);
        if (_phase == Phase.Querying && _pages is not null && _pageSize is not null && _registers is not null)
        {
            _phase = Phase.Described;
            _session(new Described(_pages.Value, _pageSize.Value, _registers, _registersProblem));
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
            _session(new MemoryDone(_reserved.ToList().Select(r => (r.Start, r.End)).ToList(), _pages.Value));
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
        var bit = 1UL << (int)(header.Info / LinuxReplyHeader.MemChunk);
        if ((request.Chunks & bit) != 0)
        {
            return; // a duplicate chunk
        }

        payload.CopyTo(request.Page.AsSpan((int)header.Info));
        request.Chunks |= bit;
        var chunks = pageSize / LinuxReplyHeader.MemChunk;
        if (request.Chunks != (chunks == 64 ? ulong.MaxValue : (1UL << chunks) - 1))
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
                    _session(new PumpEvent.OutOfRoom(offset, (ulong)pageSize));
                }

                break;
            default:
                _phase = Phase.Stopped;
                _session(new PumpEvent.WriteFailed(result switch
                {
                    CoreWriteResult.BeyondLimit => EndReason.TooLarge($"page {pfn} at offset {offset} is beyond max_dump_size {_core.MaxSize}"),
                    CoreWriteResult.TooFragmented => EndReason.TooFragmented($"page {pfn} would make more than {CoreFile.MaxRanges} separate received ranges"),
                    _ => EndReason.WriteError($"write error at offset {offset}: {_core.LastError}"),
                }));
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
