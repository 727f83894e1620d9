using Microsoft.Win32.SafeHandles;
using Netdump.Actors;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>Retention on dump trees made on disk: what the scan finds and holds, what a pass removes and records.</summary>
public sealed class RetentionRunTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset LongAgo = Now.AddDays(-100);
    private static readonly RetentionPolicy OlderThanADay = new(0, TimeSpan.FromDays(1), null);

    private readonly TempDirectory _temp = new();

    public RetentionRunTests() => Directory.CreateDirectory(DumpDir);

    private string DumpDir => _temp.Combine("crash");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void RetentionRun_should_remove_old_finished_dumps_of_every_status_and_record_each_in_retention_log()
    {
        var complete = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        // as the start-up scan leaves a recovered dump: its core keeps the receiving name
        var incomplete = DumpTreeBuilder.Dump(DumpDir, "192.0.2.2", LongAgo.AddMinutes(1), "incomplete", core: CoreFileNames.Incomplete);
        var refused = DumpTreeBuilder.Dump(DumpDir, "192.0.2.3", LongAgo.AddMinutes(2), "refused", coreBytes: 0);

        var (plan, outcomes, problems, log) = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: false);

        Assert.Empty(problems);
        Assert.IsType<RemovalLog.Recorded>(log);
        Assert.Equal([complete, incomplete, refused], plan.Removals.Select(r => r.Dump.Directory));
        Assert.All(outcomes, o => Assert.IsType<RemovalOutcome.Removed>(o));
        Assert.False(Directory.Exists(complete));
        Assert.False(Directory.Exists(incomplete));
        Assert.False(Directory.Exists(refused));
        var lines = File.ReadAllLines(Path.Combine(DumpDir, RetentionRun.LogFileName));
        Assert.Equal(3, lines.Length);
        var fields = lines[0].Split('\t');
        Assert.Equal(["2024-06-01T12:00:00.000Z", complete], fields[..2]);
        Assert.StartsWith("older than max_age 1d", fields[2]);
        Assert.Equal(plan.Removals[0].Dump.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[3]);
        Assert.True(plan.Removals[0].Dump.Bytes >= 4096, "the core's bytes on disk are counted");
    }

    [Fact]
    public void RetentionRun_should_say_why_a_dump_could_not_go_record_no_line_for_it_and_remove_the_others()
    {
        var held = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var old = DumpTreeBuilder.Dump(DumpDir, "192.0.2.2", LongAgo.AddMinutes(1));
        var plan = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: true).Plan;
        // between the scan and the removal, an operator's folder inside: not retention's to remove
        Directory.CreateDirectory(Path.Combine(held, "notes"));

        var (outcomes, log) = RetentionRun.Execute(DumpDir, plan, Now);

        Assert.Equal([held, old], plan.Removals.Select(r => r.Dump.Directory));
        var failed = Assert.IsType<RemovalOutcome.Failed>(outcomes[0]);
        Assert.Equal($"{held} holds the directory \"notes\"; left alone", failed.Why);
        Assert.IsType<RemovalOutcome.Removed>(outcomes[1]);
        Assert.True(Directory.Exists(held));
        Assert.False(Directory.Exists(old));
        Assert.IsType<RemovalLog.Recorded>(log);
        Assert.Equal(old, Assert.Single(File.ReadAllLines(Path.Combine(DumpDir, RetentionRun.LogFileName))).Split('\t')[1]);
    }

    [Fact]
    public void RetentionRun_should_leave_a_dump_whose_core_a_copy_took_up_after_the_scan()
    {
        var dump = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var plan = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: true).Plan;
        // between the scan and the removal, a compression starts copying the core: its shared lock
        using var copying = RegularFile.OpenRead(Path.Combine(dump, "vmcore"));
        Assert.True(CoreLock.Share(copying));

        var (outcomes, _) = RetentionRun.Execute(DumpDir, plan, Now);

        var failed = Assert.IsType<RemovalOutcome.Failed>(Assert.Single(outcomes));
        Assert.Equal("vmcore is in use (a server is writing or copying it); left alone", failed.Why);
        Assert.Equal(["dump.json", "info", "vmcore"], Directory.GetFileSystemEntries(dump).Select(Path.GetFileName).Order());
        Assert.False(File.Exists(Path.Combine(DumpDir, RetentionRun.LogFileName)));
    }

    [Fact]
    public void RetentionRun_should_leave_a_dump_whose_second_core_a_decryption_holds()
    {
        // a decryption retried beside the vmcore a stopped one left: it holds vmcore_encrypted
        var dump = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        File.WriteAllBytes(Path.Combine(dump, CoreFileNames.Encrypted), new byte[4096]);
        var plan = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: true).Plan;
        using var decrypting = RegularFile.OpenRead(Path.Combine(dump, CoreFileNames.Encrypted));
        Assert.True(CoreLock.Share(decrypting));

        var (outcomes, _) = RetentionRun.Execute(DumpDir, plan, Now);

        var failed = Assert.IsType<RemovalOutcome.Failed>(Assert.Single(outcomes));
        Assert.Equal("vmcore_encrypted is in use (a server is writing or copying it); left alone", failed.Why);
        Assert.True(File.Exists(Path.Combine(dump, "vmcore")));
    }

    [Fact]
    public void RetentionRun_should_report_a_removal_retention_log_could_not_record_as_done_and_say_why_apart()
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        File.CreateSymbolicLink(Path.Combine(DumpDir, RetentionRun.LogFileName), "/dev/null"); // never written through

        var (plan, outcomes, _, log) = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: false);

        Assert.Equal([old], plan.Removals.Select(r => r.Dump.Directory));
        Assert.IsType<RemovalOutcome.Removed>(Assert.Single(outcomes));
        Assert.False(Directory.Exists(old));
        Assert.StartsWith($"removed dumps are not recorded in {RetentionRun.LogFileName}: ", Assert.IsType<RemovalLog.Unrecorded>(log).Why);
    }

    [Fact]
    public void RetentionRun_should_remove_a_last_link_to_a_removed_dump_and_leave_the_others()
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var other = Path.Combine(DumpDir, "elsewhere");
        Directory.CreateDirectory(other);
        File.CreateSymbolicLink(Path.Combine(DumpDir, "web7.last"), Path.GetFileName(old));
        File.CreateSymbolicLink(Path.Combine(DumpDir, "db1.last"), "elsewhere");

        RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: false);

        Assert.False(Directory.Exists(old));
        Assert.Null(new FileInfo(Path.Combine(DumpDir, "web7.last")).LinkTarget); // gone: it would point at nothing
        Assert.Equal("elsewhere", new FileInfo(Path.Combine(DumpDir, "db1.last")).LinkTarget);
        Assert.True(Directory.Exists(other));
    }

    [Fact]
    public void RetentionRun_dry_run_should_plan_the_same_and_touch_nothing()
    {
        var old = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);

        var (plan, outcomes, _, _) = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: true);

        Assert.Equal(old, Assert.Single(plan.Removals).Dump.Directory);
        Assert.Empty(outcomes);
        Assert.True(Directory.Exists(old));
        Assert.False(File.Exists(Path.Combine(DumpDir, RetentionRun.LogFileName)));
    }

    [Fact]
    public void RetentionScan_should_date_a_dumps_end_by_its_finished_at_unless_the_start_up_scan_recovered_it()
    {
        // a slow dump ended a minute ago; a dump recovered at the last start: its finished_at is
        // the scan's time, not its last data's
        var slow = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var recovered = DumpTreeBuilder.Dump(DumpDir, "192.0.2.2", LongAgo, "incomplete", core: CoreFileNames.Incomplete);
        var received = $"{LongAgo.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}";
        var justNow = $"{Now.AddMinutes(-1).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}";
        File.WriteAllText(Path.Combine(slow, DumpReport.JsonFileName),
            $$"""{"status":"complete","client_ip":"192.0.2.1","received_at":"{{received}}","finished_at":"{{justNow}}","vmcore":"vmcore"}""");
        File.WriteAllText(Path.Combine(recovered, DumpReport.JsonFileName),
            $$"""{"status":"incomplete","client_ip":"192.0.2.2","received_at":"{{received}}","finished_at":"{{justNow}}","recovered":true,"vmcore":"vmcore-incomplete"}""");

        var (dumps, _) = RetentionScan.Run(DumpDir);

        Assert.Equal(Now.AddMinutes(-1), dumps.Single(d => d.Directory == slow).LastActivity);
        Assert.Equal(LongAgo, dumps.Single(d => d.Directory == recovered).LastActivity);
    }

    [Fact]
    public void RetentionRun_should_name_a_dump_dated_ahead_among_its_problems_whatever_the_keys()
    {
        var ahead = DumpTreeBuilder.Dump(DumpDir, "192.0.2.9", Now.AddYears(5));

        var pass = RetentionRun.Prune(DumpDir, new RetentionPolicy(1, null, null), Now, dryRun: true);

        Assert.Empty(pass.Plan.Removals);
        Assert.Contains(pass.Problems, p => p.StartsWith($"{ahead}: dated ", StringComparison.Ordinal) && p.EndsWith("in the future (was the clock wrong?); no retention key removes it", StringComparison.Ordinal));
    }

    [Fact]
    public void RetentionScan_should_hold_dumps_still_being_received_however_old()
    {
        var receiving = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo, "receiving", core: CoreFileNames.Incomplete);
        // killed before its first report: the writer's reserve and core, no dump.json
        var unreported = DumpTreeBuilder.Dump(DumpDir, "192.0.2.2", LongAgo, status: null, core: CoreFileNames.Incomplete);
        File.WriteAllText(Path.Combine(unreported, DumpReport.ReservedName(DumpReport.JsonFileName)), "");
        // finished on paper, but its core is open in a live writer
        var written = DumpTreeBuilder.Dump(DumpDir, "192.0.2.3", LongAgo);
        using var writer = File.OpenHandle(Path.Combine(written, "vmcore"), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        Assert.True(CoreLock.Share(writer)); // as a writer, or a compression's copy, holds its core

        var (dumps, _) = RetentionScan.Run(DumpDir);
        var (plan, outcomes, _, _) = RetentionRun.Prune(DumpDir, new RetentionPolicy(1, TimeSpan.FromDays(1), 1), Now, dryRun: false);

        Assert.Equal(DumpHold.Receiving, dumps.Single(d => d.Directory == receiving).Held);
        Assert.Equal(DumpHold.NoFinalReport, dumps.Single(d => d.Directory == unreported).Held);
        Assert.Equal(HoldReason.CoreInUse, dumps.Single(d => d.Directory == written).Held?.Reason);
        Assert.Contains("is in use", dumps.Single(d => d.Directory == written).Held!.Why);
        Assert.Empty(plan.Removals);
        Assert.Empty(outcomes);
        Assert.True(Directory.Exists(receiving) && Directory.Exists(unreported) && Directory.Exists(written));
    }

    [Fact]
    public void RetentionRun_should_leave_what_is_not_a_dump_directory_and_never_follow_a_symlink()
    {
        var dump = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        // the server's own folders, even holding something that looks like a dump
        var own = new[] { ".console", "magic", "scripts" }.Select(f => DumpTreeBuilder.Dump(Path.Combine(DumpDir, f), "192.0.2.9", LongAgo)).ToList();
        // a dump elsewhere, reached only through links: <host>.last and a link to a folder
        var outside = DumpTreeBuilder.Dump(_temp.Combine("elsewhere"), "192.0.2.1", LongAgo);
        File.CreateSymbolicLink(Path.Combine(DumpDir, "host1.last"), dump);
        Directory.CreateSymbolicLink(Path.Combine(DumpDir, "linked"), _temp.Combine("elsewhere"));
        // a link inside a dump is unlinked with it, its target untouched
        var target = _temp.Combine("precious");
        File.WriteAllText(target, "keep me");
        File.CreateSymbolicLink(Path.Combine(dump, "link"), target);

        var (plan, outcomes, _, _) = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: false);

        Assert.Equal(dump, Assert.Single(plan.Removals).Dump.Directory);
        Assert.IsType<RemovalOutcome.Removed>(Assert.Single(outcomes));
        Assert.False(Directory.Exists(dump));
        Assert.All(own, d => Assert.True(Directory.Exists(d), d));
        Assert.True(Directory.Exists(outside));
        Assert.Equal("keep me", File.ReadAllText(target));
        Assert.Null(new FileInfo(Path.Combine(DumpDir, "host1.last")).LinkTarget); // a link to the removed dump goes with it
    }

    /// <summary>attack11 F9: a folder of the operator's with a report in it is no dump, whatever the report says.</summary>
    [Fact]
    public void RetentionRun_should_never_remove_a_folder_whose_name_is_not_a_dumps_whatever_report_it_holds()
    {
        var dump = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var folder = Path.Combine(DumpDir, "case-4711");
        Directory.CreateDirectory(folder);
        // as the start-up scan once left a hand-made "receiving" report: a finished dump's, old
        File.WriteAllText(Path.Combine(folder, DumpReport.JsonFileName),
            $$"""{"status":"incomplete","client_ip":"192.0.2.7","received_at":"{{LongAgo.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","vmcore":"vmcore-incomplete"}""");
        File.WriteAllBytes(Path.Combine(folder, CoreFileNames.Incomplete), new byte[4096]);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "the operator's\n");

        var (plan, outcomes, problems, _) = RetentionRun.Prune(DumpDir, new RetentionPolicy(0, TimeSpan.FromDays(1), 1), Now, dryRun: false);

        Assert.Equal(dump, Assert.Single(plan.Removals).Dump.Directory);
        Assert.IsType<RemovalOutcome.Removed>(Assert.Single(outcomes));
        Assert.Equal([$"{folder}: holds {DumpReport.JsonFileName}, but its name is not a dump directory's ({DumpDirectoryNamePattern}, which every dump this server makes has): not a dump of this server, left alone"], problems);
        Assert.Equal("the operator's\n", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.True(File.Exists(Path.Combine(folder, DumpReport.JsonFileName)));
        Assert.Equal(4096, new FileInfo(Path.Combine(folder, CoreFileNames.Incomplete)).Length);
    }

    private const string DumpDirectoryNamePattern = "<client-ip>-<yyyy-MM-dd-HH:mm:ss>[-N]";

    [Fact]
    public void RetentionScan_should_count_a_sparse_core_by_its_bytes_on_disk_not_its_length()
    {
        var dir = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo, coreBytes: 0);
        using (var core = new FileStream(Path.Combine(dir, "vmcore"), FileMode.Open))
        {
            core.SetLength(1L << 30);
            core.Write(new byte[65536]);
        }

        var dump = Assert.Single(RetentionScan.Run(DumpDir).Dumps);

        Assert.InRange(dump.Bytes, 65536UL, 1UL << 20);
    }

    [Fact]
    public void RetentionScan_should_hold_a_dump_that_holds_another_dump()
    {
        var outer = DumpTreeBuilder.Dump(DumpDir, "192.0.2.1", LongAgo);
        var inner = DumpTreeBuilder.Dump(outer, "192.0.2.2", LongAgo);

        var (plan, _, _, _) = RetentionRun.Prune(DumpDir, OlderThanADay, Now, dryRun: false);

        Assert.Equal(inner, Assert.Single(plan.Removals).Dump.Directory);
        Assert.True(Directory.Exists(outer));
        Assert.False(Directory.Exists(inner));
    }
}
