using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>
/// A FIFO (or a link) left in a dump directory under a dump's file name: nothing that reads the
/// dump tree may wait on it. Each read runs on its own task, so that a read that waits for a
/// writer fails the test (after a minute) instead of hanging the run (the read's thread stays
/// blocked then: a failing run only).
/// </summary>
public sealed class RegularFileTests : IDisposable
{
    private static readonly TimeSpan Hung = TimeSpan.FromMinutes(1);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static T Soon<T>(Func<T> read) => Task.Run(read).WaitAsync(Hung).GetAwaiter().GetResult();

    [Fact]
    public void A_fifo_is_refused_at_once_and_named_as_one()
    {
        var fifo = Fifo.Make(_temp.Combine("dump.json"));

        var error = Soon(() => Record.Exception(() => RegularFile.OpenRead(fifo).Dispose()));

        var io = Assert.IsType<IOException>(error);
        Assert.Contains("is a FIFO, not a regular file", io.Message);
        Assert.False(RegularFile.Is(fifo));
    }

    [Fact]
    public void A_regular_file_is_read_and_a_link_to_one_is_not()
    {
        var file = _temp.Combine("info");
        File.WriteAllText(file, "Hostname: web1\n");
        var link = _temp.Combine("link");
        File.CreateSymbolicLink(link, file);

        using (var handle = RegularFile.OpenRead(file))
        {
            Assert.Equal("Hostname: web1\n"u8.ToArray(), RegularFile.ReadAll(handle));
        }

        Assert.True(RegularFile.Is(file));
        Assert.False(RegularFile.Is(link));
        Assert.False(RegularFile.Is(_temp.Combine("missing")));
        Assert.IsAssignableFrom<IOException>(Record.Exception(() => RegularFile.OpenRead(link).Dispose()));
        Assert.IsType<FileNotFoundException>(Record.Exception(() => RegularFile.OpenRead(_temp.Combine("missing")).Dispose()));
    }

    [Fact]
    public void The_start_up_scan_passes_a_dump_whose_report_is_a_fifo_and_says_so()
    {
        var dumpDir = _temp.Combine("crash");
        var dump = Path.Combine(dumpDir, "192.0.2.9-2024-03-09-13:05:07");
        Directory.CreateDirectory(dump);
        Fifo.Make(Path.Combine(dump, "dump.json"));
        var finished = DumpTreeBuilder.Dump(dumpDir, "192.0.2.10", new DateTimeOffset(2024, 3, 9, 13, 6, 0, TimeSpan.Zero));
        var described = new List<string>();

        var results = Soon(() => RecoveryScan.Run(dumpDir, DateTimeOffset.UnixEpoch, (directory, _) => described.Add(directory)));

        var result = Assert.Single(results);
        Assert.Equal(dump, result.Directory);
        Assert.Contains("dump.json is not a regular file; left alone", result.Problem);
        Assert.Equal([finished], described);
    }

    [Fact]
    public void A_report_read_by_the_catalog_or_the_cli_that_is_a_fifo_is_skipped_with_its_reason()
    {
        var dump = _temp.Combine("192.0.2.9-2024-03-09-13:05:07");
        Directory.CreateDirectory(dump);
        Fifo.Make(Path.Combine(dump, "dump.json"));

        var read = Soon(() => DumpTree.ReadJson(new FileInfo(Path.Combine(dump, "dump.json"))));
        string? recordWhy = null;
        var record = Soon(() => DumpRecordReader.Read(dump, out recordWhy));

        Assert.Contains("is a FIFO", Assert.IsAssignableFrom<JsonRead.Failed>(read).Why);
        Assert.Null(record);
        Assert.Contains("is a FIFO", recordWhy);
    }

    [Fact]
    public void A_report_that_cannot_be_read_is_told_from_one_whose_bytes_are_damaged()
    {
        var fifo = new FileInfo(Fifo.Make(_temp.Combine("fifo.json")));
        var damaged = new FileInfo(_temp.Combine("damaged.json"));
        File.WriteAllText(damaged.FullName, "{ nope");

        var read = Soon(() => DumpTree.ReadJson(fifo));
        Assert.IsType<JsonRead.Unreadable>(read); // a file that could not be read may hold a good report
        Assert.StartsWith("is corrupt", Assert.IsType<JsonRead.Damaged>(DumpTree.ReadJson(damaged)).Why);
    }

    [Fact]
    public void A_fifo_in_a_dump_is_not_listed_nor_found_for_serving()
    {
        var dump = DumpTreeBuilder.Dump(_temp.Path, "192.0.2.10", new DateTimeOffset(2024, 3, 9, 13, 6, 0, TimeSpan.Zero));
        Fifo.Make(Path.Combine(dump, "log"));

        var names = Soon(() => DumpFiles.List(dump)).Select(f => f.Name).ToList();

        Assert.DoesNotContain("log", names);
        Assert.Contains("vmcore", names);
        Assert.Null(DumpFiles.Find(dump, "log"));
        Assert.NotNull(DumpFiles.Find(dump, "vmcore"));
    }

    [Fact]
    public void A_console_log_or_a_core_that_is_a_fifo_reads_as_nothing_or_fails()
    {
        var log = Fifo.Make(_temp.Combine("log"));
        var core = Fifo.Make(_temp.Combine("vmcore"));

        var facts = Soon(() => ConsoleLog.Read(log));
        var error = Soon(() => Record.Exception(() => CoreChecksum.Compute(core, CancellationToken.None)));

        Assert.Equal(new ConsoleFacts(0, null, null), facts);
        Assert.Contains("is a FIFO", Assert.IsType<IOException>(error).Message);
    }
}
