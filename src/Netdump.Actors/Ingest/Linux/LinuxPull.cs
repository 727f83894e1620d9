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
/// <para>
/// This file holds the pull's life (start, retire, stop, reboot, fault) and its shared state;
/// what is asked and resent, and how a reply is dispatched, is in <c>LinuxPull.Requests.cs</c>;
/// the pages (the SEND_MEM window, page writes, reserved frames, no room) in <c>.Pages.cs</c>;
/// SHOW_STATE and the dump's <c>log</c> in <c>.Console.cs</c>.
/// </para>
/// </summary>
internal sealed partial class LinuxPull
{
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

    private readonly LinuxPort _port;
    private readonly ulong _magic;
    private readonly ushort _machine;
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, Request> _outstanding = [];
    private readonly Stack<Request> _spare = []; // answered requests, for reuse
    private ControlEvents _session = _ => { };
    private CoreFile? _core;
    private Phase _phase;
    /// <summary>Starts anywhere, so that a late reply to an earlier dump of the same client matches nothing here.</summary>
    private uint _nextSequence = (uint)Random.Shared.Next(1, int.MaxValue);
    private volatile bool _acked;
    private volatile bool _superseded;
    private uint? _pages;
    private uint? _pageSize;
    private byte[]? _registers;
    private string? _registersProblem;
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
    public sealed record MemoryDone(IReadOnlyList<ByteRange> Reserved, ulong Pages);

    /// <summary>SHOW_STATE was answered (or not, after its resends) and the console has gone quiet.</summary>
    public sealed class ConsoleDone
    {
        public static readonly ConsoleDone Instance = new();
        private ConsoleDone() { }
    }

    public long LastPacketTicks => Interlocked.Read(ref _lastPacket);

    public DateTimeOffset? FirstDataAt => Interlocked.Read(ref _firstData) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Every page is in (the console text of SHOW_STATE may still be coming).</summary>
    public bool MemoryIn
    {
        get
        {
            lock (_lock)
            {
                return _phase is Phase.ShowingState or Phase.Done;
            }
        }
    }

    public PumpCounters Counters => new(Interlocked.Read(ref _packets), 0);

    /// <summary>Takes the client's packets; the dump's log starts with its recent console text.</summary>
    public void Start(CoreFile core, ControlEvents session)
    {
        lock (_lock)
        {
            _core = core;
            _session = session;
            OpenLog(Path.Combine(Path.GetDirectoryName(core.Path)!, ConsoleLogFile.FileName));
            _port.Register(this);
        }
    }

    /// <summary>
    /// If nothing but STARTs came since the ack, stop for good; true then. A pull that stopped
    /// itself (a failed write, too many reserved ranges) after answers came is not empty: its
    /// pages are in the core, and its session hears why it stopped.
    /// </summary>
    public bool TryRetire()
    {
        lock (_lock)
        {
            if (_firstData != 0)
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
    /// A newer dump of the client took over. The port knows of a newer Linux pull itself; this
    /// says so for a dump of the other dialect (a FreeBSD HERALD from the client's address).
    /// </summary>
    public void Superseded() => _superseded = true;

    /// <summary>
    /// Lets the client go: COMM_REBOOT, unless a newer dump of it has taken over. An acked
    /// client gets REBOOT alone: should it have panicked again and be back in its handshake,
    /// it ignores that, instead of being let in and rebooted out of its new dump.
    /// </summary>
    public void Reboot()
    {
        if (!_superseded && _port.Serves(this))
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

    /// <summary>What arrived since the last tick, to the metrics: once a tick, not once a packet (under the lock).</summary>
    private void FlushMeter()
    {
        var packets = Interlocked.Read(ref _packets);
        _meter?.Add(packets - _meteredPackets, _bytesSinceTick, 0, 0);
        _meteredPackets = packets;
        _bytesSinceTick = 0;
    }
}
