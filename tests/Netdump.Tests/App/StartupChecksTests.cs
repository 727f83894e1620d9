using System.Net;
using System.Net.Sockets;
using Netdump.App.Configuration;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

public sealed class StartupChecksTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void StartupChecks_should_create_a_missing_dump_directory_with_mode_0700()
    {
        var path = _dir.Combine("a", "crash");

        StartupChecks.PrepareDumpDirectory(path);

        Assert.True(Directory.Exists(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(path));
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
}
