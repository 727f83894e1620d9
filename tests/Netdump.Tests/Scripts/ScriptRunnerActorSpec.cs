using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;
using Xunit.Abstractions;

namespace Netdump.Tests.Scripts;

/// <summary>
/// The runner with real shell scripts in a temporary dump directory: what it answers, what the
/// scripts see, what reaches the log, and that a hung script and its children are killed.
/// </summary>
public sealed class ScriptRunnerActorSpec : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const string Client = "192.0.2.7";

    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2.5);

    private readonly ScriptFolder _folder = new();
    private readonly TestProbe _log;
    private readonly IActorRef _runner;

    public ScriptRunnerActorSpec(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        _log = CreateTestProbe();
        Sys.EventStream.Subscribe(_log.Ref, typeof(Info));
        Sys.EventStream.Subscribe(_log.Ref, typeof(Warning));
        _runner = Sys.ActorOf(ScriptRunnerActor.Props(_folder.DumpDirectory));
    }

    void IDisposable.Dispose()
    {
        _folder.Dispose();
        Dispose();
    }

    private static ScriptRunnerActor.Run Request(Script name, TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? environment = null) =>
        new(name, [Client, "/var/crash/192.0.2.7-2026-11-23-19:48"], environment ?? new Dictionary<string, string>(), timeout ?? Limit, Client);

    private ScriptResult RunScript(ScriptRunnerActor.Run run)
    {
        _runner.Tell(run, TestActor);
        var result = ExpectMsg<ScriptResult>(Answer);
        Assert.Equal(run.Name, result.Name);
        return result;
    }

    /// <summary>Waits for a log event of type <typeparamref name="T"/> whose text contains <paramref name="text"/>.</summary>
    private string ExpectLog<T>(string text) where T : LogEvent
    {
        var found = _log.FishForMessage<LogEvent>(e => e is T && e.Message.ToString()!.Contains(text, StringComparison.Ordinal), Answer);
        return found.Message.ToString()!;
    }

    /// <summary>
    /// The output lines of <paramref name="script"/> as logged (without their prefix), up to the
    /// runner's note that some output was cut, and that note.
    /// </summary>
    private (List<string> Lines, string Note) OutputUntilCutNote(string script)
    {
        var prefix = $"{script} [{Client}]: ";
        var lines = new List<string>();
        var note = _log.FishForMessage<LogEvent>(e =>
        {
            var text = e.Message.ToString()!;
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                lines.Add(text[prefix.Length..]);
                return false;
            }

            return text.StartsWith($"{script} for {Client}: output cut", StringComparison.Ordinal);
        }, Answer);
        return (lines, note.Message.ToString()!);
    }

    [Fact]
    public void A_script_that_exits_zero_is_answered_Exited_0()
    {
        _folder.Write(ScriptNames.Crash, "exit 0");

        var result = RunScript(Request(Script.Crash));

        Assert.Equal(ScriptOutcome.Exited, result.Outcome);
        Assert.Equal(0, result.ExitCode);
        Assert.True(result.ExitedZero);
    }

    [Fact]
    public void A_script_that_exits_3_is_answered_Exited_3_and_warned_about()
    {
        _folder.Write(ScriptNames.Nospace, "exit 3");

        var result = RunScript(Request(Script.Nospace));

        Assert.Equal(new ScriptResult(Script.Nospace, ScriptOutcome.Exited, 3, null), result);
        Assert.False(result.ExitedZero);
        ExpectLog<Warning>($"netdump-nospace for {Client} exited with code 3");
    }

    [Fact]
    public void A_script_gets_its_arguments_and_the_requested_environment_but_not_the_servers()
    {
        // Set in this process only: a runner that passed its own environment on would leak it.
        Environment.SetEnvironmentVariable("NETDUMP_TEST_SERVER_ONLY", "leaked");
        _folder.Write(ScriptNames.Reboot, """
            echo "$1 $2 $NETDUMP_CLIENT_IP $NETDUMP_STATUS" > seen
            echo "${NETDUMP_TEST_SERVER_ONLY-unset}|$PATH|$LANG|$#" >> seen
            echo "${HOME-unset}" >> seen
            """);
        var environment = new Dictionary<string, string> { ["NETDUMP_CLIENT_IP"] = Client, ["NETDUMP_STATUS"] = "complete" };

        var result = RunScript(Request(Script.Reboot, environment: environment));

        Assert.True(result.ExitedZero, result.ToString());
        // Written to a relative path: the working directory is the dump directory root.
        var seen = File.ReadAllLines(_folder.InDump("seen"));
        Assert.Equal($"{Client} /var/crash/192.0.2.7-2026-11-23-19:48 {Client} complete", seen[0]);
        Assert.Equal("unset|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|C.UTF-8|2", seen[1]);
        Assert.Equal(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), seen[2]);
    }

    [Fact]
    public void Output_lines_are_logged_stdout_at_Info_and_stderr_at_Warning()
    {
        _folder.Write(ScriptNames.Crash, """
            echo "paging the on-call engineer"
            echo "mail relay unreachable" >&2
            """);

        var result = RunScript(Request(Script.Crash));

        Assert.True(result.ExitedZero, result.ToString());
        // The two streams are read side by side, so the two lines may be logged in either order.
        var expected = new HashSet<(Type, string)>
        {
            (typeof(Info), $"netdump-crash [{Client}]: paging the on-call engineer"),
            (typeof(Warning), $"netdump-crash [{Client}]: mail relay unreachable"),
        };
        _log.FishForMessage<LogEvent>(e => expected.Remove((e.GetType(), e.Message.ToString()!)) && expected.Count == 0, Answer);
    }

    [Fact]
    public void Client_text_in_the_environment_reaches_the_script_as_one_clean_line()
    {
        // What a hostile client can put in its kernel dump header: line breaks that would forge
        // a log line when a script echoes them, and terminal escapes.
        _folder.Write(ScriptNames.Reboot, """printf '%s|%s\n' "$NETDUMP_HOSTNAME" "$NETDUMP_PANIC" > seen""");
        var environment = new Dictionary<string, string>
        {
            ["NETDUMP_HOSTNAME"] = "web7\n\u001b[31mroot",
            ["NETDUMP_PANIC"] = "page fault\r\n2026-11-23 19:34:41.153 [INF] Client 192.0.2.8: dump complete\u001b[0m\u0007",
        };

        var result = RunScript(Request(Script.Reboot, environment: environment));

        Assert.True(result.ExitedZero, result.ToString());
        Assert.Equal(
            "web7 [31mroot|page fault 2026-11-23 19:34:41.153 [INF] Client 192.0.2.8: dump complete [0m\n",
            File.ReadAllText(_folder.InDump("seen")));
    }

    [Fact]
    public void Script_output_is_cleaned_before_it_is_logged()
    {
        _folder.Write(ScriptNames.Crash, """printf 'red \033[31malert\033[0m\tand\rmore\n'""");

        var result = RunScript(Request(Script.Crash));

        Assert.True(result.ExitedZero, result.ToString());
        ExpectLog<Info>($"netdump-crash [{Client}]: red [31malert [0m and more");
    }

    [Fact]
    public void A_long_line_is_logged_cut_at_1_KiB_and_the_cut_is_reported()
    {
        _folder.Write(ScriptNames.Reboot, """
            head -c 1000000 /dev/zero | tr '\0' x
            echo
            echo after
            """);

        var result = RunScript(Request(Script.Reboot));

        Assert.True(result.ExitedZero, result.ToString());
        var (lines, note) = OutputUntilCutNote(ScriptNames.Reboot);
        Assert.Equal([new string('x', 1024), "after"], lines);
        // Printed: the long line, its newline and "after\n"; logged: 1024 bytes of it and "after".
        Assert.Equal(
            $"netdump-reboot for {Client}: output cut: 998976 of 1000007 bytes not logged (1 line cut to 1024 bytes, 0 lines past the limit of 1000 lines or 65536 bytes per run)",
            note);
    }

    [Fact]
    public void After_1000_lines_a_run_logs_no_more_and_says_how_much_it_dropped()
    {
        _folder.Write(ScriptNames.Crash, "seq 1 1500");

        var result = RunScript(Request(Script.Crash));

        Assert.True(result.ExitedZero, result.ToString());
        var (lines, note) = OutputUntilCutNote(ScriptNames.Crash);
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => i.ToString()), lines);
        var dropped = Enumerable.Range(1001, 500).Sum(i => i.ToString().Length + 1);
        Assert.Contains($"output cut: {dropped} of ", note);
        Assert.EndsWith("(0 lines cut to 1024 bytes, 500 lines past the limit of 1000 lines or 65536 bytes per run)", note);
    }

    [Fact]
    public void Stdout_and_stderr_share_the_64_KiB_a_run_may_log()
    {
        // 100 lines of 1000 bytes, half on each stream: 65 fit in 64 KiB, whichever stream they come from.
        _folder.Write(ScriptNames.Crash, """
            line=$(head -c 1000 /dev/zero | tr '\0' y)
            for i in $(seq 1 50); do echo "$line"; echo "$line" >&2; done
            """);

        var result = RunScript(Request(Script.Crash));

        Assert.True(result.ExitedZero, result.ToString());
        var (lines, note) = OutputUntilCutNote(ScriptNames.Crash);
        Assert.Equal(65, lines.Count);
        Assert.Equal($"netdump-crash for {Client}: output cut: {35 * 1001} of {100 * 1001} bytes not logged (0 lines cut to 1024 bytes, 35 lines past the limit of 1000 lines or 65536 bytes per run)", note);
    }

    [Fact]
    public void A_script_that_prints_without_end_is_still_killed_at_its_time_limit_and_logs_a_bounded_amount()
    {
        _folder.Write(ScriptNames.Crash, "yes");

        var result = RunScript(Request(Script.Crash, timeout: TimeSpan.FromMilliseconds(300)));

        Assert.Equal(ScriptOutcome.TimedOut, result.Outcome);
        var (lines, note) = OutputUntilCutNote(ScriptNames.Crash);
        Assert.Equal(1000, lines.Count);
        Assert.All(lines, line => Assert.Equal("y", line));
        Assert.Contains("lines past the limit of 1000 lines", note);
    }

    [Fact]
    public void A_script_that_reads_stdin_gets_EOF()
    {
        _folder.Write(ScriptNames.Crash, "cat > stdin-copy; echo done >> stdin-copy");

        var result = RunScript(Request(Script.Crash));

        Assert.True(result.ExitedZero, result.ToString());
        Assert.Equal("done\n", File.ReadAllText(_folder.InDump("stdin-copy")));
    }

    [Fact]
    public void A_hung_script_and_its_children_are_killed_at_the_time_limit()
    {
        _folder.Write(ScriptNames.Crash, """
            sleep 30 &
            echo "$$ $!" > pids
            wait
            """);
        var watch = Stopwatch.StartNew();

        var result = RunScript(Request(Script.Crash, timeout: TimeSpan.FromMilliseconds(300)));

        Assert.Equal(ScriptOutcome.TimedOut, result.Outcome);
        Assert.Null(result.ExitCode);
        // the bound is the behaviour: answered at the limit, not when the script's 30 s sleep ends
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"answered after {watch.Elapsed}");
        ExpectLog<Warning>($"netdump-crash for {Client} did not finish within 0.3 s and was killed");
        var pids = File.ReadAllText(_folder.InDump("pids")).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        Assert.Equal(2, pids.Length);
        AwaitCondition(() => !ScriptFolder.IsRunning(pids[0]) && !ScriptFolder.IsRunning(pids[1]), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_script_still_running_when_its_session_stops_its_runner_runs_to_its_end()
    {
        // netdump-nospace still cleaning up as the dump ends: its session stops, the script goes on
        _folder.Write(ScriptNames.Nospace, "echo started > started; sleep 1; echo done > done");
        _runner.Tell(Request(Script.Nospace, timeout: TimeSpan.FromMinutes(1)), TestActor);
        AwaitCondition(() => File.Exists(_folder.InDump("started")), Answer);

        Sys.Stop(_runner);

        AwaitCondition(() => File.Exists(_folder.InDump("done")), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_script_still_running_when_the_server_stops_is_killed_with_its_children()
    {
        // the server stopping past shutdown_timeout: its scripts do not outlive it
        _folder.Write(ScriptNames.Reboot, """
            sleep 30 &
            echo "$$ $!" > pids
            wait
            """);
        using var system = ActorSystem.Create("stopping", NetdumpSettings.BuiltInConfig());
        var runner = system.ActorOf(ScriptRunnerActor.Props(_folder.DumpDirectory));
        runner.Tell(Request(Script.Reboot, timeout: TimeSpan.FromMinutes(1)));
        var pidsFile = _folder.InDump("pids");
        AwaitCondition(() => File.Exists(pidsFile) && File.ReadAllText(pidsFile).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 2, Answer);
        var pids = File.ReadAllText(pidsFile).Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();

        await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);

        AwaitCondition(() => !ScriptFolder.IsRunning(pids[0]) && !ScriptFolder.IsRunning(pids[1]), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_script_killed_as_the_server_stops_is_told_apart_from_one_that_outran_its_limit()
    {
        var path = _folder.Write(ScriptNames.Reboot, """
            touch started
            sleep 30
            """);
        using var stopping = new CancellationTokenSource();
        var run = ScriptProcess.RunAsync(path, _folder.DumpDirectory, Request(Script.Reboot, timeout: TimeSpan.FromMinutes(1)), Sys.Log, stopping.Token);
        AwaitCondition(() => File.Exists(_folder.InDump("started")), Answer);

        await stopping.CancelAsync();
        var result = await run.WaitAsync(Answer);

        // not "killed after 60 s": its limit was a minute away
        Assert.Equal(new ScriptResult(Script.Reboot, ScriptOutcome.KilledAtStop, null, "killed: the server stopped"), result);
    }

    [Theory]
    [InlineData("0720")]
    [InlineData("0702")]
    public void A_group_or_world_writable_script_is_skipped_with_a_warning(string mode)
    {
        var path = _folder.Write(ScriptNames.Crash, "touch ran; exit 0", ScriptFolder.Mode(mode));

        var result = RunScript(Request(Script.Crash));

        Assert.Equal(new ScriptResult(Script.Crash, ScriptOutcome.Skipped, null, $"group or world writable (mode {mode})"), result);
        Assert.Equal($"skipping {path}: group or world writable (mode {mode})", ExpectLog<Warning>("skipping"));
        Assert.False(File.Exists(_folder.InDump("ran")));
    }

    [Fact]
    public void A_script_its_owner_cannot_execute_is_skipped()
    {
        _folder.Write(ScriptNames.Crash, "exit 0", ScriptFolder.Mode("0600"));

        var result = RunScript(Request(Script.Crash));

        Assert.Equal(ScriptOutcome.Skipped, result.Outcome);
        Assert.Equal("not executable by its owner", result.Detail);
        ExpectLog<Warning>("not executable by its owner");
    }

    [Fact]
    public void A_directory_named_like_the_script_is_skipped()
    {
        Directory.CreateDirectory(_folder.ScriptPath(ScriptNames.Reboot));

        var result = RunScript(Request(Script.Reboot));

        Assert.Equal(ScriptOutcome.Skipped, result.Outcome);
        Assert.Equal("a directory, not a regular file", result.Detail);
    }

    [Fact]
    public void A_missing_script_is_answered_NotPresent()
    {
        var result = RunScript(Request(Script.Start));

        Assert.Equal(new ScriptResult(Script.Start, ScriptOutcome.NotPresent, null, null), result);
    }

    [Fact]
    public void Without_a_scripts_folder_every_script_is_NotPresent()
    {
        Directory.Delete(_folder.ScriptsPath);

        Assert.Equal(ScriptOutcome.NotPresent, RunScript(Request(Script.Crash)).Outcome);
    }

    [Fact]
    public void A_script_with_a_missing_interpreter_fails_to_start()
    {
        // execve fails with ENOENT in the forked child; .NET reports that from Process.Start as a
        // Win32Exception, so the script never runs and no exit code exists.
        _folder.WriteRaw(ScriptNames.Crash, "#!/nonexistent\nexit 0\n");

        var result = RunScript(Request(Script.Crash));

        Assert.Equal(ScriptOutcome.FailedToStart, result.Outcome);
        Assert.Null(result.ExitCode);
        Assert.Contains("No such file or directory", result.Detail);
        ExpectLog<Warning>("could not be started");
    }

    [Fact]
    public void A_script_without_an_interpreter_line_fails_to_start()
    {
        // execve does not fall back to /bin/sh as a shell would: ENOEXEC, reported the same way.
        _folder.WriteRaw(ScriptNames.Crash, "exit 0\n");

        var result = RunScript(Request(Script.Crash));

        Assert.Equal(ScriptOutcome.FailedToStart, result.Outcome);
        Assert.Contains("Exec format error", result.Detail);
    }

    [Fact]
    public void Two_runs_in_flight_at_once_are_both_answered()
    {
        // The crash script waits for a file the reboot script makes: it can only end if both run
        // at the same time (one after the other, it would hit its time limit).
        _folder.Write(ScriptNames.Crash, "while [ ! -e reboot-ran ]; do sleep 0.05; done");
        _folder.Write(ScriptNames.Reboot, "touch reboot-ran");

        _runner.Tell(Request(Script.Crash), TestActor);
        _runner.Tell(Request(Script.Reboot), TestActor);
        var results = new[] { ExpectMsg<ScriptResult>(Answer), ExpectMsg<ScriptResult>(Answer) };

        Assert.Equal([ScriptNames.Crash, ScriptNames.Reboot], results.Select(r => r.Name).Order());
        Assert.All(results, r => Assert.True(r.ExitedZero, r.ToString()));
    }

    [Fact]
    public void Each_run_is_answered_to_its_own_sender()
    {
        _folder.Write(ScriptNames.Crash, "exit 1");
        var other = CreateTestProbe();

        _runner.Tell(Request(Script.Crash), other.Ref);
        _runner.Tell(Request(Script.Start), TestActor);

        Assert.Equal(ScriptOutcome.NotPresent, ExpectMsg<ScriptResult>(Answer).Outcome);
        Assert.Equal(1, other.ExpectMsg<ScriptResult>(Answer).ExitCode);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Every_script_is_a_plain_file_name_in_the_scripts_folder()
    {
        // a script is chosen by its enum, so no request can name a path
        foreach (var script in Enum.GetValues<Script>())
        {
            var name = ScriptNames.FileName(script);
            Assert.Equal(name, Path.GetFileName(name));
            Assert.StartsWith("netdump-", name);
        }
    }
}
