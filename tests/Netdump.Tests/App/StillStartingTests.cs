using System.Threading.Channels;
using Netdump.App.Configuration;
using Netdump.App.Daemon;
using Netdump.App.Hosting;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// A start-up scan longer than the time a daemon's launcher (or systemd) waits for the server to
/// be ready must not get the server killed: the scan says it goes on, and the wait is extended.
/// </summary>
public sealed class StillStartingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_launcher_waits_as_long_as_the_daemon_says_it_is_still_starting()
    {
        var lines = new Lines();
        var timeout = TimeSpan.FromSeconds(2);
        var status = Daemonizer.ReadStatusAsync(lines, timeout);

        // three times the timeout in all, never more than an eighth of it between two lines
        for (var i = 0; i < 24; i++)
        {
            await Task.Delay(timeout / 8);
            lines.Say(Daemonizer.StartingLine);
        }

        lines.Say(Daemonizer.ReadyLine);
        Assert.IsType<Daemonizer.Status.Ready>(await status);
    }

    [Fact]
    public async Task The_launcher_gives_up_on_a_daemon_that_says_nothing()
    {
        var lines = new Lines();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Daemonizer.ReadStatusAsync(lines, TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task The_start_up_scan_says_it_goes_on_before_the_ports_open()
    {
        var said = 0;
        await StartAndStop(() => Interlocked.Increment(ref said));

        Assert.Equal(1, Volatile.Read(ref said)); // at the scan's start; then every 5 s of a longer scan
    }

    [Fact]
    public async Task A_start_up_scan_that_cannot_say_it_goes_on_starts_the_server_all_the_same()
    {
        var tried = 0;
        await StartAndStop(() =>
        {
            Interlocked.Increment(ref tried);
            throw new IOException("Connection refused"); // as an unreachable NOTIFY_SOCKET
        });

        Assert.Equal(1, Volatile.Read(ref tried)); // and never again: it said why once
    }

    [Fact]
    public async Task A_scan_that_goes_on_says_so_again_once_five_seconds_have_passed_not_at_every_dump()
    {
        var said = 0;
        var heartbeat = StartupHeartbeat.For(systemd: null, () => Interlocked.Increment(ref said), Akka.Event.NoLogger.Instance);

        heartbeat.Start();
        heartbeat.Beat(); // the next dump, at once: nothing new to say
        Assert.Equal(1, said);

        await Task.Delay(TimeSpan.FromSeconds(5.2));
        heartbeat.Beat();
        heartbeat.Beat();
        Assert.Equal(2, said);
    }

    /// <summary>A server on an empty dump directory, started (its ports open) and stopped, telling <paramref name="starting"/>.</summary>
    private async Task StartAndStop(Action starting)
    {
        var dumpDir = _dir.Combine("crash");
        Directory.CreateDirectory(dumpDir);
        using var host = NetdumpHost.Build(OperatorConfig.BuildConfig(ServerHarness.LoopbackKeys(dumpDir)), starting: starting);

        await host.StartAsync();
        await NetdumpHost.ListenEndpointAsync(host, TimeSpan.FromSeconds(10));
        await host.StopAsync();
    }

    /// <summary>The daemon's status pipe, one line at a time as the test says them.</summary>
    private sealed class Lines : TextReader
    {
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

        public void Say(string line) => _lines.Writer.TryWrite(line);

        public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken) =>
            await _lines.Reader.WaitToReadAsync(cancellationToken) && _lines.Reader.TryRead(out var line) ? line : null;
    }
}
