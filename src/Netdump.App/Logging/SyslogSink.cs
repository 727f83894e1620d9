using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Netdump.App.Logging;

/// <summary>
/// Sends each event to the local syslog daemon (journald or rsyslog) as an RFC 3164 datagram on
/// the <c>/dev/log</c> Unix socket, the way glibc's syslog(3) does:
/// <c>&lt;PRI&gt;Mmm dd hh:mm:ss netdump-server[pid]: message</c>, facility daemon, severity from
/// the level. Logging never stops the server: with no syslog socket, or one that is full, the
/// event is dropped.
/// </summary>
public sealed class SyslogSink : ILogEventSink, IDisposable
{
    public const string DefaultPath = "/dev/log";

    /// <summary>LOG_DAEMON.</summary>
    public const int FacilityDaemon = 3;

    /// <summary>Longer messages are cut: every syslog daemon accepts datagrams of this size.</summary>
    public const int MaxDatagram = 8192;

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    private readonly string _path;
    private readonly string _tag;
    private readonly int _pid;
    private readonly MessageTemplateTextFormatter _formatter = new("{Message:lj}", CultureInfo.InvariantCulture);
    private readonly Lock _gate = new();
    private Socket? _socket;
    private DateTime _nextConnect = DateTime.MinValue;

    public SyslogSink(string path = DefaultPath, string tag = "netdump-server")
    {
        _path = path;
        _tag = tag;
        _pid = Environment.ProcessId;
    }

    /// <summary>RFC 3164 severity for a Serilog level.</summary>
    public static int Severity(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => 2,
        LogEventLevel.Error => 3,
        LogEventLevel.Warning => 4,
        LogEventLevel.Information => 6,
        _ => 7,
    };

    /// <summary>The datagram for one event, as text.</summary>
    public string Format(LogEvent logEvent)
    {
        var message = new StringWriter(CultureInfo.InvariantCulture);
        _formatter.Format(logEvent, message);
        if (logEvent.Exception is { } exception)
        {
            message.Write(": ");
            message.Write(exception);
        }

        var time = logEvent.Timestamp.LocalDateTime;
        var stamp = string.Create(CultureInfo.InvariantCulture, $"{time:MMM} {time.Day,2} {time:HH:mm:ss}");
        var priority = FacilityDaemon * 8 + Severity(logEvent.Level);
        return $"<{priority}>{stamp} {_tag}[{_pid}]: {message}";
    }

    public void Emit(LogEvent logEvent)
    {
        var bytes = Encoding.UTF8.GetBytes(Format(logEvent));
        var length = Math.Min(bytes.Length, MaxDatagram);
        lock (_gate)
        {
            // A syslog daemon that restarted has a new socket behind the same path: reconnect once.
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var socket = Connected(out _);
                if (socket is null)
                {
                    return;
                }

                try
                {
                    socket.Send(bytes, 0, length, SocketFlags.None);
                    return;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.NoBufferSpaceAvailable)
                {
                    return;
                }
                catch (SocketException)
                {
                    Disconnect();
                }
            }
        }
    }

    /// <summary>Connects now; null when connected, else the reason (the socket is missing, or nobody reads it).</summary>
    public string? WhyUnreachable()
    {
        lock (_gate)
        {
            _nextConnect = DateTime.MinValue;
            if (Connected(out var why) is not null)
            {
                return null;
            }

            // .NET words a missing socket file as "Cannot assign requested address"
            return Path.Exists(_path) ? why : "no such socket";
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Disconnect();
        }
    }

    private Socket? Connected(out string? why)
    {
        why = null;
        if (_socket is not null)
        {
            return _socket;
        }

        if (DateTime.UtcNow < _nextConnect)
        {
            why = "retrying later";
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(_path));

            // A stuck syslog daemon must not stall the threads that log: drop instead of waiting.
            socket.Blocking = false;
            _socket = socket;
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            _nextConnect = DateTime.UtcNow + RetryAfter;
            why = e.Message;
            return null;
        }
    }

    private void Disconnect()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
