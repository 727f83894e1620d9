using System.Diagnostics;
using System.Reflection;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Netdump.App.Daemon;

/// <summary>
/// <c>--daemon</c> without fork(2), which .NET cannot do safely: the launcher re-executes this
/// same program with <see cref="ChildMarker"/> set, stdin closed and stdout and stderr on pipes,
/// and waits for the child's one status line: <see cref="ReadyLine"/> once the listener is bound,
/// or <see cref="ErrorPrefix"/> and the reason. The child (<see cref="IsDaemonChild"/>) starts a
/// new session with no controlling terminal (<see cref="Detach"/>), and after reporting points its
/// stdout and stderr at /dev/null, so nothing it writes later can fail on the closed pipe.
/// </summary>
public static class Daemonizer
{
    /// <summary>The environment variable that tells the re-executed program it is the daemon.</summary>
    public const string ChildMarker = "NETDUMP_DAEMON_CHILD";

    public const string ReadyLine = "READY";

    /// <summary>The daemon's line while its start-up scan goes on (<see cref="ReportStarting"/>).</summary>
    public const string StartingLine = "STARTING";
    public const string ErrorPrefix = "ERROR ";

    /// <summary>How long the launcher waits for the daemon to bind its socket.</summary>
    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(5);
    private static int _reported;

    /// <summary>True in the re-executed daemon process.</summary>
    public static bool IsDaemonChild => Environment.GetEnvironmentVariable(ChildMarker) == "1";

    /// <summary>
    /// Whether this process should launch a daemon and wait for it: <c>daemon</c> is set, this is
    /// not the daemon already, and systemd is not the parent (systemd does the detaching itself,
    /// and a forking child would confuse its Type=notify tracking).
    /// </summary>
    public static bool ShouldLaunch(bool daemonSetting) => daemonSetting && !IsDaemonChild && !UnderSystemd;

    /// <summary>True when systemd started this process (a <c>daemon</c> setting is then ignored).</summary>
    public static bool UnderSystemd => Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService();

    /// <summary>
    /// How to run this program again: the executable, and when that is the <c>dotnet</c> host, the
    /// entry assembly in front of the arguments.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Prefix) SelfCommand()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this program is unknown");
        var entry = Assembly.GetEntryAssembly()?.Location;
        var underDotnet = Path.GetFileNameWithoutExtension(processPath) == "dotnet";
        return underDotnet && !string.IsNullOrEmpty(entry) ? (processPath, [entry]) : (processPath, []);
    }

    /// <summary>The arguments this process was started with, program name left off.</summary>
    public static IReadOnlyList<string> OwnArguments() => Environment.GetCommandLineArgs().Skip(1).ToArray();

    /// <summary>
    /// The launcher's side: starts the daemon with <paramref name="arguments"/> and waits up to
    /// <paramref name="readyTimeout"/> for its status line. A daemon that reports an error, exits or
    /// stays silent yields <see cref="Launch.Error"/> (a silent one is killed).
    /// </summary>
    public static async Task<Launch> LaunchAsync(IReadOnlyList<string> arguments, TimeSpan readyTimeout)
    {
        var (fileName, prefix) = SelfCommand();
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in prefix.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[ChildMarker] = "1";

        using var child = Process.Start(start) ?? throw new IOException("cannot start the daemon process");
        child.StandardInput.Close();
        var errors = child.StandardError.ReadToEndAsync();
        try
        {
            switch (await ReadStatusAsync(child.StandardOutput, readyTimeout))
            {
                case Status.Ready:
                    return new Launch(null);
                case Status.Failed failed:
                    await WaitForExit(child);
                    return new Launch(failed.Why);
            }
        }
        catch (OperationCanceledException)
        {
            try
            {
                child.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited just now.
            }

            await WaitForExit(child);
            return new Launch($"the daemon said nothing for {readyTimeout.TotalSeconds:0} s and was not listening; stopped it");
        }

        // The pipe closed without a status line: the child died (a crash, or an error written
        // to stderr the ordinary way). Its last stderr line is the best reason there is.
        var exited = await WaitForExit(child);
        string stderr;
        try
        {
            stderr = await errors.WaitAsync(ExitGrace);
        }
        catch (TimeoutException)
        {
            stderr = "";
        }

        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        const string ownPrefix = "netdump-server: ";
        var reason = last is null
            ? $"the daemon exited{(exited ? $" with status {child.ExitCode}" : "")} before it was listening"
            : last.StartsWith(ownPrefix, StringComparison.Ordinal) ? last[ownPrefix.Length..] : last;
        return new Launch(reason);
    }

    /// <summary>
    /// The daemon's first step: a new session (so no controlling terminal and no SIGHUP when the
    /// launcher's terminal goes), the root directory as working directory (so no mount is kept
    /// busy; paths are already absolute in the settings), stdin from /dev/null.
    /// </summary>
    public static void Detach()
    {
        if (Posix.SetSid() < 0)
        {
            throw Posix.LastError("setsid");
        }

        if (Posix.ChDir("/") < 0)
        {
            throw Posix.LastError("chdir /");
        }

        var devNull = OpenDevNull();
        try
        {
            if (Posix.Dup2(devNull, 0) < 0)
            {
                throw Posix.LastError("dup2 /dev/null over stdin");
            }
        }
        finally
        {
            _ = Posix.Close(devNull);
        }
    }

    /// <summary>What the daemon's status lines said: <see cref="Ready"/>, <see cref="Failed"/> with why, or nothing before they <see cref="Ended"/>.</summary>
    internal abstract record Status
    {
        public sealed record Ready : Status;

        public sealed record Failed(string Why) : Status;

        public sealed record Ended : Status;
    }

    /// <summary>
    /// Reads the daemon's status lines until <see cref="ReadyLine"/> or an error. Each
    /// <see cref="StartingLine"/> (the start-up scan still going) gives the daemon
    /// <paramref name="readyTimeout"/> more: a large dump directory takes longer than that to scan
    /// (27 s for 100,000 dumps on a warm cache, docs/performance.md), and a daemon killed for it
    /// would never start. Throws <see cref="OperationCanceledException"/> after
    /// <paramref name="readyTimeout"/> without a line.
    /// </summary>
    internal static async Task<Status> ReadStatusAsync(TextReader lines, TimeSpan readyTimeout)
    {
        using var timeout = new CancellationTokenSource(readyTimeout);
        while (await lines.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == ReadyLine)
            {
                return new Status.Ready();
            }

            if (line == StartingLine)
            {
                timeout.CancelAfter(readyTimeout);
            }
            else if (line.StartsWith(ErrorPrefix, StringComparison.Ordinal))
            {
                return new Status.Failed(line[ErrorPrefix.Length..]);
            }
        }

        return new Status.Ended();
    }

    /// <summary>
    /// The daemon is still starting (its start-up scan goes on): tells the launcher, which then
    /// waits longer. Nothing once the daemon has reported ready or an error (its stdout is
    /// /dev/null then).
    /// </summary>
    public static void ReportStarting()
    {
        if (Volatile.Read(ref _reported) != 0)
        {
            return;
        }

        Console.Out.WriteLine(StartingLine);
        Console.Out.Flush();
    }

    /// <summary>The daemon is listening: tells the launcher and lets go of stdout and stderr.</summary>
    public static void ReportReady() => Report(ReadyLine);

    /// <summary>The daemon could not start: tells the launcher why (one line) and lets go of stdout and stderr.</summary>
    public static void ReportError(string message) =>
        Report(ErrorPrefix + message.ReplaceLineEndings(" "));

    /// <summary>
    /// Writes the status line through a duplicate of stdout after stdout and stderr already point at
    /// /dev/null: once the launcher has its line, no later write of ours can reach the pipe. Only
    /// the first report counts; a launcher that is gone already is not an error.
    /// </summary>
    private static void Report(string line)
    {
        if (Interlocked.Exchange(ref _reported, 1) != 0)
        {
            return;
        }

        Console.Out.Flush();
        Console.Error.Flush();
        var status = Posix.Dup(1);
        var devNull = OpenDevNull();
        try
        {
            if (Posix.Dup2(devNull, 1) < 0 || Posix.Dup2(devNull, 2) < 0)
            {
                throw Posix.LastError("dup2 /dev/null over stdout and stderr");
            }
        }
        finally
        {
            _ = Posix.Close(devNull);
        }

        if (status < 0)
        {
            return;
        }

        try
        {
            using var pipe = new FileStream(new SafeFileHandle(status, ownsHandle: true), FileAccess.Write, bufferSize: 0);
            pipe.Write(Encoding.UTF8.GetBytes(line + "\n"));
        }
        catch (IOException)
        {
            // The launcher was interrupted and is gone; the daemon runs on regardless.
        }
    }

    private static int OpenDevNull()
    {
        var fd = Posix.Open("/dev/null", Posix.ORdWr | Posix.OCloExec);
        return fd >= 0 ? fd : throw Posix.LastError("open /dev/null");
    }

    private static async Task<bool> WaitForExit(Process child)
    {
        using var grace = new CancellationTokenSource(ExitGrace);
        try
        {
            await child.WaitForExitAsync(grace.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>What became of a launch: the reason when the daemon is not running, null when it listens.</summary>
    public sealed record Launch(string? Error)
    {
        public bool Ready => Error is null;
    }
}
