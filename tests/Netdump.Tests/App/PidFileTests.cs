using System.Diagnostics;
using Netdump.App.Daemon;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

public sealed class PidFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string PidPath => _dir.Combine("netdump-server.pid");

    private static string Own => $"{Environment.ProcessId}\n";

    [Fact]
    public void A_pidfile_path_that_is_a_directory_or_a_dangling_link_is_refused_with_what_it_is()
    {
        Directory.CreateDirectory(PidPath);
        var directory = Assert.Throws<IOException>(() => PidFile.Acquire(PidPath).Dispose());
        Assert.Equal($"cannot write pidfile {PidPath}: it is a directory", directory.Message);
        Directory.Delete(PidPath);

        File.CreateSymbolicLink(PidPath, _dir.Combine("nowhere"));
        var dangling = Assert.Throws<IOException>(() => PidFile.Acquire(PidPath).Dispose());
        Assert.Equal($"cannot write pidfile {PidPath}: it is a symbolic link to {_dir.Combine("nowhere")}, which does not exist (not following it)", dangling.Message);
        Assert.False(File.Exists(_dir.Combine("nowhere")));
    }

    [Fact]
    public void PidFile_should_write_our_pid_to_a_fresh_path()
    {
        using var pidFile = PidFile.Acquire(PidPath);

        Assert.Equal(Own, File.ReadAllText(PidPath));
        Assert.Equal(Environment.ProcessId, pidFile.Pid);
        Assert.Null(pidFile.TakeOverNote);
    }

    [Fact]
    public void PidFile_should_take_over_one_naming_a_process_that_is_gone()
    {
        var dead = DeadPid();
        File.WriteAllText(PidPath, $"{dead}\n");

        using var pidFile = PidFile.Acquire(PidPath);

        Assert.Equal(Own, File.ReadAllText(PidPath));
        Assert.Contains($"named process {dead}, which is not running", pidFile.TakeOverNote);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5\n")]
    [InlineData("0\n")]
    public void PidFile_should_take_over_one_holding_no_pid(string content)
    {
        File.WriteAllText(PidPath, content);

        using var pidFile = PidFile.Acquire(PidPath);

        Assert.Equal(Own, File.ReadAllText(PidPath));
        Assert.Contains("held no pid", pidFile.TakeOverNote);
    }

    [Theory]
    [InlineData("not a pid\n")]
    [InlineData("IMPORTANT operator data\nkeep = yes\n")]
    public void PidFile_should_refuse_a_file_that_is_no_pidfile_and_leave_it_as_it_was(string content)
    {
        File.WriteAllText(PidPath, content);

        var refusal = Assert.Throws<IOException>(() => PidFile.Acquire(PidPath));

        Assert.StartsWith($"{PidPath} is not a pidfile", refusal.Message);
        Assert.Equal(content, File.ReadAllText(PidPath));
    }

    [Fact]
    public void PidFile_should_take_over_one_naming_our_own_pid()
    {
        // A previous server's pid that the system has since given to us.
        File.WriteAllText(PidPath, Own);

        using var pidFile = PidFile.Acquire(PidPath);

        Assert.Equal(Own, File.ReadAllText(PidPath));
    }

    [Fact]
    public void PidFile_should_refuse_one_held_by_a_running_server_and_name_it()
    {
        using var first = PidFile.Acquire(PidPath);

        var error = Assert.Throws<IOException>(() => PidFile.Acquire(PidPath));

        Assert.Equal($"pidfile {PidPath} is held by running process {Environment.ProcessId}", error.Message);
        Assert.Equal(Own, File.ReadAllText(PidPath));
        Assert.Equal([PidPath], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void PidFile_should_be_free_again_once_its_holder_released_it()
    {
        PidFile.Acquire(PidPath).Dispose();

        using var second = PidFile.Acquire(PidPath);

        Assert.Null(second.TakeOverNote);
    }

    [Fact]
    public void PidFile_should_take_over_one_naming_a_live_process_that_is_no_server()
    {
        // issue 13: a server killed outright leaves its pidfile; the pid may since belong to
        // any program, which must not keep the server from starting
        using var sleeper = Process.Start("/bin/sleep", "30");
        try
        {
            File.WriteAllText(PidPath, $"{sleeper.Id}\n");

            using var pidFile = PidFile.Acquire(PidPath);

            Assert.Equal(Own, File.ReadAllText(PidPath));
            Assert.Equal(
                $"pidfile {PidPath} named process {sleeper.Id}, which holds no netdump-server lock (its pid was reused): taking it over",
                pidFile.TakeOverNote);
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit(5000);
        }
    }

    [Fact]
    public void PidFile_should_take_over_one_naming_init()
    {
        // Alive for certain, and never a netdump-server.
        File.WriteAllText(PidPath, "1\n");

        using var pidFile = PidFile.Acquire(PidPath);

        Assert.Contains("named process 1, which holds no netdump-server lock", pidFile.TakeOverNote);
    }

    [Fact]
    public void PidFile_should_leave_no_temporary_file_behind()
    {
        using (PidFile.Acquire(PidPath))
        {
            Assert.Equal([PidPath], Directory.GetFiles(_dir.Path));
        }

        File.WriteAllText(PidPath, $"{DeadPid()}\n");
        using (PidFile.Acquire(PidPath))
        {
            Assert.Equal([PidPath], Directory.GetFiles(_dir.Path));
        }
    }

    [Fact]
    public void PidFile_should_be_removed_on_dispose()
    {
        var pidFile = PidFile.Acquire(PidPath);

        pidFile.Dispose();
        pidFile.Dispose();

        Assert.False(File.Exists(PidPath));
    }

    [Fact]
    public void PidFile_should_not_remove_a_successors_file_on_dispose()
    {
        var pidFile = PidFile.Acquire(PidPath);
        File.WriteAllText(PidPath, "4242\n");

        pidFile.Dispose();

        Assert.Equal("4242\n", File.ReadAllText(PidPath));
    }

    [Fact]
    public void PidFile_should_say_why_it_cannot_be_written()
    {
        var path = _dir.Combine("missing", "netdump-server.pid");

        var error = Assert.Throws<IOException>(() => PidFile.Acquire(path));

        Assert.StartsWith($"cannot write pidfile {path}", error.Message);
    }

    [Fact]
    public void PidFile_should_read_the_pid_it_names()
    {
        File.WriteAllText(PidPath, " 123 \n");

        Assert.Equal(123, PidFile.Read(PidPath).Pid);
        Assert.Equal((null, null), PidFile.Read(_dir.Combine("none")));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The pid of a process that has run, exited and been reaped.</summary>
    private static int DeadPid()
    {
        using var process = Process.Start("/bin/true");
        process.WaitForExit();
        return process.Id;
    }
}
