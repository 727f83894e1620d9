using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>The real disk's fsync of a file by its name (a Linux dump's <c>log</c>, closed by the thread that wrote it).</summary>
public sealed class CoreDiskTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_file_is_fsynced_by_name_and_a_missing_one_says_so()
    {
        var file = _temp.Combine("log");
        File.WriteAllText(file, "boot\n");

        CoreDisk.Real.FsyncFile(file);

        Assert.Throws<FileNotFoundException>(() => CoreDisk.Real.FsyncFile(_temp.Combine("missing")));
    }

    [Fact]
    public void A_symlink_put_in_the_files_place_is_not_followed()
    {
        var target = _temp.Combine("elsewhere");
        File.WriteAllText(target, "x");
        var link = _temp.Combine("log");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<IOException>(() => CoreDisk.Real.FsyncFile(link));

        Assert.Contains("Too many levels of symbolic links", error.Message); // ELOOP: O_NOFOLLOW
    }

    [Fact]
    public async Task A_named_pipe_in_the_files_place_is_refused_at_once_instead_of_waiting_for_a_writer()
    {
        var pipe = Fifo.Make(_temp.Combine("log"));
        var fsync = Task.Run(() => Assert.Throws<IOException>(() => CoreDisk.Real.FsyncFile(pipe)));
        try
        {
            // an open that waited would wait for a writer that never comes
            Assert.Same(fsync, await Task.WhenAny(fsync, Task.Delay(TimeSpan.FromSeconds(10))));
            Assert.Contains("is a FIFO, not a regular file", (await fsync).Message);
        }
        finally
        {
            if (!fsync.IsCompleted)
            {
                using var writer = new FileStream(pipe, FileMode.Open, FileAccess.Write); // lets a waiting open go
            }
        }
    }
}
