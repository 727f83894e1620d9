using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The Linux dialect's socket (<c>linux_port</c>, default 6666) and its thread. A Linux client
/// sends everything to this one port, so this thread is where every Linux packet goes: a START
/// becomes a <see cref="Herald"/> for the listener actor; memory, register and state replies go
/// to the client's <see cref="LinuxPull"/>, which writes and asks for more inline (no datagram
/// travels through a mailbox); console text goes to the dump's <c>log</c> or, outside a dump,
/// to the client's console file (<see cref="ConsoleFiles"/>). The thread also times the pulls'
/// requests out, every <see cref="Tick"/>. Requests leave from this socket, to the source
/// address and port of the client's START (never a fixed 6666: Red Hat bz 454703).
/// </summary>
public sealed class LinuxPort : IDisposable
{
    /// <summary>How often outstanding requests are looked at for a resend.</summary>
    internal static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    /// <summary>How many times COMM_REBOOT is sent: the client never acknowledges it.</summary>
    internal const int RebootSends = 3;

    internal static readonly TimeSpan RebootInterval = TimeSpan.FromMilliseconds(500);

    private static readonly byte[] StartupLine = Encoding.ASCII.GetBytes("[...network console startup...]");

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<IPAddress, LinuxPull> _pulls = new();
    private readonly ConsoleFiles _console;
    private Thread? _thread;
    private volatile bool _stopping;

    private LinuxPort(Socket socket, ConsoleFiles console)
    {
        _socket = socket;
        _console = console;
    }

    /// <summary>A datagram on the Linux port that is not usable, for the listener's log.</summary>
    public sealed record Dropped(IPEndPoint From, string Reason);

    /// <summary>A client's console stream started again at offset 0 with the startup line: it loaded its netdump module.</summary>
    public sealed record ConsoleStarted(IPAddress Client);

    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds addr:port; a port in use throws <see cref="SocketException"/>.</summary>
    public static LinuxPort Bind(IPAddress address, int port, string dumpDirectory)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            socket.ReceiveTimeout = (int)Tick.TotalMilliseconds;
            return new LinuxPort(socket, new ConsoleFiles(dumpDirectory));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(IActorRef listener)
    {
        _thread = new Thread(() => Run(listener)) { IsBackground = true, Name = $"linux-{LocalEndpoint.Port}" };
        _thread.Start();
    }

    /// <summary>Sends one request; safe from any thread (a lost one is resent by its pull).</summary>
    internal void Send(IPEndPoint to, in LinuxRequest request)
    {
        Span<byte> datagram = stackalloc byte[LinuxRequest.Size];
        request.Write(datagram);
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, to);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // the client resends or the pull resends: one lost request costs a timeout
        }
    }

    /// <summary>The pull that now serves its client's packets (it replaces an older one of the same client).</summary>
    internal void Register(LinuxPull pull) => _pulls[pull.Client.Address] = pull;

    internal void Unregister(LinuxPull pull) => _pulls.TryRemove(new KeyValuePair<IPAddress, LinuxPull>(pull.Client.Address, pull));

    /// <summary>True when no newer dump of the client has taken its packets over.</summary>
    internal bool Serves(LinuxPull pull) => !_pulls.TryGetValue(pull.Client.Address, out var current) || ReferenceEquals(current, pull);

    /// <summary>
    /// Tells a client to reboot, <see cref="RebootSends"/> times (it never answers). Each time
    /// preceded by START_NETDUMP_ACK: a client still in its handshake drops every request but
    /// that one (RHEL4 <c>netdump_startup_handshake</c>), so a refused client is first let into
    /// netdump mode; one already in it answers the extra ACK with REPLY_ERROR, harmlessly.
    /// </summary>
    public void Reboot(IPEndPoint client, ulong magic)
    {
        _ = RebootAsync();

        async Task RebootAsync()
        {
            for (var i = 0; i < RebootSends && !_stopping; i++)
            {
                Send(client, new LinuxRequest(magic, 0, LinuxCommand.StartNetdumpAck, LinuxVersion.Server));
                Send(client, new LinuxRequest(magic, 0, LinuxCommand.Reboot, 0));
                await Task.Delay(RebootInterval);
            }
        }
    }

    private void Run(IActorRef listener)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        var dropReports = new ReportBudget(HeraldReceiver.DropReportLimit);
        var nextTick = Environment.TickCount64 + (long)Tick.TotalMilliseconds;
        while (!_stopping)
        {
            var remote = any;
            var length = -1;
            try
            {
                length = _socket.ReceiveFrom(buffer, SocketFlags.None, ref remote);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                                                 or SocketError.MessageSize or SocketError.ConnectionReset)
            {
            }
            catch (Exception) when (_stopping)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }

            if (length >= 0)
            {
                Handle(listener, (IPEndPoint)remote, buffer.AsSpan(0, length), dropReports);
            }

            var now = Environment.TickCount64;
            if (now >= nextTick)
            {
                nextTick = now + (long)Tick.TotalMilliseconds;
                foreach (var pull in _pulls.Values)
                {
                    pull.Tick(now);
                }
            }
        }
    }

    private void Handle(IActorRef listener, IPEndPoint from, ReadOnlySpan<byte> datagram, ReportBudget dropReports)
    {
        var error = LinuxReplyHeader.TryRead(datagram, out var header);
        var payload = datagram[Math.Min(datagram.Length, LinuxReplyHeader.Size)..];
        string? problem = error == LinuxReplyError.None ? null : LinuxReplyHeader.Describe(error);
        if (problem is null)
        {
            switch (header.Code)
            {
                case LinuxReplyCode.StartNetdump:
                    if (LinuxStart.TryParse(header, payload, out var start, out problem))
                    {
                        listener.Tell(new Herald(0, from, LocalEndpoint.Address, "", null, DateTimeOffset.UtcNow, start));
                        return;
                    }

                    break;
                case LinuxReplyCode.Log:
                    Console(listener, from, header.Info, payload);
                    return;
                default:
                    if (_pulls.TryGetValue(from.Address, out var pull) && pull.Client.Equals(from))
                    {
                        pull.Handle(header, payload);
                        return;
                    }

                    problem = $"{header.Code} from a client with no dump";
                    break;
            }
        }

        if (dropReports.TryTake())
        {
            listener.Tell(new Dropped(from, problem!));
        }
    }

    /// <summary>Console text: into the dump's log while a dump runs, else into the client's console file.</summary>
    private void Console(IActorRef listener, IPEndPoint from, uint offset, ReadOnlySpan<byte> text)
    {
        if (_pulls.TryGetValue(from.Address, out var pull) && pull.Log(offset, text))
        {
            return;
        }

        _console.Append(from.Address, offset, text);
        if (offset == 0 && text.StartsWith(StartupLine))
        {
            listener.Tell(new ConsoleStarted(from.Address));
        }
    }

    /// <summary>The recent console text of a client, for a new dump's directory.</summary>
    public (byte[] Text, long Next) RecentConsole(IPAddress client) => _console.Recent(client);

    public void Dispose()
    {
        _stopping = true;
        _socket.Dispose();
        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }
    }
}
