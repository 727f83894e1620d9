using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Netdump.Tests.App;

/// <summary>
/// One run of the real executable (<c>dotnet netdump-server.dll</c>, copied next to the test
/// assembly by the project reference), its stdout and stderr collected line by line. Disposing
/// kills it if it still runs.
/// </summary>
internal sealed partial class ServerProcess : IDisposable
{
    private const int SIGTERM = 15;

    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string? _cacheHome;

    private ServerProcess(Process process) => Process = process;

    public Process Process { get; }

    public IReadOnlyList<string> StdoutLines => _stdout.ToArray();

    public IReadOnlyList<string> StderrLines => _stderr.ToArray();

    public string Stdout => string.Join("\n", _stdout);

    public string Stderr => string.Join("\n", _stderr);

    public static ServerProcess Start(params string[] arguments) => Start(signals: [], arguments);

    /// <param name="signals">
    /// options of coreutils' <c>env</c> that set signal dispositions before it execs the server
    /// (<c>--ignore-signal=HUP</c>, as <c>nohup</c> hands it over; <c>--default-signal=HUP</c>,
    /// whatever this test run inherited); none: the server is started directly
    /// </param>
    public static ServerProcess Start(IReadOnlyList<string> signals, params string[] arguments) =>
        StartUnder(signals.Count > 0 ? ["env", .. signals] : [], arguments);

    /// <param name="wrapper">
    /// a command that execs the server with what follows it (<c>env --ignore-signal=HUP</c>;
    /// <c>setpriv --bounding-set=-net_bind_service</c>, root without the right to bind ports
    /// below 1024); none: the server is started directly
    /// </param>
    public static ServerProcess StartUnder(IReadOnlyList<string> wrapper, params string[] arguments)
    {
        var start = new ProcessStartInfo(wrapper.Count > 0 ? wrapper[0] : DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (wrapper.Count > 0)
        {
            foreach (var option in wrapper.Skip(1))
            {
                start.ArgumentList.Add(option);
            }

            start.ArgumentList.Add(DotnetHost());
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "netdump-server.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (Array.IndexOf(arguments, "--port") is >= 0 and var at && at + 1 < arguments.Length && !arguments.Contains("--linux-port"))
        {
            // servers under test run side by side: none takes the machine's 6666 unless asked
            start.ArgumentList.Add("--linux-port");
            start.ArgumentList.Add("0");
        }

        if (Array.IndexOf(arguments, "--port") is >= 0 and var portAt && portAt + 1 < arguments.Length && !arguments.Contains("--http"))
        {
            // nor the machine's HTTP port 20080
            start.ArgumentList.Add("--http");
            start.ArgumentList.Add("off");
        }

        // never the re-executed daemon, whatever the test runner's environment says
        start.Environment.Remove("NETDUMP_DAEMON_CHILD");
        // cache_dir = auto: each server under test starts as on a fresh machine, its start-up
        // profile in a folder of its own (removed with it), never in /var/cache or ~/.cache
        var cacheHome = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"netdump-tests-cache-{Guid.NewGuid():N}")).FullName;
        start.Environment.Remove("CACHE_DIRECTORY");
        start.Environment["XDG_CACHE_HOME"] = cacheHome;
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process) { _cacheHome = cacheHome };
        process.OutputDataReceived += (_, e) => Collect(e.Data, server._stdout, server._stdoutClosed);
        process.ErrorDataReceived += (_, e) => Collect(e.Data, server._stderr, server._stderrClosed);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Runs to the end (bounded) and returns the exit status with all output read.</summary>
    public static Task<ServerProcess> RunAsync(TimeSpan timeout, params string[] arguments) => RunUnderAsync(timeout, [], arguments);

    /// <summary>Runs under <paramref name="wrapper"/> (<see cref="StartUnder"/>) to the end (bounded) and returns the exit status with all output read.</summary>
    public static async Task<ServerProcess> RunUnderAsync(TimeSpan timeout, IReadOnlyList<string> wrapper, params string[] arguments)
    {
        var server = StartUnder(wrapper, arguments);
        try
        {
            await server.WaitForExitAsync(timeout);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Waits (bounded) for a stdout line containing <paramref name="fragment"/>.</summary>
    public Task WaitForOutputAsync(string fragment, TimeSpan timeout) => WaitForLineAsync(_stdout, "stdout", fragment, timeout);

    /// <summary>Waits (bounded) for a stderr line containing <paramref name="fragment"/>.</summary>
    public Task WaitForStderrAsync(string fragment, TimeSpan timeout) => WaitForLineAsync(_stderr, "stderr", fragment, timeout);

    private async Task WaitForLineAsync(IEnumerable<string> lines, string stream, string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!lines.Any(l => l.Contains(fragment, StringComparison.Ordinal)))
        {
            if (Process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no \"{fragment}\" on {stream} (exited: {Process.HasExited}); stdout:\n{Stdout}\nstderr:\n{Stderr}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The exit status, once the process has exited and its output is all read.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cancel.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still running after {timeout}; stdout:\n{Stdout}\nstderr:\n{Stderr}");
        }

        return Process.ExitCode;
    }

    /// <summary>SIGTERM, as an init system or <c>kill</c> sends it (Process.Kill would send SIGKILL).</summary>
    public void Terminate()
    {
        if (Kill(Process.Id, SIGTERM) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {Process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // never started, or gone already
        }

        Process.Dispose();
        try
        {
            Directory.Delete(_cacheHome!, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a daemon this server launched may still be writing its profile there: the temp path keeps it
        }
    }

    private static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }

        var own = Environment.ProcessPath;
        return own is not null && Path.GetFileNameWithoutExtension(own) == "dotnet" ? own : "dotnet";
    }

    private static void Collect(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
        }
        else
        {
            lines.Enqueue(line);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
