using System.Net;
using System.Net.Sockets;
using Netdump.App.Configuration;
using Netdump.Tests.Scripts;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

public sealed class StartupChecksTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void StartupChecks_should_create_a_missing_dump_directory_with_mode_0700()
    {
        var path = _dir.Combine("crash");

        StartupChecks.PrepareDumpDirectory(path);

        Assert.True(Directory.Exists(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(path));
    }

    [Fact]
    public void StartupChecks_should_make_only_the_last_folder_of_a_dump_directory()
    {
        // issue 18: a typo higher up made a whole tree of 0755 folders
        var path = _dir.Combine("typo", "b", "c");

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(path));

        Assert.Equal(
            $"dumpdir {path} cannot be created: its parent {_dir.Combine("typo", "b")} does not exist (only the last folder of dumpdir is made)",
            error.Message);
        Assert.False(Path.Exists(_dir.Combine("typo")), "nothing was made");
    }

    [Fact]
    public void StartupChecks_should_name_a_regular_file_higher_up_the_dump_directory()
    {
        var file = _dir.Combine("file");
        File.WriteAllText(file, "");

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(Path.Combine(file, "a", "crash")));

        Assert.Equal($"dumpdir {file}/a/crash cannot be created: {file} is not a directory", error.Message);
    }

    [Fact]
    public void StartupChecks_should_refuse_a_dump_directory_under_a_regular_file()
    {
        var file = _dir.Combine("file");
        File.WriteAllText(file, "");

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(Path.Combine(file, "crash")));

        Assert.Equal($"dumpdir {file}/crash cannot be created: {file} is not a directory", error.Message);
    }

    [Fact]
    public void StartupChecks_should_refuse_a_dump_directory_that_is_a_file()
    {
        var file = _dir.Combine("file");
        File.WriteAllText(file, "");

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(file));

        Assert.Equal($"dumpdir {file} is a file, not a directory", error.Message);
    }

    [Theory]
    [InlineData("1777")]
    [InlineData("0777")]
    [InlineData("0770")]
    [InlineData("0702")]
    public void StartupChecks_should_refuse_a_dump_directory_others_can_write(string mode)
    {
        // issue 13: under a 1777 dumpdir anyone could plant scripts/ and magic/
        var path = _dir.Combine("crash");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, ScriptFolder.Mode(mode));

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(path));

        Assert.Equal(
            $"dumpdir {path} is not trusted: group or world writable (mode {mode}); " +
            "anyone who can write there could plant scripts or magic files (chown it to the server's user or root, chmod go-w)",
            error.Message);
    }

    [Fact]
    public void StartupChecks_should_accept_a_dump_directory_of_our_own_that_others_can_read()
    {
        var path = _dir.Combine("crash");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, ScriptFolder.Mode("0755"));

        StartupChecks.PrepareDumpDirectory(path);
    }

    [Fact]
    public void StartupChecks_should_refuse_a_dump_directory_behind_another_users_symbolic_link()
    {
        var target = _dir.Combine("crash");
        Directory.CreateDirectory(target, ScriptFolder.Private);
        var link = _dir.Combine("link");
        Directory.CreateSymbolicLink(link, target);
        if (!Environment.IsPrivilegedProcess)
        {
            // Only root can give a link away; the other half of the rule: our own link is fine.
            StartupChecks.PrepareDumpDirectory(link);
            return;
        }

        ScriptFolder.Chown(link, 65534, link: true);

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(link));

        Assert.StartsWith($"dumpdir {link} is not trusted: a symbolic link owned by uid 65534, neither the server's user (uid 0) nor root; ", error.Message);
    }

    [Fact]
    public void StartupChecks_should_refuse_a_dump_directory_of_another_user()
    {
        var path = _dir.Combine("crash");
        Directory.CreateDirectory(path, ScriptFolder.Private);
        if (!Environment.IsPrivilegedProcess)
        {
            // Only root can give a directory away; the other half: our own is accepted.
            StartupChecks.PrepareDumpDirectory(path);
            return;
        }

        ScriptFolder.Chown(path, 65534);

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.PrepareDumpDirectory(path));

        Assert.StartsWith($"dumpdir {path} is not trusted: owned by uid 65534, neither the server's user (uid 0) nor root; ", error.Message);
    }

    [Fact]
    public void StartupChecks_should_refuse_a_port_in_use()
    {
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port;

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.CheckListenPort(IPAddress.Loopback, port));

        Assert.Equal($"cannot bind 127.0.0.1:{port}: Address already in use", error.Message);
    }

    [Fact]
    public void StartupChecks_should_release_a_free_port_after_the_check()
    {
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        StartupChecks.CheckListenPort(IPAddress.Loopback, port);
        StartupChecks.CheckListenPort(IPAddress.Loopback, 0);

        using var after = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public void StartupChecks_should_refuse_a_cluster_port_in_use_in_one_line_and_release_a_free_one()
    {
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        try
        {
            var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.CheckClusterPort(IPAddress.Loopback, port));
            Assert.Equal($"cluster_port: cannot bind 127.0.0.1:{port}: Address already in use", error.Message);
        }
        finally
        {
            holder.Stop();
        }

        StartupChecks.CheckClusterPort(IPAddress.Loopback, port);
        var again = new TcpListener(IPAddress.Loopback, port);
        again.Start(); // the check let it go
        again.Stop();
    }
}
