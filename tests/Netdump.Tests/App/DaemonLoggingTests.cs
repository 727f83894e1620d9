using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Netdump.Actors.Configuration;
using Netdump.App.Logging;
using Netdump.Tests.Storage;
using Serilog.Events;
using Serilog.Parsing;

namespace Netdump.Tests.App;

/// <summary>The daemon's log destinations: syslog over a Unix datagram socket, and the log file.</summary>
public sealed class DaemonLoggingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void Syslog_sink_should_send_an_rfc3164_line_with_facility_daemon()
    {
        using var receiver = Receiver(out var path);
        using var sink = new SyslogSink(path);

        sink.Emit(Event(LogEventLevel.Information, "Client {Client} started dump {Dir}", "192.0.2.7", "/var/crash/x"));

        var line = Receive(receiver);
        Assert.Matches(new Regex(@"^<30>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d netdump-server\[\d+\]: "), line);
        Assert.EndsWith($"netdump-server[{Environment.ProcessId}]: Client 192.0.2.7 started dump /var/crash/x", line);
    }

    [Theory]
    [InlineData(LogEventLevel.Debug, 31)]
    [InlineData(LogEventLevel.Information, 30)]
    [InlineData(LogEventLevel.Warning, 28)]
    [InlineData(LogEventLevel.Error, 27)]
    [InlineData(LogEventLevel.Fatal, 26)]
    public void Syslog_sink_should_take_the_severity_from_the_level(LogEventLevel level, int priority)
    {
        using var receiver = Receiver(out var path);
        using var sink = new SyslogSink(path);

        sink.Emit(Event(level, "x"));

        Assert.StartsWith($"<{priority}>", Receive(receiver));
    }

    [Fact]
    public void Syslog_sink_should_append_the_exception()
    {
        using var receiver = Receiver(out var path);
        using var sink = new SyslogSink(path);
        var logEvent = new LogEvent(DateTimeOffset.Now, LogEventLevel.Error, new InvalidOperationException("boom"), Template("failed"), []);

        sink.Emit(logEvent);

        Assert.Contains("]: failed: System.InvalidOperationException: boom", Receive(receiver));
    }

    [Fact]
    public void Syslog_sink_should_drop_events_silently_without_a_syslog_socket()
    {
        using var sink = new SyslogSink(_dir.Combine("no-such-socket"));

        sink.Emit(Event(LogEventLevel.Warning, "nobody listens"));
        sink.Emit(Event(LogEventLevel.Warning, "still nobody"));
    }

    [Fact]
    public void Logging_should_write_the_log_file_when_configured()
    {
        var file = _dir.Combine("netdump.log");
        var settings = Settings($"netdump.log_file = \"{file}\"");

        using (var log = NetdumpLogging.Create(settings, console: false, syslog: false))
        {
            log.Logger.Information("Listening on {Endpoint}", "127.0.0.1:20023");
        }

        Assert.Matches(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[INF\] Listening on 127\.0\.0\.1:20023\n$"), File.ReadAllText(file));
    }

    [Fact]
    public void Logging_should_go_on_writing_a_log_file_past_1_GiB()
    {
        // Serilog's file sink stops at 1 GB unless told otherwise, and says so only to its SelfLog:
        // rotating the log is logrotate's (SIGHUP reopens it), not a reason to drop lines
        var file = _dir.Combine("netdump.log");
        using (var big = File.Create(file))
        {
            big.SetLength(1L << 30); // sparse: no room taken
        }

        using (var log = NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: false))
        {
            log.Logger.Information("past a gibibyte");
        }

        Assert.True(new FileInfo(file).Length > 1L << 30, "the line was appended");
    }

    [Fact]
    public void Logging_should_go_on_in_a_new_file_after_logrotate_moved_it_and_SIGHUP_reopened_it()
    {
        var file = _dir.Combine("netdump.log");
        var rotated = _dir.Combine("netdump.log.1");
        using (var log = NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: false))
        {
            log.Logger.Information("before");
            File.Move(file, rotated);
            log.Logger.Information("after the move");

            log.OnHangup();
            log.Logger.Information("after SIGHUP");
        }

        Assert.Equal(["before", "after the move"], Messages(rotated));
        Assert.Equal([$"SIGHUP: reopened log file {file}", "after SIGHUP"], Messages(file));
    }

    [Fact]
    public void Logging_should_keep_the_old_file_when_SIGHUP_cannot_reopen_it()
    {
        var folder = _dir.Combine("logs");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "netdump.log");
        var moved = _dir.Combine("moved");
        using (var log = NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: false))
        {
            log.Logger.Information("before");
            Directory.Move(folder, moved);

            log.OnHangup();
            log.Logger.Information("still here");
        }

        var lines = Messages(Path.Combine(moved, "netdump.log"));
        Assert.Equal("before", lines[0]);
        Assert.StartsWith($"SIGHUP: cannot open log file {file}: ", lines[1]);
        Assert.EndsWith("; still logging to the file opened before", lines[1]);
        Assert.Equal("still here", lines[2]);
    }

    [Fact]
    public void Logging_should_say_what_SIGHUP_does_without_a_log_file()
    {
        using var receiver = Receiver(out var path);
        using var log = NetdumpLogging.Create(Settings(""), console: false, syslog: true, syslogPath: path);

        log.OnHangup();

        Assert.EndsWith("]: SIGHUP: no log_file to reopen; settings are read only at start (restart to change them)", Receive(receiver));
    }

    [Fact]
    public void Logging_should_send_to_syslog_in_daemon_mode()
    {
        using var receiver = Receiver(out var path);

        using (var log = NetdumpLogging.Create(Settings(""), console: false, syslog: true, syslogPath: path))
        {
            log.Logger.Warning("Refused client {Client}", "192.0.2.9");
        }

        Assert.EndsWith("]: Refused client 192.0.2.9", Receive(receiver));
    }

    [Fact]
    public void Logging_should_refuse_a_log_file_it_cannot_open()
    {
        var file = _dir.Combine("missing", "netdump.log");

        var error = Assert.Throws<IOException>(() => NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: false));

        Assert.StartsWith($"cannot open log file {file}", error.Message);
    }

    [Fact]
    public void Logging_should_refuse_a_daemon_log_that_would_go_nowhere()
    {
        // issue 18: --daemon without /dev/log and without log_file logged nothing, silently
        var missing = _dir.Combine("no-such-socket");

        var error = Assert.Throws<IOException>(() => NetdumpLogging.Create(Settings(""), console: false, syslog: true, syslogPath: missing));

        Assert.Equal(
            $"no log for the daemon: no syslog at {missing} (no such socket) and no log_file; set log_file in netdump.conf, or start syslog",
            error.Message);
    }

    [Fact]
    public void Logging_should_start_a_daemon_without_syslog_when_it_has_a_log_file()
    {
        var file = _dir.Combine("netdump.log");

        using (var log = NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: true, syslogPath: _dir.Combine("no-such-socket")))
        {
            log.Logger.Information("Listening");
        }

        Assert.Equal(["Listening"], Messages(file));
    }

    [Fact]
    public void Logging_should_leave_out_the_hosts_and_akkas_start_and_stop_boilerplate_but_not_their_warnings()
    {
        var file = _dir.Combine("netdump.log");

        using (var log = NetdumpLogging.Create(Settings($"netdump.log_file = \"{file}\""), console: false, syslog: false))
        {
            var lifetime = log.Logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "Microsoft.Hosting.Lifetime");
            var shutdown = log.Logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "Akka.Actor.CoordinatedShutdown");
            lifetime.Information("Hosting environment: {EnvironmentName}", "Production");
            shutdown.Information("CoordinatedShutdown invoked due to [Reason:{Reason}]", "ClrExitReason");
            lifetime.Warning("lifetime warning");
            shutdown.Warning("shutdown warning");
            log.Logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "Netdump.Actors.UdpListenerActor").Information("Listening");
        }

        Assert.Equal(["lifetime warning", "shutdown warning", "Listening"], Messages(file));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The messages of a log file, without their time stamp and level.</summary>
    private static string[] Messages(string file) =>
        File.ReadAllLines(file).Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]).ToArray();

    private static NetdumpSettings Settings(string hocon) =>
        NetdumpSettings.Create(ConfigurationFactory.ParseString(hocon).WithFallback(NetdumpSettings.BuiltInConfig()));

    private static MessageTemplate Template(string text) => new MessageTemplateParser().Parse(text);

    private static LogEvent Event(LogEventLevel level, string template, params string[] values)
    {
        var parsed = Template(template);
        var names = parsed.Tokens.OfType<PropertyToken>().Select(t => t.PropertyName).ToArray();
        var properties = names.Zip(values, (n, v) => new LogEventProperty(n, new ScalarValue(v)));
        return new LogEvent(DateTimeOffset.Now, level, null, parsed, properties);
    }

    private Socket Receiver(out string path)
    {
        path = _dir.Combine("log");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.ReceiveTimeout = 5000;
        return socket;
    }

    private static string Receive(Socket socket)
    {
        var buffer = new byte[65536];
        var length = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
