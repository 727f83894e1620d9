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

        Assert.Equal($"group or world writable (mode {mode})", ScriptCheck.WhyNotRunnable(path));
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
        Assert.Equal("group or world writable (mode 0722)", ScriptCheck.WhyNotRunnable(toWritable));
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

    [Theory]
    [InlineData("0777")]
    [InlineData("1777")]
    [InlineData("0770")]
    public void A_good_script_in_a_folder_others_can_write_is_refused(string mode)
    {
        var path = _folder.Write(ScriptNames.Crash, "exit 0");
        File.SetUnixFileMode(_folder.ScriptsPath, ScriptFolder.Mode(mode));

        Assert.Equal($"its folder {_folder.ScriptsPath} is not trusted: group or world writable (mode {mode})", ScriptCheck.WhyNotRunnable(path));
        Assert.Equal(
            $"{_folder.ScriptsPath} is not trusted (group or world writable (mode {mode})): no script in it will run; chown it to the server's user or root and chmod go-w",
            ScriptCheck.WhyFolderIgnored(_folder.ScriptsPath));
    }

    [Fact]
    public void A_trusted_or_missing_folder_is_not_reported()
    {
        Assert.Null(ScriptCheck.WhyFolderIgnored(_folder.ScriptsPath));
        Assert.Null(ScriptCheck.WhyFolderIgnored(_folder.InDump("none")));
    }

    [Fact]
    public void A_symbolic_link_owned_by_another_user_is_refused_whatever_its_target()
    {
        // issue 13: someone else's scripts/netdump-crash -> /bin/false refused every dump
        var link = _folder.ScriptPath(ScriptNames.Crash);
        File.CreateSymbolicLink(link, "/bin/false");
        if (!Environment.IsPrivilegedProcess)
        {
            // Only root can give a link away; the other half of the rule: our own link to a
            // trusted target is accepted.
            Assert.Null(ScriptCheck.WhyNotRunnable(link));
            return;
        }

        ScriptFolder.Chown(link, 65534, link: true);

        Assert.Equal("a symbolic link owned by uid 65534, neither the server's user (uid 0) nor root", ScriptCheck.WhyNotRunnable(link));
    }
}
