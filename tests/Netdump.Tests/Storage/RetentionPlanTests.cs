using System.Net;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>The retention rules on made-up dumps: the planner does no I/O, so the time is whatever the test says.</summary>
public sealed class RetentionPlanTests
{
    private const ulong GiB = 1UL << 30;
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");

    private static StoredDump Dump(string name, IPAddress client, TimeSpan age, ulong bytes = GiB, DumpHold? held = null) =>
        new($"/var/crash/{name}", client, Now - age, bytes, held);

    private static IEnumerable<string> Removed(RetentionPlan plan) => plan.Removals.Select(r => Path.GetFileName(r.Dump.Directory));

    [Fact]
    public void MaxAge_should_remove_the_dumps_received_longer_ago_and_keep_the_others()
    {
        var dumps = new[] { Dump("old", A, TimeSpan.FromDays(31)), Dump("recent", A, TimeSpan.FromDays(29)), Dump("older", B, TimeSpan.FromDays(40)) };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(0, TimeSpan.FromDays(30), null), Now);

        Assert.Equal(["older", "old"], Removed(plan));
        Assert.All(plan.Removals, r => Assert.Equal(RetentionRule.MaxAge, r.Rule));
        Assert.StartsWith("older than max_age 30d (received 2024-04-22 12:00:00 UTC)", plan.Removals[0].Why);
    }

    [Fact]
    public void KeepPerHost_should_keep_the_newest_dumps_of_each_client_young_ones_counted()
    {
        var dumps = new[]
        {
            Dump("a1", A, TimeSpan.FromDays(3)), Dump("a2", A, TimeSpan.FromDays(2)), Dump("a3", A, TimeSpan.FromDays(1)),
            Dump("a4", A, TimeSpan.FromMinutes(5)),
            Dump("b1", B, TimeSpan.FromDays(9)), Dump("b2", B, TimeSpan.FromDays(8)),
        };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(2, null, null), Now);

        // A's newest two are a4 (five minutes old) and a3; B has only two
        Assert.Equal(["a1", "a2"], Removed(plan));
        Assert.All(plan.Removals, r => Assert.Equal(RetentionRule.KeepPerHost, r.Rule));
        Assert.StartsWith("4 finished dumps from 192.0.2.1, keep_per_host 2", plan.Removals[0].Why);
    }

    [Fact]
    public void MaxTotal_should_remove_the_oldest_dumps_until_the_total_on_disk_fits()
    {
        var dumps = new[]
        {
            Dump("newest", A, TimeSpan.FromDays(1), 3 * GiB), Dump("oldest", B, TimeSpan.FromDays(5), 2 * GiB),
            Dump("middle", A, TimeSpan.FromDays(3), 4 * GiB), Dump("second", B, TimeSpan.FromDays(4), 1 * GiB),
        };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(0, null, 6 * GiB), Now);

        // 10 GiB: oldest (2) leaves 8, second (1) leaves 7, middle (4) leaves 3
        Assert.Equal(["oldest", "second", "middle"], Removed(plan));
        Assert.Equal(10 * GiB, plan.TotalBytes);
        Assert.Equal(3 * GiB, plan.TotalAfter);
        Assert.StartsWith("dumps hold 10.0 GiB on disk, above max_total 6.0 GiB", plan.Removals[0].Why);
    }

    [Fact]
    public void Retention_should_never_remove_a_dump_younger_than_an_hour_whatever_the_keys_say()
    {
        var dumps = new[] { Dump("fifty-nine-minutes", A, TimeSpan.FromMinutes(59)), Dump("an-hour", A, TimeSpan.FromHours(1)) };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(1, TimeSpan.FromHours(1), 1), Now);

        // the hour-old one is not older than max_age, but keep_per_host 1 keeps only the newest
        Assert.Equal(["an-hour"], Removed(plan));
        Assert.Equal(GiB, plan.TotalAfter);
    }

    [Fact]
    public void Retention_should_never_remove_a_held_dump_but_count_its_bytes()
    {
        var dumps = new[]
        {
            Dump("receiving", A, TimeSpan.FromDays(90), 5 * GiB, held: DumpHold.Receiving),
            Dump("finished", B, TimeSpan.FromDays(2), GiB),
            Dump("newer", A, TimeSpan.FromDays(1), GiB),
        };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(1, TimeSpan.FromDays(30), 6 * GiB), Now);

        // the receiving dump is the oldest and over max_age, and A's second: it stays, and its
        // 5 GiB push the oldest finished dump out
        Assert.Equal(["finished"], Removed(plan));
        Assert.Equal(RetentionRule.MaxTotal, plan.Removals[0].Rule);
        Assert.Equal(6 * GiB, plan.TotalAfter);
    }

    [Fact]
    public void Retention_should_list_removals_oldest_first_across_rules_and_name_each_once()
    {
        var dumps = new[]
        {
            Dump("b-10d", B, TimeSpan.FromDays(10)), Dump("a-40d", A, TimeSpan.FromDays(40)),
            Dump("a-20d", A, TimeSpan.FromDays(20)), Dump("kept", A, TimeSpan.FromDays(1)), Dump("kept-b", B, TimeSpan.FromDays(2)),
        };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(1, TimeSpan.FromDays(30), 2 * GiB), Now);

        Assert.Equal(["a-40d", "a-20d", "b-10d"], Removed(plan));
        Assert.Equal([RetentionRule.MaxAge, RetentionRule.KeepPerHost, RetentionRule.KeepPerHost], plan.Removals.Select(r => r.Rule));
    }

    [Fact]
    public void Retention_without_keys_should_remove_nothing()
    {
        var plan = RetentionPlan.Make([Dump("ancient", A, TimeSpan.FromDays(3650))], RetentionPolicy.None, Now);

        Assert.Empty(plan.Removals);
        Assert.False(RetentionPolicy.None.IsActive);
    }

    [Fact]
    public void A_dump_that_took_long_to_arrive_is_young_until_an_hour_after_its_end()
    {
        // received three hours ago, ended ten minutes ago (a slow link): the operator has not looked
        // at it yet, and its writer may still be taking its checksum
        var slow = Dump("slow", A, TimeSpan.FromHours(3), 4 * GiB) with { FinishedAt = Now - TimeSpan.FromMinutes(10) };
        var dumps = new[] { slow, Dump("quick", B, TimeSpan.FromHours(2), 4 * GiB) with { FinishedAt = Now - TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1) } };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(0, TimeSpan.FromHours(2), 4 * GiB), Now);

        Assert.Equal(["quick"], Removed(plan));
    }

    [Fact]
    public void A_dump_dated_in_the_future_stays_named_and_does_not_push_its_hosts_real_dumps_out()
    {
        var dumps = new[]
        {
            Dump("future", A, -TimeSpan.FromDays(365 * 5)), Dump("yesterday", A, TimeSpan.FromDays(1)), Dump("last-week", A, TimeSpan.FromDays(7)),
        };

        var kept = RetentionPlan.Make(dumps, new RetentionPolicy(1, null, null), Now);
        var full = RetentionPlan.Make(dumps, new RetentionPolicy(0, TimeSpan.FromHours(2), 1), Now);

        // keep_per_host 1 keeps "yesterday", the host's newest real dump; nothing removes "future"
        Assert.Equal(["last-week"], Removed(kept));
        Assert.Equal(["last-week", "yesterday"], Removed(full));
        Assert.Equal("/var/crash/future: dated 2029-05-31 12:00:00 UTC, in the future (was the clock wrong?)", full.Staying);
        Assert.Equal(["/var/crash/future: dated 2029-05-31 12:00:00 UTC, in the future (was the clock wrong?); no retention key removes it"], kept.DatedAhead);
    }

    [Fact]
    public void Why_the_rest_stays_counts_the_common_reasons_and_names_the_unusual_ones()
    {
        var dumps = new[]
        {
            Dump("receiving", A, TimeSpan.FromDays(2), held: DumpHold.Receiving), Dump("young", A, TimeSpan.FromMinutes(5)),
            Dump("damaged", B, TimeSpan.FromDays(9), held: DumpHold.NoFinalReport),
        };

        var plan = RetentionPlan.Make(dumps, new RetentionPolicy(0, null, 1), Now);

        Assert.Empty(plan.Removals);
        Assert.Equal("1 receiving; 1 ended less than an hour ago; /var/crash/damaged: no final dump.json", plan.Staying);
    }
}
