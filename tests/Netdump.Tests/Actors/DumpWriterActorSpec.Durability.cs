using System.Runtime.InteropServices;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Storage;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Actors;

/// <summary>What is made durable when: the background flush, the directory entries, the fsyncs at the end and their failures.</summary>
public sealed partial class DumpWriterActorSpec
{
    [Fact]
    public async Task A_background_fsync_failure_is_reported_to_the_session_and_ends_the_dump_incomplete()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await OpenFlushingOften(disk);

        disk.FailFsync = true;
        WriteData(opened.Core, Pattern(4096), 1024);
        var failed = await ExpectMsgAsync<DumpWriterActor.DiskFailed>();
        Assert.Equal("fsync failed: Input/output error", failed.Reason.Text);
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // told once, though every flush fails

        writer.Tell(new DumpWriterActor.EndNow(failed.Reason));
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("fsync failed: Input/output error", record.Reason?.Text);
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_dump_directory_and_its_own_entry_become_durable_with_the_first_background_flush_and_only_once()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await OpenFlushingOften(disk);
        Assert.Empty(disk.Fsyncs); // opening fsyncs nothing (it held up the HERALD's ack)

        WriteData(opened.Core, Pattern(4096), 1024);
        await AwaitConditionAsync(() => Task.FromResult(disk.Fsyncs.Count >= 3));
        Assert.Equal(["core", "dir " + opened.Directory, "dir " + _dumpDir], disk.Fsyncs.Take(3));

        WriteData(opened.Core, Pattern(8192, seed: 2), 1024);
        await AwaitConditionAsync(() => Task.FromResult(disk.Fsyncs.Count(f => f == "core") >= 2));
        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();
        Assert.Equal(2, disk.Fsyncs.Count(f => f.StartsWith("dir ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_dump_that_ends_before_its_first_flush_makes_its_directory_entry_durable_before_it_answers()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeDumpBeforeAnyFlush(disk);

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;

        Assert.Equal(DumpStatus.Complete, record.Status);
        // the core, then the dump directory's entry in its parent (the final report fsyncs the dump directory itself)
        Assert.Equal(["core", "dir " + _dumpDir], disk.Fsyncs);
    }

    [Fact]
    public async Task A_failing_directory_fsync_is_a_disk_failure_like_a_failing_core_fsync()
    {
        var disk = new FaultyDisk { FailDirectoryFsync = true };
        var (_, opened) = await OpenFlushingOften(disk);

        WriteData(opened.Core, Pattern(4096), 1024);
        var failed = await ExpectMsgAsync<DumpWriterActor.DiskFailed>();
        Assert.Equal("fsync failed: Input/output error", failed.Reason?.Text);
    }

    /// <summary>The core's final fsync, or the fsync of the dump directory's entry at the end, fails.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failing_fsync_at_the_end_makes_a_finished_dump_incomplete(bool directory)
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeDumpBeforeAnyFlush(disk);

        disk.FailFsync = !directory;
        disk.FailDirectoryFsync = directory;
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("fsync failed: Input/output error", record.Reason?.Text);
        Assert.Equal(CoreFileNames.Incomplete, record.Vmcore);
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_final_dumps_core_is_closed_at_once_not_held_while_its_session_lingers()
    {
        var (writer, opened) = await WholeDumpBeforeAnyFlush(CoreDisk.Real);
        Assert.Null(RecoveryScan.OpenExclusive(opened.Directory, CoreFileNames.Incomplete, out var receiving));
        Assert.Contains("is in use", receiving); // the writer holds it while it receives

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        await ExpectMsgAsync<DumpWriterActor.Finalized>();

        // the file is let go as the dump is final, whether its writer still hashes it or has
        // stopped: a compression that replaces it frees its blocks at once
        using var free = RecoveryScan.OpenExclusive(opened.Directory, CoreFileNames.Plain, out var problem);
        Assert.Null(problem);
        Assert.NotNull(free);
    }
}
