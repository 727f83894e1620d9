using Netdump.Actors.Scripts;

namespace Netdump.Tests.Scripts;

/// <summary>SPEC §5: only a regular, owner-executable file of the server's user or root, writable by nobody else, runs.</summary>
public sealed class ScriptCheckTests : IDisposable
{
    private readonly ScriptFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("0700")]
    [InlineData("0755")]
    [InlineData("0500")]
    public void An_owner_executable_file_of_our_own_that_only_we_can_write_is_runnable(string mode)
    {
        var path = _folder.Write(ScriptNames.Crash, "exit 0", ScriptFolder.Mode(mode));

        Assert.Null(ScriptCheck.WhyNotRunnable(path));
    }

    [Theory]
    [InlineData("0720")]
    [InlineData("0702")]
    [InlineData("0777")]
    public void A_group_or_world_writable_file_is_refused(string mode)
    {
        var path = _folder.Write(ScriptNames.Crash, "exit 0", ScriptFolder.Mode(mode));

        Assert.Equal("group or world writable", ScriptCheck.WhyNotRunnable(path));
    }

    [Theory]
    [InlineData("0600")]
    [InlineData("0655")]
    public void A_file_its_owner_cannot_execute_is_refused(string mode)
    {
        var path = _folder.Write(ScriptNames.Crash, "exit 0", ScriptFolder.Mode(mode));

        Assert.Equal("not executable by its owner", ScriptCheck.WhyNotRunnable(path));
    }

    [Fact]
    public void A_directory_is_refused()
    {
        var path = _folder.ScriptPath(ScriptNames.Crash);
        Directory.CreateDirectory(path);

        Assert.Equal("a directory, not a regular file", ScriptCheck.WhyNotRunnable(path));
    }

    [Fact]
    public void A_missing_file_is_refused_and_not_present()
    {
        var path = _folder.ScriptPath(ScriptNames.Crash);

        Assert.Equal("it does not exist", ScriptCheck.WhyNotRunnable(path));
        Assert.False(ScriptCheck.IsPresent(path));
    }

    [Fact]
    public void A_symbolic_link_is_judged_by_its_target()
    {
        var good = _folder.Write("good", "exit 0");
        var writable = _folder.Write("writable", "exit 0", ScriptFolder.Mode("0722"));
        var toGood = _folder.ScriptPath(ScriptNames.Crash);
        var toWritable = _folder.ScriptPath(ScriptNames.Reboot);
        File.CreateSymbolicLink(toGood, good);
        File.CreateSymbolicLink(toWritable, writable);

        Assert.Null(ScriptCheck.WhyNotRunnable(toGood));
        Assert.Equal("group or world writable", ScriptCheck.WhyNotRunnable(toWritable));
    }

    [Fact]
    public void A_dangling_symbolic_link_is_present_but_refused()
    {
        var link = _folder.ScriptPath(ScriptNames.Crash);
        File.CreateSymbolicLink(link, _folder.ScriptPath("gone"));

        Assert.True(ScriptCheck.IsPresent(link));
        Assert.Equal("a symbolic link whose target does not exist", ScriptCheck.WhyNotRunnable(link));
    }

    [Fact]
    public void A_file_owned_by_another_user_is_refused()
    {
        var path = _folder.Write(ScriptNames.Crash, "exit 0");
        if (!Environment.IsPrivilegedProcess)
        {
            // Only root can give a file away, so the refusal cannot be set up here. Check the
            // other half of the rule instead: a file of the user we run as is accepted.
            Assert.Null(ScriptCheck.WhyNotRunnable(path));
            return;
        }

        // We are root (uid 0): a file of nobody (65534) is neither ours nor root's.
        ScriptFolder.Chown(path, 65534);

        var reason = ScriptCheck.WhyNotRunnable(path);

        Assert.NotNull(reason);
        Assert.StartsWith("owned by uid 65534", reason);
    }
}
