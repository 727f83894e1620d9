using Netdump.Actors.Scheduling;
using Netdump.Actors.Storage;
using Netdump.App.Daemon;

namespace Netdump.App.Hosting;

/// <summary>
/// <c>cpu_scheduling = batch</c>: every thread of the server <c>SCHED_BATCH</c>, so that Linux
/// never lets a thread the server wakes take the CPU from the thread that woke it (no wake-up
/// preemption); the woken one runs on an idle core, or when the waker blocks or its turn ends. A
/// dump is a chain of hand-offs between threads (the HERALD's thread, the actors' pool, a disk
/// thread, a pump, and back), and each hand-off to a normal thread switched the CPU at once, to
/// switch back microseconds later (docs/performance.md, "Batch scheduling").
/// <para>
/// Set before the runtime starts, or not at all: .NET gives each thread it starts the policy glibc
/// remembers for the thread that starts it, and glibc remembers what the thread had when it
/// first asked, not a later change. A process changed while running goes on starting normal
/// threads (its HERALD thread, its pumps, the pool's new workers). So the main thread is made
/// batch and the program executes itself again, the same command line in the same process
/// (its pid, descriptors and environment kept): the new runtime starts batch, and so does every
/// thread it makes. Nice values are kept (the background lane's stay lowest); scripts' processes
/// inherit the policy. Only a normal (SCHED_OTHER) server is changed: any other policy was chosen
/// by whoever started it (<c>chrt</c>, systemd's <c>CPUSchedulingPolicy=</c>) and stays, and
/// SCHED_OTHER to SCHED_BATCH needs no privilege. Not done when the conf file is not a regular
/// file (a pipe is read once, and the program run again would find it empty).
/// </para>
/// </summary>
public static class BatchScheduling
{
    private const int SchedOther = 0;
    private const int SchedBatch = 3;
    private const int SchedResetOnFork = 0x40000000;

    /// <summary>What <see cref="Enter"/> found, when it returns (an exec that works does not).</summary>
    public abstract record Outcome
    {
        private Outcome() { }

        /// <summary>Nothing to do: the conf asks for <c>normal</c>, or this process runs batch already, or under a policy its starter chose (or not on Linux).</summary>
        public sealed record AsStarted : Outcome;

        /// <summary>The process keeps the normal policy: <paramref name="Why"/> a step failed or could not be taken.</summary>
        public sealed record NotApplied(string Why) : Outcome;
    }

    /// <summary>
    /// With <paramref name="wanted"/> batch, makes a normal process batch and executes the
    /// program again, and then does not return; otherwise says why not. <paramref name="configFile"/>
    /// is the conf file read, if any.
    /// </summary>
    public static Outcome Enter(CpuScheduling wanted, string? configFile)
    {
        if (wanted == CpuScheduling.Normal || !OperatingSystem.IsLinux())
        {
            return new Outcome.AsStarted(); // the server runs on Linux only (its ingest, its descriptors, its daemon)
        }

        var policy = Posix.SchedGetScheduler(0);
        if (policy < 0)
        {
            return new Outcome.NotApplied(Posix.LastError("sched_getscheduler").Message);
        }

        if ((policy & ~SchedResetOnFork) != SchedOther)
        {
            return new Outcome.AsStarted();
        }

        if (configFile is not null && !IsRegularFile(configFile))
        {
            return new Outcome.NotApplied($"the conf file {configFile} is not a regular file, and it could not be read again");
        }

        byte[] commandLine;
        string diagnosticsSocket;
        try
        {
            commandLine = File.ReadAllBytes("/proc/self/cmdline");
            diagnosticsSocket = DiagnosticsSocket();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return new Outcome.NotApplied(e.Message);
        }

        if (!SetPolicy(SchedBatch, out var why))
        {
            return new Outcome.NotApplied(why);
        }

        // a policy that did not take (a sandbox that answers yes) would have the new program
        // execute itself again, and again
        if (Posix.SchedGetScheduler(0) is var now && now != SchedBatch)
        {
            return new Outcome.NotApplied($"the policy is {now} after sched_setscheduler, not batch");
        }

        // the new runtime names its diagnostics socket as this one did (the pid and the process's
        // start time stay), and binds it without removing it first: dotnet-counters, -trace and
        // -dump could not attach to a server started normally
        File.Delete(diagnosticsSocket);
        var failure = Exec(commandLine);
        return new Outcome.NotApplied(SetPolicy(SchedOther, out var restore) ? failure : $"{failure}; the policy stays batch ({restore})");
    }

    /// <summary>Whether the conf file, its links followed, is a regular file (<see cref="RegularFile.Is"/>).</summary>
    private static bool IsRegularFile(string path)
    {
        try
        {
            return RegularFile.Is(new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The runtime's diagnostics socket: <c>dotnet-diagnostic-{pid}-{start time in ticks}-socket</c> in the runtime's temporary directory ($TMPDIR, else /tmp).</summary>
    private static string DiagnosticsSocket() =>
        Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-{ProcStat.Read("/proc/self/stat").Number(22)}-socket");

    private static unsafe bool SetPolicy(int policy, out string why)
    {
        // struct sched_param is one int: the static priority, 0 for the normal policies
        var priority = 0;
        if (Posix.SchedSetScheduler(0, policy, &priority) == 0)
        {
            why = "";
            return true;
        }

        why = Posix.LastError("sched_setscheduler").Message;
        return false;
    }

    /// <summary>Runs /proc/self/exe with the arguments in <paramref name="commandLine"/> (as /proc/self/cmdline holds them).</summary>
    private static unsafe string Exec(byte[] commandLine)
    {
        // argv points into one copy of the bytes, each argument ended by its NUL
        byte[] arguments = commandLine is [.., 0] ? commandLine : [.. commandLine, 0];
        var starts = ArgumentStarts(arguments);
        var argv = new nint[starts.Count + 1];
        fixed (byte* first = arguments)
        fixed (nint* pointers = argv)
        {
            for (var i = 0; i < starts.Count; i++)
            {
                pointers[i] = (nint)(first + starts[i]);
            }

            Posix.ExecV("/proc/self/exe", pointers);
        }

        return Posix.LastError("exec /proc/self/exe").Message;
    }

    /// <summary>
    /// Where each argument starts in /proc/self/cmdline's bytes, where each ends with a NUL. Kept
    /// as bytes, so that an argument that is not UTF-8 reaches the new program unchanged, and an
    /// empty one stays.
    /// </summary>
    internal static List<int> ArgumentStarts(ReadOnlySpan<byte> commandLine)
    {
        var starts = new List<int>();
        for (var start = 0; start < commandLine.Length;)
        {
            starts.Add(start);
            var length = commandLine[start..].IndexOf((byte)0);
            start = length < 0 ? commandLine.Length : start + length + 1; // no final NUL: the last argument all the same
        }

        return starts;
    }
}
