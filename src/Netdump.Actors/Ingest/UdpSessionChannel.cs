using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Configuration;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest;

/// <summary>
/// A session's own UDP socket on (the HERALD's local address, an ephemeral port or one of
/// <c>session_ports</c>), connected to the HERALD's source address and port, and its receive
/// pump: one of the listener's <see cref="PumpThreads"/> until FINISHED, then the listener's
/// linger pump for the rest of the linger time (a thread of its own where those are not given;
/// the listener's <see cref="EpollPump"/> throughout with <c>ingest_engine = epoll</c>).
/// Connected, the socket hears only its client (the kernel drops every other source) and the
/// kernel reuses one route for all of its receives and acks. Where a data packet goes: the
/// receive engine (<see cref="BatchedReceiveEngine"/> or <see cref="ManagedReceiveEngine"/>) reads it,
/// <see cref="SessionPacketHandler"/> decides, the engine writes it at its offset in the
/// <see cref="CoreFile"/> and acks it to its source, all on the pump's thread. Everything else
/// becomes a <see cref="PumpEvent"/> for the session actor, which decides. How the channel
/// stops (the socket closed only once no pump uses it) is in <c>UdpSessionChannel.Stopping.cs</c>.
/// </summary>
public sealed partial class UdpSessionChannel : ISessionChannel
{
    private readonly Socket _socket;
    private readonly IPEndPoint _client;
    private readonly IngestEngine _engine;
    private readonly EpollPumps? _pumps;
    private readonly PumpThreads? _threads;
    private readonly EpollPump? _linger;
    private readonly SessionPorts _ports;
    private readonly object _gate = new();
    private EpollPump? _registeredIn;
    private EpollPump.Registration? _registration;
    private readonly long _created = Environment.TickCount64;
    private SessionPacketHandler? _handler;
    private Thread? _pumpThread;
    private bool _pumpRunning; // a pump thread may still use the socket and the core
    private volatile bool _stopping;
    private bool _closeWhenPumpLeaves;
    private Action? _whenStopped;

    /// <summary>The longest a pump thread sleeps in a receive call before it looks at its stop flag.</summary>
    private static readonly TimeSpan WakeUpBound = TimeSpan.FromSeconds(5);

    public UdpSessionChannel(IPAddress local, IPEndPoint client, PortRange? ports = null, IngestEngine engine = IngestEngine.Batched)
        : this(local, client, new SessionPorts(ports), engine, pumps: null)
    {
    }

    /// <param name="pumps">
    /// the listener's shared pumps: every session's with the epoll engine; with the batched
    /// engine, those of the sessions beyond <see cref="DedicatedThreads"/> at once
    /// </param>
    /// <param name="threads">the listener's pump threads, kept between dumps (batched engine)</param>
    /// <param name="linger">
    /// the listener's pump for lingering sessions (batched engine): at FINISHED the socket moves
    /// there and the pump thread goes back to <paramref name="threads"/> for the next dump
    /// </param>
    internal UdpSessionChannel(IPAddress local, IPEndPoint client, SessionPorts ports, IngestEngine engine, EpollPumps? pumps,
        PumpThreads? threads = null, EpollPump? linger = null)
    {
        _client = client;
        _ports = ports;
        BoundAddress = local;
        _threads = threads;
        _linger = linger;
        _pumps = pumps;
        _engine = engine != IngestEngine.Managed && !BatchedReceiveEngine.Supported ? IngestEngine.Managed
            : engine == IngestEngine.Epoll && _pumps is null ? IngestEngine.Batched
            : engine;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Stop wakes a blocked receive at once (shutdown); the timeout only bounds how long a
            // pump sleeps should that fail. Short, it woke every lingering session's thread 4
            // times a second.
            _socket.ReceiveTimeout = (int)WakeUpBound.TotalMilliseconds;
            ports.Bind(_socket, local);
            _socket.Connect(client);
            LocalEndpoint = (IPEndPoint)_socket.LocalEndPoint!;
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The production factory for an engine (the epoll engine needs the listener's pumps).</summary>
    internal static SessionChannelFactory FactoryFor(IngestEngine engine, SessionPorts ports, EpollPumps? pumps, PumpThreads? threads, EpollPump? linger,
        PacketMeter? meter = null) =>
        (local, client) => new UdpSessionChannel(local, client, ports, engine, pumps, threads, linger) { Meter = meter };

    /// <summary>Where the pump counts what it receives; null: not counted.</summary>
    internal PacketMeter? Meter { get; init; }

    /// <summary>
    /// How many sessions at once get a pump thread of their own (batched engine): one per core.
    /// A thread that blocks in its own <c>recvmmsg</c> is the fastest pump for a few large
    /// dumps; beyond one per core, threads only take turns on the cores and every client's
    /// burst wakes one, so further sessions share the epoll pumps (docs/performance.md, "Crash storms").
    /// </summary>
    internal static int DedicatedThreads => Environment.ProcessorCount;

    /// <summary>Where the socket was bound: known after the socket is closed too (the session's end line says it).</summary>
    public IPEndPoint LocalEndpoint { get; }

    /// <summary>The local address the socket is bound to (a port is in use per address).</summary>
    internal IPAddress BoundAddress { get; }

    public bool TryRetireIfEmpty() => _handler?.TryRetire() ?? true;

    public void Lingering() => _ports.Lingers(this);

    public void ResumeWrites() => _handler?.ResumeWrites();

    public long LastPacketTicks => _handler?.LastPacketTicks ?? _created;

    public DateTimeOffset? FirstDataAt => _handler?.FirstDataAt;

    public PumpCounters Counters => _handler?.Counters ?? default;

    /// <summary>The engine this channel really runs (batched falls back to managed where unsupported).</summary>
    public IngestEngine Engine => _engine;

    public void Start(CoreFile core, ControlEvents session)
    {
        var handler = _handler = new SessionPacketHandler(core, session, Meter);
        if (_engine == IngestEngine.Epoll)
        {
            Share(handler);
            return;
        }

        lock (_gate)
        {
            _pumpRunning = true; // before the thread can leave
        }

        if (_engine == IngestEngine.Batched && _threads is not null)
        {
            if (_pumps is null)
            {
                _threads.Run(engine => Run(handler, engine));
            }
            else if (!_threads.TryRun(engine => Run(handler, engine), DedicatedThreads))
            {
                lock (_gate)
                {
                    _pumpRunning = false; // no thread of its own will touch the socket
                }

                Share(handler);
            }

            return;
        }

        new Thread(() => Run(handler, engine: null)) { IsBackground = true, Name = $"session-{_client.Address}" }.Start();
    }

    /// <summary>Into the least busy shared pump, for the rest of the session (linger included).</summary>
    private void Share(SessionPacketHandler handler)
    {
        var pump = _pumps!.Least();
        _registration = pump.Register(_socket, handler);
        _registeredIn = pump;
    }

    public void SendAck(uint sequence)
    {
        Span<byte> ack = stackalloc byte[Ack.Size];
        Ack.Write(ack, sequence);
        try
        {
            _socket.Send(ack, SocketFlags.None);
        }
        catch (ObjectDisposedException)
        {
            // the session is closing; the client will retransmit into a closed port
        }
        catch (SocketException)
        {
            // one lost ack costs nothing: the client resends the packet
        }
    }

    /// <summary>The pump: on the pool's thread with its engine, or on a thread of its own (engine null).</summary>
    private void Run(SessionPacketHandler handler, BatchedReceiveEngine? engine)
    {
        _pumpThread = Thread.CurrentThread;
        try
        {
            Pump(handler, engine);
        }
        finally
        {
            PumpLeft();
        }
    }

    private void Pump(SessionPacketHandler handler, BatchedReceiveEngine? engine)
    {
        try
        {
            if (_engine == IngestEngine.Batched)
            {
                // until FINISHED; then the socket lingers elsewhere and the thread is free
                using (var own = engine is null ? new BatchedReceiveEngine() : null)
                {
                    (engine ?? own!).Run(_socket, handler, () => _stopping || handler.Sealed);
                }

                if (handler.Sealed && LingerIn(_linger, handler))
                {
                    return;
                }
            }

            if (_engine == IngestEngine.Managed || handler.Sealed)
            {
                // without a linger pump, the managed loop serves a lingering session on this
                // thread from one 64 KiB buffer
                ManagedReceiveEngine.Run(_socket, handler, () => _stopping);
            }
        }
        catch (Exception) when (_stopping)
        {
            // the socket was closed under the receive call: the session is ending
        }
        catch (Exception e)
        {
            handler.Faulted(e.Message);
        }
    }

    /// <summary>Moves the socket into the linger pump; false when there is none or it refused.</summary>
    private bool LingerIn(EpollPump? linger, SessionPacketHandler handler)
    {
        if (linger is null)
        {
            return false;
        }

        lock (_gate)
        {
            if (_stopping)
            {
                return true; // the session is closing: nothing left to serve
            }

            try
            {
                _registration = linger.Register(_socket, handler);
                _registeredIn = linger;
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
