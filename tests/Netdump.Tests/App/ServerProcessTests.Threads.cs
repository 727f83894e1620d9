using System.Globalization;
using Netdump.App.Daemon;

namespace Netdump.Tests.App;

/// <summary>
/// What a fresh server prepares for a crash storm at start, read from outside in /proc: its
/// descriptor table grown, and its threads' scheduling policy (<c>cpu_scheduling</c>).
/// </summary>
public sealed partial class ServerProcessTests
{
    /// <summary>
    /// The descriptor table grown at start to what a storm at the concurrency limit may hold
    /// (docs/operations.md, "Open files"), under an open files limit set with <c>prlimit</c>: a
    /// fresh process, whose table nothing else grew. Without it a fresh server's is 256.
    /// </summary>
    [Theory]
    [InlineData(8192, 1000, 4512, null)] // 512 + 4 x 1000
    [InlineData(600, 100, 600, "[WRN] The open files limit allows 600 descriptors; a storm of max_concurrent_dumps = 100 dumps may need 912 (raise the limit: ulimit -n, or LimitNOFILE= under systemd)")]
    public async Task Server_should_start_with_room_for_a_storm_at_its_concurrency_limit_or_say_the_open_files_limit_is_lower(
        int openFiles, int concurrent, int atLeast, string? warning)
    {
        using var server = ServerProcess.StartUnder(["prlimit", $"--nofile={openFiles}:{openFiles}"],
            "--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfPath, "--concurrent", $"{concurrent}");
        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);

        var size = int.Parse(File.ReadLines($"/proc/{server.Process.Id}/status").First(l => l.StartsWith("FDSize:", StringComparison.Ordinal))["FDSize:".Length..].Trim());
        Assert.True(size >= atLeast, $"FDSize {size}");
        var said = server.StdoutLines.Where(l => l.Contains("open files limit", StringComparison.Ordinal)).ToList();
        if (warning is null)
        {
            Assert.Empty(said);
        }
        else
        {
            Assert.EndsWith(warning, Assert.Single(said));
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
    }

    /// <summary>
    /// <c>cpu_scheduling</c> (docs/performance.md, "Batch scheduling"): every thread the running
    /// server has is SCHED_BATCH (3) by default, and keeps the policy it was started with (this
    /// test process's) when the key says normal. A fresh process: this test process's own threads
    /// say nothing of it. The runtime's diagnostics socket is bound after the server executed
    /// itself again (the first runtime's file was in the new one's way).
    /// </summary>
    [Theory]
    [InlineData("", 3)]
    [InlineData("cpu_scheduling = normal\n", null)]
    public async Task Server_should_schedule_every_thread_as_batch_unless_the_conf_says_normal(string conf, int? policy)
    {
        var expected = policy ?? ThreadPolicies(Environment.ProcessId).Single(t => t.Tid == Environment.ProcessId).Policy;
        File.WriteAllText(ConfPath, conf);
        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", ConfPath);
        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);

        var policies = ThreadPolicies(server.Process.Id);
        Assert.True(policies.Count > 10, $"{policies.Count} threads");
        Assert.All(policies, p => Assert.True(p.Policy == expected, $"thread {p.Name}: policy {p.Policy}"));
        Assert.DoesNotContain(server.StdoutLines, l => l.Contains("cpu_scheduling", StringComparison.Ordinal));
        Assert.Contains(File.ReadLines("/proc/net/unix"), l => l.Contains($"/dotnet-diagnostic-{server.Process.Id}-", StringComparison.Ordinal));

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
    }

    /// <summary>
    /// A conf file that is a pipe is read once: the server does not execute itself again (it
    /// would find the pipe empty and run on the defaults), and says so.
    /// </summary>
    [Fact]
    public async Task Server_should_stay_as_started_and_say_why_when_its_conf_file_is_a_pipe()
    {
        var fifo = _dir.Combine("netdump.fifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var started = ThreadPolicies(Environment.ProcessId).Single(t => t.Tid == Environment.ProcessId).Policy;
        using var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", DumpDir, "--config", fifo);
        // opening a FIFO to write waits for its reader: on a thread of its own, and given up (by
        // opening the reading end here, which lets it go) when the server never reads it
        var written = Task.Run(() => File.WriteAllText(fifo, "max_concurrent_dumps = 3\n"));
        try
        {
            await written.WaitAsync(RunTimeout);
        }
        catch (TimeoutException)
        {
            using (File.OpenHandle(fifo, FileMode.Open, FileAccess.Read))
            {
                await written;
            }

            throw;
        }
        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);

        Assert.All(ThreadPolicies(server.Process.Id), p => Assert.True(p.Policy == started, $"thread {p.Name}: policy {p.Policy}"));
        if (started == 0)
        {
            Assert.Contains(server.StdoutLines, l => l.EndsWith(
                $"[WRN] cpu_scheduling = batch not applied (the conf file {fifo} is not a regular file, and it could not be read again); the threads keep the policy they started with (cpu_scheduling = normal runs so without this warning)",
                StringComparison.Ordinal));
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(RunTimeout));
    }

    /// <summary>Each thread's id, name and scheduling policy (the 41st field of /proc/PID/task/TID/stat).</summary>
    private static List<(int Tid, string Name, int Policy)> ThreadPolicies(int pid)
    {
        var threads = new List<(int, string, int)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = ProcStat.Read(Path.Combine(task, "stat"));
                threads.Add((int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture), stat.Name, (int)stat.Number(41)));
            }
            catch (IOException)
            {
                // the thread ended since it was listed
            }
        }

        return threads;
    }
}
