using System.Text.Json;
using Netdump.Actors.Catalog;
using Netdump.Actors.Configuration;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Catalog;

public sealed class CatalogTests
{
    [Theory]
    [InlineData("page fault while in kernel mode: fault virtual address = 0xfffff80012345678", "page fault while in kernel mode: fault virtual address = 0x#")]
    [InlineData("panic: vm_fault: pager read error, pid 1234 (nginx)", "panic: vm_fault: pager read error, pid # (nginx)")]
    [InlineData("Kernel panic - not syncing: Fatal exception in interrupt at ffffffff8012abcd cpu 3", "Kernel panic - not syncing: Fatal exception in interrupt at # cpu #")]
    [InlineData("ext4_readdir+0x1a/0x200 in ip6_input", "ext4_readdir+0x#/0x# in ip6_input")]
    [InlineData("  two\nlines\t here ", "two lines here")]
    public void A_panic_string_is_normalised_with_addresses_and_numbers_masked(string panic, string normalised) =>
        Assert.Equal(normalised, PanicGroupKey.Normalise(panic));

    [Fact]
    public void Panics_that_differ_only_in_numbers_share_a_group_and_a_kernel_or_a_panic_makes_another()
    {
        var a = PanicGroupKey.Of("fault at 0xdeadbeef pid 12", "FreeBSD 14.1-RELEASE");
        var b = PanicGroupKey.Of("fault at 0x1234 pid 99", "FreeBSD 14.1-RELEASE");
        var otherKernel = PanicGroupKey.Of("fault at 0x1234 pid 99", "FreeBSD 14.2-RELEASE");
        var otherPanic = PanicGroupKey.Of("double fault at 0x1234 pid 99", "FreeBSD 14.1-RELEASE");

        Assert.Equal(a, b);
        Assert.Matches("^[0-9a-f]{12}$", a!.Id);
        Assert.NotEqual(a.Id, otherKernel!.Id);
        Assert.NotEqual(a.Id, otherPanic!.Id);
        Assert.Null(PanicGroupKey.Of(" ", "FreeBSD 14.1-RELEASE"));
    }

    [Theory]
    [InlineData("FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8: Fri May 31 05:41:19 UTC 2024\n    root@releng1:/usr/obj/GENERIC\n", "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8")]
    [InlineData("FreeBSD 14.1-RELEASE simulated", "FreeBSD 14.1-RELEASE simulated")]
    public void The_kernel_of_a_FreeBSD_version_string_is_its_first_line_up_to_the_build_date(string versionString, string kernel) =>
        Assert.Equal(kernel, KernelVersion.FromFreeBsd(versionString));

    [Theory]
    [InlineData("Linux version 2.6.9-89.ELsmp (mockbuild@x86-005) (gcc version 3.4.6) #1 SMP", "2.6.9-89.ELsmp")]
    [InlineData("Pid: 1, comm: swapper Not tainted 2.6.9-89.ELsmp", "2.6.9-89.ELsmp")]
    [InlineData("Pid: 4242, comm: java Tainted: P      2.6.9-42.EL", "2.6.9-42.EL")]
    [InlineData("Kernel panic - not syncing: Oops", null)]
    public void The_kernel_of_a_Linux_console_line_is_the_version_it_prints(string line, string? kernel) =>
        Assert.Equal(kernel, KernelVersion.FromLinuxLine(line));

    [Fact]
    public void A_dump_id_is_its_path_under_dumpdir_with_slashes_as_tildes_and_never_shared()
    {
        Assert.Equal("192.0.2.7-2026-11-01-09:00:00", DumpId.Of("/var/crash", "/var/crash/192.0.2.7-2026-11-01-09:00:00"));
        Assert.Equal("rack1~web~192.0.2.7-2026-11-01-09:00:00", DumpId.Of("/var/crash", "/var/crash/rack1/web/192.0.2.7-2026-11-01-09:00:00"));
        Assert.NotEqual(DumpId.Of("/d", "/d/a~b/x"), DumpId.Of("/d", "/d/a/b/x"));
        Assert.NotEqual(DumpId.Of("/d", "/d/a%7Eb/x"), DumpId.Of("/d", "/d/a~b/x"));
    }

    [Fact]
    public void An_entry_read_from_a_written_dump_json_equals_the_one_made_from_its_record()
    {
        // one list of field names for the writer and the reader: a rename on one side fails here
        using var root = new TempDirectory();
        var record = CatalogTree.Record(root.Path, "192.0.2.7", CatalogTree.Start, "web7", "fault at 0x18", DumpStatus.Incomplete, EndReason.Holes(1, 32768), under: "rack1");
        var fromRecord = CatalogEntries.FromRecord(root.Path, record);
        using var json = JsonDocument.Parse(DumpReport.FormatJson(record));

        var fromJson = CatalogEntries.FromJson(root.Path, record.Directory, json.RootElement);

        Assert.Equal(fromRecord, fromJson);
        Assert.Equal(EndKind.Holes, fromJson!.Reason!.Kind);
        Assert.Equal("web7", fromJson.Host);
        Assert.Equal(1, fromJson.HoleCount);
        Assert.Equal(32768UL, fromJson.MissingBytes);
    }

    [Fact]
    public void Every_end_reason_the_server_writes_is_read_back_as_its_kind()
    {
        EndReason[] written =
        [
            EndReason.ClientTimedOut, EndReason.ServerShutDown, EndReason.Superseded, EndReason.NoSpace, EndReason.Holes(2, 10),
            EndReason.NoKernelDumpHeader, EndReason.BadKernelDumpHeader("bad magic"), EndReason.KeyIncomplete("1 of 2 bytes"),
            EndReason.NoMemoryDescription, EndReason.NoAnswer(LinuxCommand.GetNrPages, 10), EndReason.AnsweredWithError(LinuxCommand.GetPageSize),
            EndReason.BadMemoryDescription("no pages"), EndReason.TooLargeWrite(1, 9, 8), EndReason.TooLargePage(3, 12288, 8192),
            EndReason.TooLargeCore(1 << 20, 8192), EndReason.TooFragmented("the write ..."), EndReason.FsyncFailed("EIO"),
            EndReason.WriteFailed(9, "EIO"), EndReason.WriteFailed("the key", "EIO"), EndReason.WriteFailed(what: null, "EIO"),
            EndReason.ReceiveError("recvmmsg: EBADF"),
            EndReason.WriterFailed, EndReason.ServerStopped(RecoveryScan.ReasonFor("vmcore-incomplete", 10, null)), EndReason.TooManyDumps,
        ];

        Assert.All(written, reason => Assert.Equal(reason, EndReason.Parse(reason.Text)));
        Assert.Equal(EndKind.Other, EndReason.Parse("cosmic rays").Kind);
    }

    [Fact]
    public void A_linux_clients_unanswered_or_refused_question_is_named_by_its_command()
    {
        Assert.Equal("no answer to GetNrPages after 10 requests", EndReason.NoAnswer(LinuxCommand.GetNrPages, 10).Text);
        Assert.Equal("the client answered GetPageSize with an error", EndReason.AnsweredWithError(LinuxCommand.GetPageSize).Text);
    }

    [Fact]
    public void A_listing_is_newest_first_counts_every_match_and_pages()
    {
        var index = new CatalogIndex();
        for (var i = 0; i < 12; i++)
        {
            index.Put(Entry($"192.0.2.{i}", CatalogTree.Start.AddMinutes(i), i % 3 == 0 ? DumpStatus.Incomplete : DumpStatus.Complete));
        }

        var page = index.Query(DumpFilter.All, offset: 5, limit: 5);

        Assert.Equal(12, page.Total);
        Assert.Equal(["192.0.2.6", "192.0.2.5", "192.0.2.4", "192.0.2.3", "192.0.2.2"], page.Items.Select(e => e.ClientIp));
        var incomplete = index.Query(new DumpFilter(Statuses: new HashSet<DumpStatus> { DumpStatus.Incomplete }), 0, 50);
        Assert.Equal(["192.0.2.9", "192.0.2.6", "192.0.2.3", "192.0.2.0"], incomplete.Items.Select(e => e.ClientIp));
        var since = index.Query(new DumpFilter(Since: CatalogTree.Start.AddMinutes(10)), 0, 50);
        Assert.Equal(2, since.Total);
        Assert.Equal(["192.0.2.4"], index.Query(new DumpFilter(Host: "HOST-192.0.2.4"), 0, 50).Items.Select(e => e.ClientIp));
        Assert.Equal(["192.0.2.4"], index.Query(new DumpFilter(Host: "192.0.2.4"), 0, 50).Items.Select(e => e.ClientIp));
    }

    [Fact]
    public void Panic_groups_count_hosts_and_dumps_and_forget_a_dump_that_goes()
    {
        var index = new CatalogIndex();
        var first = Entry("192.0.2.1", CatalogTree.Start, panic: "fault at 0x10");
        index.Put(first);
        index.Put(Entry("192.0.2.2", CatalogTree.Start.AddMinutes(1), panic: "fault at 0x20"));
        index.Put(Entry("192.0.2.2", CatalogTree.Start.AddMinutes(2), panic: "fault at 0x30"));
        index.Put(Entry("192.0.2.3", CatalogTree.Start.AddMinutes(3), panic: "something else"));

        var group = Assert.Single(index.Groups.Page(0, int.MaxValue, int.MaxValue).Items, g => g.Key.Id == first.Group);
        Assert.Equal(["host-192.0.2.1", "host-192.0.2.2"], group.Hosts);
        Assert.Equal(3, group.Dumps);
        Assert.Equal(CatalogTree.Start, group.FirstSeen);
        Assert.Equal(CatalogTree.Start.AddMinutes(2), group.LastSeen);
        Assert.Equal("fault at 0x#", group.Key.Panic);

        index.Remove(first.Id);
        group = Assert.Single(index.Groups.Page(0, int.MaxValue, int.MaxValue).Items, g => g.Key.Id == first.Group);
        Assert.Equal(["host-192.0.2.2"], group.Hosts);
        Assert.Equal(CatalogTree.Start.AddMinutes(1), group.FirstSeen);
        Assert.Equal(2, index.Groups.Count);
    }

    private static CatalogEntry Entry(string client, DateTimeOffset at, DumpStatus status = DumpStatus.Complete, string panic = "fault") =>
        CatalogEntries.FromRecord("/var/crash", CatalogTree.Record("/var/crash", client, at, $"host-{client}", panic, status));
}

public sealed class StormWatchTests
{
    private static readonly StormSettings Five = new(5, TimeSpan.FromMinutes(10));

    [Fact]
    public void Five_hosts_joining_a_group_within_the_window_make_one_storm()
    {
        var watch = new StormWatch(Five);
        var t = CatalogTree.Start;
        for (var i = 1; i <= 4; i++)
        {
            Assert.Null(watch.Join("g", $"host{i}", t.AddMinutes(i)));
        }

        Assert.Null(watch.Join("g", "host4", t.AddMinutes(5))); // a host again is not another host
        var storm = watch.Join("g", "host5", t.AddMinutes(9));

        Assert.NotNull(storm);
        Assert.Equal(["host1", "host2", "host3", "host4", "host5"], storm.Hosts);
        Assert.Equal(t.AddMinutes(9), watch.StormAt("g"));
        Assert.Null(watch.Join("g", "host6", t.AddMinutes(10))); // one event, not one per host
        Assert.Null(watch.Join("other", "host1", t.AddMinutes(10)));
    }

    [Fact]
    public void Hosts_further_apart_than_the_window_make_no_storm_and_a_group_storms_again_only_a_window_later()
    {
        var watch = new StormWatch(Five);
        var t = CatalogTree.Start;
        for (var i = 0; i < 8; i++)
        {
            Assert.Null(watch.Join("g", $"slow{i}", t.AddMinutes(i * 3))); // never five within 10 minutes
        }

        var later = t.AddHours(1);
        for (var i = 0; i < 4; i++)
        {
            watch.Join("g", $"a{i}", later);
        }

        Assert.NotNull(watch.Join("g", "a4", later));
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(watch.Join("g", $"b{i}", later.AddMinutes(5)));
        }

        Assert.NotNull(watch.Join("g", "b5", later.AddMinutes(11)));
    }
}

public sealed class StringPoolTests
{
    [Fact]
    public void Entries_share_one_copy_of_each_repeated_string_and_an_entry_already_pooled_is_kept_as_it_is()
    {
        var pool = new StringPool();
        // equal strings made apart, as two dump.json files read give them
        static string Copy(string text) => new(text.AsSpan());
        const string version = "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8: Fri May 31 05:41:19 UTC 2024\n";
        var a = CatalogEntries.FromRecord("/var/crash", CatalogTree.Record("/var/crash", "192.0.2.1", CatalogTree.Start, Copy("web1"), "fault", version: Copy(version)));
        var b = CatalogEntries.FromRecord("/var/crash", CatalogTree.Record("/var/crash", "192.0.2.2", CatalogTree.Start, Copy("web1"), "fault", version: Copy(version)));
        Assert.NotSame(a.VersionString, b.VersionString);

        var pa = pool.Pool(a);
        var pb = pool.Pool(b);

        Assert.Equal(b, pb);
        Assert.Same(pa.VersionString, pb.VersionString);
        Assert.Same(pa.Kernel, pb.Kernel);
        Assert.Same(pa.Hostname, pb.Hostname);
        Assert.Same(pb, pool.Pool(pb));
    }
}
