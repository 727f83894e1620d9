using System.Diagnostics;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class FileSystemSyncTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FsyncDirectory_succeeds_on_a_directory()
    {
        FileSystemSync.FsyncDirectory(_temp.Path);
    }

    [Fact]
    public void FsyncDirectory_of_a_missing_directory_throws_with_the_errno_text()
    {
        var missing = _temp.Combine("missing");

        var error = Assert.Throws<IOException>(() => FileSystemSync.FsyncDirectory(missing));

        Assert.Contains(missing, error.Message);
        Assert.Contains("No such file or directory", error.Message);
    }

    [Fact]
    public void FsyncDirectory_of_a_regular_file_throws()
    {
        var file = _temp.Combine("file");
        File.WriteAllText(file, "x");

        var error = Assert.Throws<IOException>(() => FileSystemSync.FsyncDirectory(file));

        Assert.Contains("Not a directory", error.Message);
    }

    [Fact]
    public void MakeDirectory_creates_once_then_reports_that_the_name_exists()
    {
        var dir = _temp.Combine("d");

        Assert.True(FileSystemSync.MakeDirectory(dir, 0x1C0));
        Assert.False(FileSystemSync.MakeDirectory(dir, 0x1C0));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void MakeDirectory_reports_an_existing_file_as_existing()
    {
        var file = _temp.Combine("f");
        File.WriteAllText(file, "");

        Assert.False(FileSystemSync.MakeDirectory(file, 0x1C0));
    }

    [Fact]
    public void MakeDirectory_under_a_missing_parent_throws()
    {
        var error = Assert.Throws<IOException>(() => FileSystemSync.MakeDirectory(_temp.Combine("no", "such"), 0x1C0));

        Assert.Contains("No such file or directory", error.Message);
    }

    [Fact]
    public void AvailableBytes_agrees_with_df()
    {
        var before = DfAvailable(_temp.Path);
        var ours = FileSystemSync.AvailableBytes(_temp.Path);
        var after = DfAvailable(_temp.Path);

        // Other processes may write meanwhile: allow the span df saw plus a little slack.
        const ulong slack = 64UL * 1024 * 1024;
        var low = Math.Min(before, after);
        var high = Math.Max(before, after);
        Assert.InRange(ours, low > slack ? low - slack : 0, high + slack);
        Assert.True(ours > 0);
    }

    [Fact]
    public void AvailableBytes_of_a_missing_path_throws()
    {
        Assert.Throws<IOException>(() => FileSystemSync.AvailableBytes(_temp.Combine("missing")));
    }

    [Fact]
    public void RealPath_resolves_every_symlink()
    {
        var real = _temp.Combine("real");
        Directory.CreateDirectory(real);
        File.CreateSymbolicLink(_temp.Combine("a"), real);
        File.CreateSymbolicLink(_temp.Combine("b"), _temp.Combine("a"));
        var expected = Netdump.Tests.Storage.ElfCoreToolTests.Run("realpath", real).Trim(); // coreutils as the oracle

        var resolved = FileSystemSync.RealPath(_temp.Combine("b"), out var error, out var missing);

        Assert.Equal(expected, resolved);
        Assert.Null(error);
        Assert.False(missing);
    }

    private static ulong DfAvailable(string path)
    {
        var info = new ProcessStartInfo("df", ["-B1", "--output=avail", path])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var df = Process.Start(info)!;
        var output = df.StandardOutput.ReadToEnd();
        df.WaitForExit();
        Assert.Equal(0, df.ExitCode);
        return ulong.Parse(output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
    }
}
