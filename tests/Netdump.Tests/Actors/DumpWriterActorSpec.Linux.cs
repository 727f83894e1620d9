using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Actors;

/// <summary>The end of a Linux dump in the writer: its console log made durable with its core, on the writer's disk thread.</summary>
public sealed partial class DumpWriterActorSpec
{
    private static readonly LinuxStart X86_64 = new(Machine: 62, MaxVersion: 5, TaskStruct: 0xffff810001234000, PageOffset: 0xffff810000000000, Magic: 0x1234567811111111);

    [Fact]
    public async Task A_linux_dumps_console_log_is_fsynced_with_its_core_before_the_final_reports()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeLinuxDump(disk);

        writer.Tell(DumpWriterActor.ClientFinished.Instance);
        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;

        Assert.Equal(DumpStatus.Complete, record.Status);
        // the pull closed the log on the Linux port's thread without syncing it (that thread serves
        // every Linux client); the core is synced once, after it was cut to its full length
        Assert.Equal(["file " + Path.Combine(opened.Directory, ConsoleLogFile.FileName), "core", "dir " + _dumpDir], disk.Fsyncs);
        Assert.Equal((long)record.Length!.Value, new FileInfo(Path.Combine(opened.Directory, record.Vmcore)).Length);
        Assert.Equal(5L, record.Linux?.LogBytes); // the reports describe the log that was synced
    }

    [Fact]
    public async Task A_console_log_that_cannot_be_fsynced_is_logged_and_the_dump_ends_as_its_data_decides()
    {
        var disk = new FaultyDisk { FailFileFsync = true };
        var (writer, opened) = await WholeLinuxDump(disk);

        await EventFilter.Warning(contains: $"cannot fsync the console log of {opened.Directory}: Input/output error").ExpectOneAsync(async () =>
        {
            writer.Tell(DumpWriterActor.ClientFinished.Instance);
            Assert.Equal(DumpStatus.Complete, (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record.Status);
        });
    }

    [Fact]
    public async Task A_linux_writer_stopped_mid_dump_makes_its_console_log_durable_with_its_core_as_it_marks_the_dump()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeLinuxDump(disk);
        Watch(writer);

        Sys.Stop(writer); // as when it fails, or the system goes down hard

        await ExpectTerminatedAsync(writer);
        Assert.Equal(["file " + Path.Combine(opened.Directory, ConsoleLogFile.FileName), "core"], disk.Fsyncs.Take(2));
        Assert.Equal("incomplete", ReadJson(opened.Directory).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_linux_dump_ended_before_its_memory_was_described_takes_an_empty_list_of_reserved_frames()
    {
        // the session tells the pull's reserved frames at every Linux dump's end, a dump refused
        // before its description (the client gone after its START) included
        var herald = HeraldFor("") with { Linux = X86_64 };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings, herald, disk: new FaultyDisk()));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();

        writer.Tell(new DumpWriterActor.LinuxReserved([]));
        writer.Tell(new DumpWriterActor.EndNow(EndReason.ClientTimedOut));

        var record = (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record;
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal(0, ReadJson(opened.Directory).GetProperty("reserved").GetArrayLength());
    }

    [Fact]
    public async Task A_linux_dump_without_a_console_log_ends_without_one()
    {
        var disk = new FaultyDisk();
        var (writer, opened) = await WholeLinuxDump(disk, log: null);

        writer.Tell(DumpWriterActor.ClientFinished.Instance);

        Assert.Equal(DumpStatus.Complete, (await ExpectMsgAsync<DumpWriterActor.Finalized>()).Record.Status);
        Assert.Equal(["core", "dir " + _dumpDir], disk.Fsyncs);
        Assert.False(File.Exists(Path.Combine(opened.Directory, ConsoleLogFile.FileName)));
    }

    /// <summary>
    /// A Linux writer on <paramref name="disk"/> (this test's child, no flush tick) holding a whole
    /// core of two pages, and the console <paramref name="log"/> as its pull leaves it when the
    /// console is quiet: written and closed.
    /// </summary>
    private async Task<(IActorRef Writer, DumpWriterActor.Opened Opened)> WholeLinuxDump(CoreDisk disk, string? log = "boot\n")
    {
        var herald = HeraldFor("") with { Linux = X86_64 };
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings with { FlushInterval = TimeSpan.FromHours(1) }, herald, disk: disk));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        const uint PageSize = 4096;
        writer.Tell(new DumpWriterActor.DescribeLinux(X86_64, Pages: 2, PageSize, Registers: []));
        var described = await ExpectMsgAsync<DumpWriterActor.LinuxDescribed>();
        WriteData(opened.Core, Pattern(2 * (int)PageSize), (int)PageSize, (ulong)described.DataOffset);
        writer.Tell(new DumpWriterActor.LinuxReserved([]));
        if (log is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(opened.Directory, ConsoleLogFile.FileName), log);
        }

        return (writer, opened);
    }
}
