using Akka.Event;
using Microsoft.Extensions.Hosting.Systemd;

namespace Netdump.App.Hosting;

/// <summary>
/// A start-up scan that goes on says so, at its start and every <see cref="Every"/>: a daemon
/// tells its launcher, and under systemd (Type=notify) the server asks for more time
/// (EXTEND_TIMEOUT_USEC). Both wait a fixed time for a server to be ready (30 s, and
/// TimeoutStartSec's 90 s), and a large dump directory takes longer to scan (27 s for 100,000
/// dumps on a warm cache, minutes on a cold disk): killed for it, and restarted by the unit's
/// Restart=on-failure, the server would never start while its clients crash. A failure to tell
/// (an unreachable NOTIFY_SOCKET) is one warning: it must not stop the start nor skip a dump.
/// </summary>
internal sealed class StartupHeartbeat
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    /// <summary>How much longer systemd is asked to wait at each beat: several beats.</summary>
    private static readonly TimeSpan Extension = TimeSpan.FromSeconds(30);

    private readonly ILoggingAdapter _log;
    private Action? _tell;
    private long _toldAt;

    private StartupHeartbeat(Action? tell, ILoggingAdapter log) => (_tell, _log) = (tell, log);

    /// <summary>Beats for a daemon's launcher (<paramref name="launcher"/>) and for <paramref name="systemd"/>, where each listens.</summary>
    public static StartupHeartbeat For(ISystemdNotifier? systemd, Action? launcher, ILoggingAdapter log)
    {
        if (systemd is not { IsEnabled: true })
        {
            return new StartupHeartbeat(launcher, log);
        }

        var extend = new ServiceState($"EXTEND_TIMEOUT_USEC={(long)Extension.TotalMicroseconds}");
        return new StartupHeartbeat(() =>
        {
            launcher?.Invoke();
            systemd.Notify(extend);
        }, log);
    }

    /// <summary>The scan starts: says so at once.</summary>
    public void Start() => Tell();

    /// <summary>The scan goes on: says so when <see cref="Every"/> has passed since the last time.</summary>
    public void Beat()
    {
        if (_tell is not null && System.Diagnostics.Stopwatch.GetElapsedTime(_toldAt) >= Every)
        {
            Tell();
        }
    }

    private void Tell()
    {
        _toldAt = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            _tell?.Invoke();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            _tell = null;
            _log.Warning("Start-up scan: cannot say that the start goes on ({Error}); a launcher or systemd may give up waiting", e.Message);
        }
    }
}
