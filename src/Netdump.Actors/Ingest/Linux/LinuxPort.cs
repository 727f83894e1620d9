using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Native;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The Linux dialect's socket (<c>linux_port</c>, default 6666) and its thread. A Linux client
/// sends everything to this one port, so this thread is where every Linux packet goes: a START
/// becomes a <see cref="Herald"/> for the listener actor; memory, register and state replies go
/// to the client's <see cref="LinuxPull"/>, which writes and asks for more inline (no datagram
/// travels through a mailbox); console text goes to the dump's <c>log</c> or, outside a dump,
/// to the client's console file (<see cref="ConsoleFiles"/>, which this thread only hands it
/// to in memory: its files are written by a thread of their own). The thread also times the pulls'
/// requests out, every <see cref="Tick"/>, while there are pulls; without any it waits for a
/// datagram with no timeout, so that an idle port costs nothing (a tick without pulls was an
/// idle server's only CPU; docs/performance.md, "Idle"). A pull
/// registered from another thread wakes it with an empty datagram to the port itself
/// (<see cref="Wake"/>); <see cref="Dispose"/> shuts the socket for reading. Requests leave from this socket, to the source
/// address and port of the client's START (never a fixed 6666: Red Hat bz 454703). The thread
/// takes up to a batch of datagrams per receive and sends the requests they lead to together
/// (<see cref="LinuxPortIo"/>); a request made on another thread (a session's command) leaves
/// at once.
/// <para>
/// This file holds the socket, its thread's start and stop, and the sends; the receive loop
/// and where each datagram goes are in <c>LinuxPort.Receiving.cs</c>.
/// </para>
/// </summary>
public sealed partial class LinuxPort : IDisposable
{
    /// <summary>How often outstanding requests are looked at for a resend.</summary>
    internal static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    /// <summary>How many times COMM_REBOOT is sent: the client never acknowledges it.</summary>
    internal const int RebootSends = 3;

    internal static readonly TimeSpan RebootInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The socket's receive buffer, asked for (the kernel caps it at net.core.rmem_max): a pull
    /// has <see cref="LinuxPull.Window"/> pages of four 1 KiB datagrams in flight, about 2 KiB
    /// of buffer each, so the default 208 KiB overflows with one client, and each datagram lost
    /// there costs its page a <see cref="LinuxPull.RequestTimeout"/>.
    /// </summary>
    internal const int ReceiveBuffer = 8 << 20;

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<uint, LinuxPull> _pulls = new(); // by Peer.Address
    private readonly ConsoleFiles _console;
    private readonly SocketAddress _direct = new(AddressFamily.InterNetwork); // under its lock
    private LinuxPortIo? _io;
    private Thread? _thread;
    private readonly Peer _wakeTarget; // the socket's own address (127.0.0.1 for a wildcard bind)
    private volatile bool _stopping;

    private readonly Func<IPAddress, bool> _mayDump;
    private readonly Dictionary<uint, (bool Allowed, long At)> _allowedCache = []; // the port thread's
    private readonly List<Task> _reboots = [];

    private LinuxPort(Socket socket, ConsoleFiles console, Func<IPAddress, bool> mayDump)
    {
        _socket = socket;
        _console = console;
        _mayDump = mayDump;
        var local = (IPEndPoint)socket.LocalEndPoint!;
        _wakeTarget = Peer.Of(new IPEndPoint(local.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : local.Address, local.Port));
    }

    /// <summary>A datagram on the Linux port that is not usable, for the listener's log.</summary>
    public sealed record Dropped(IPEndPoint From, string Reason);

    /// <summary>Counts every datagram dropped (the log hears of a few a second).</summary>
    public Prometheus.Counter.Child? Drops { get; init; }

    /// <summary>A client's console stream started again at offset 0 with the startup line: it loaded its netdump module.</summary>
    public sealed record ConsoleStarted(IPAddress Client);

    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds addr:port; a port in use throws <see cref="SocketException"/>.</summary>
    /// <param name="mayDump">
    /// whether an address may dump at all (<c>secure</c>: in <c>allow</c> or with a magic file);
    /// console text from others is dropped, so a spoofed flood of addresses writes nothing
    /// </param>
    public static LinuxPort Bind(IPAddress address, int port, string dumpDirectory, Func<IPAddress, bool>? mayDump = null, Prometheus.Counter.Child? drops = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.ReceiveBufferSize = ReceiveBuffer;
            return new LinuxPort(socket, new ConsoleFiles(dumpDirectory), mayDump ?? (_ => true)) { Drops = drops };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(ControlEvents listener)
    {
        var io = _io = new LinuxPortIo(_socket, LinuxIo.Supported);
        _thread = new Thread(() => Run(listener, io)) { IsBackground = true, Name = $"linux-{LocalEndpoint.Port}" };
        _thread.Start();
    }

    /// <summary>
    /// Sends one request; safe from any thread (a lost one is resent by its pull). On the port's
    /// thread it joins the batch's send.
    /// </summary>
    internal void Send(Peer to, in LinuxRequest request)
    {
        if (_io is { } io && Thread.CurrentThread == _thread)
        {
            io.Queue(to, request);
            return;
        }

        Span<byte> datagram = stackalloc byte[LinuxRequest.Size];
        request.Write(datagram);
        SendNow(to, datagram); // a lost one: the client resends or the pull resends, at a timeout's cost
    }

    /// <summary>One datagram at once, from any thread; a send that fails is dropped (the callers recover from a loss).</summary>
    private void SendNow(Peer to, ReadOnlySpan<byte> datagram)
    {
        lock (_direct)
        {
            to.WriteTo(_direct);
            try
            {
                _socket.SendTo(datagram, SocketFlags.None, _direct);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Ends the thread's wait: an empty datagram to the port itself, which no client sends and the thread skips.</summary>
    private void Wake() => SendNow(_wakeTarget, ReadOnlySpan<byte>.Empty);

    /// <summary>The pull that now serves its client's packets (it replaces an older one of the same client).</summary>
    internal void Register(LinuxPull pull)
    {
        _pulls[pull.Peer.Address] = pull;
        if (Thread.CurrentThread != _thread)
        {
            Wake(); // the thread may be waiting without its tick, which the pull's resends need
        }
    }

    internal void Unregister(LinuxPull pull) => _pulls.TryRemove(new KeyValuePair<uint, LinuxPull>(pull.Peer.Address, pull));

    /// <summary>True when no newer dump of the client has taken its packets over.</summary>
    internal bool Serves(LinuxPull pull) => !_pulls.TryGetValue(pull.Peer.Address, out var current) || ReferenceEquals(current, pull);

    /// <summary>
    /// Tells a client to reboot, <see cref="RebootSends"/> times (it never answers). Each time
    /// preceded by START_NETDUMP_ACK: a client still in its handshake drops every request but
    /// that one (RHEL4 <c>netdump_startup_handshake</c>), so a refused client is first let into
    /// netdump mode; one already in it answers the extra ACK with REPLY_ERROR, harmlessly.
    /// </summary>
    /// <param name="inHandshake">
    /// false for a client whose START was acked (it is in its request loop): REBOOT alone, which
    /// a client that panicked again and is back in its handshake ignores, so it is not rebooted
    /// out of its new dump
    /// </param>
    public void Reboot(IPEndPoint client, ulong magic, bool inHandshake = true)
    {
        var peer = Peer.Of(client);
        var reboot = RebootAsync();
        lock (_reboots)
        {
            _reboots.RemoveAll(t => t.IsCompleted);
            _reboots.Add(reboot);
        }

        async Task RebootAsync()
        {
            for (var i = 0; i < RebootSends; i++)
            {
                if (inHandshake)
                {
                    Send(peer, new LinuxRequest(magic, 0, LinuxCommand.StartNetdumpAck, LinuxVersion.Server));
                }

                Send(peer, new LinuxRequest(magic, 0, LinuxCommand.Reboot, 0));
                await Task.Delay(RebootInterval);
            }
        }
    }

    /// <summary>The recent console text of a client, for a new dump's directory.</summary>
    public (byte[] Text, long Next) RecentConsole(IPAddress client) => _console.Recent(client);

    /// <summary>
    /// Stops the thread, then closes the socket: the thread uses the socket's descriptor
    /// directly, which must not be closed (and its number reused) under it. A thread that does
    /// not stop in time keeps its buffers (freed under it, they would be written into).
    /// </summary>
    public void Dispose()
    {
        // the repeated REBOOTs of the last clients leave first (a second or so): one lost
        // datagram would leave a client frozen in netdump mode
        Task[] reboots;
        lock (_reboots)
        {
            reboots = [.. _reboots];
        }

        Task.WaitAll(reboots, TimeSpan.FromSeconds(2));
        _stopping = true;
        try
        {
            // ends the thread's wait without a datagram (a host firewall could drop Wake's on lo):
            // a receive on a socket shut for reading returns at once, now and after
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (SocketException)
        {
            // an unconnected UDP socket answers ENOTCONN, having shut it all the same
        }

        var stopped = _thread is null || _thread == Thread.CurrentThread || _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
        if (stopped && _thread != Thread.CurrentThread)
        {
            _io?.Dispose();
        }

        _console.Dispose(); // the console text received outside a dump reaches its files
    }
}
