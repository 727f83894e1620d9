using System.Globalization;
using Netdump.Actors.Configuration;

namespace Netdump.Actors.Storage;

/// <summary>Which retention key a dump goes by.</summary>
public enum RetentionRule
{
    MaxAge,
    KeepPerHost,
    MaxTotal,
}

/// <summary>One dump to remove and why, in words for the log and <c>retention.log</c>.</summary>
public sealed record Removal(StoredDump Dump, RetentionRule Rule, string Why);

/// <summary>
/// What retention removes (SPEC §10), decided from the dumps found, the policy and the time
/// alone: no I/O, so every rule is tested on made-up trees. Candidates are the finished dumps
/// (complete, incomplete, refused) that ended at least <see cref="RetentionPolicy.MinimumAge"/>
/// ago (<see cref="StoredDump.LastActivity"/>: one that took long to arrive is not removed the
/// moment it ends, nor while its checksum is still being taken); a held dump (receiving, no final report) and a younger one always stay. Rules, each on
/// what the one before left:
/// <list type="number">
/// <item><c>max_age</c>: every candidate received longer ago goes.</item>
/// <item><c>keep_per_host</c>: of each client's finished dumps (young ones counted, held ones
/// not), the newest N stay; the older candidates go.</item>
/// <item><c>max_total</c>: while the bytes on disk of all dumps (held ones counted: they use the
/// disk) exceed it, the oldest remaining candidate goes.</item>
/// </list>
/// Removals are listed oldest first.
/// </summary>
/// <param name="Removals">What goes, oldest first.</param>
/// <param name="TotalBytes">The bytes on disk of every dump found.</param>
/// <param name="TotalAfter">What stays once the removals are done.</param>
/// <param name="Staying">Why the dumps that stay may not go (one line: the reasons counted, the unusual ones named).</param>
/// <param name="DatedAhead">The dumps dated further ahead than <see cref="FutureTolerance"/>, each as a line for the operator: left alone.</param>
public sealed record RetentionPlan(IReadOnlyList<Removal> Removals, ulong TotalBytes, ulong TotalAfter, string Staying, IReadOnlyList<string> DatedAhead)
{
    /// <summary>
    /// A dump dated further ahead than this (the server's clock was wrong when it came, or it was
    /// copied in from another host) stays, named, out of every rule: counted as a host's newest,
    /// it pushed that host's real dumps out under <c>keep_per_host</c>, and it never grew old.
    /// </summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromHours(1);

    public static RetentionPlan Make(IEnumerable<StoredDump> found, RetentionPolicy policy, DateTimeOffset now)
    {
        var dumps = found.ToList();
        var total = dumps.Aggregate(0UL, (sum, d) => sum + d.Bytes);
        var chosen = new Dictionary<StoredDump, Removal>(ReferenceEqualityComparer.Instance);
        bool FromTheFuture(StoredDump d) => d.LastActivity > now + FutureTolerance;
        bool IsCandidate(StoredDump d) => d.Held is null && !FromTheFuture(d) && now - d.LastActivity >= RetentionPolicy.MinimumAge && !chosen.ContainsKey(d);

        if (policy.MaxAge is { } maxAge)
        {
            foreach (var dump in dumps.Where(d => IsCandidate(d) && now - d.ReceivedAt > maxAge))
            {
                chosen[dump] = new Removal(dump, RetentionRule.MaxAge, $"older than {ConfigKeys.MaxAge.Name} {Duration(maxAge)} (received {Stamp(dump.ReceivedAt)})");
            }
        }

        if (policy.KeepPerHost > 0)
        {
            foreach (var host in dumps.Where(d => d.Held is null && !FromTheFuture(d)).GroupBy(d => d.Client))
            {
                var beyond = host.OrderByDescending(d => d.ReceivedAt).Skip(policy.KeepPerHost).Where(IsCandidate);
                foreach (var dump in beyond)
                {
                    chosen[dump] = new Removal(
                        dump, RetentionRule.KeepPerHost,
                        $"{host.Count()} finished dumps from {DumpLocation.FormatAddress(host.Key)}, {ConfigKeys.KeepPerHost.Name} {policy.KeepPerHost} (received {Stamp(dump.ReceivedAt)})");
                }
            }
        }

        var left = total - chosen.Keys.Aggregate(0UL, (sum, d) => sum + d.Bytes);
        if (policy.MaxTotal is { } maxTotal)
        {
            foreach (var dump in dumps.Where(IsCandidate).OrderBy(d => d.ReceivedAt).ToList())
            {
                if (left <= maxTotal)
                {
                    break;
                }

                chosen[dump] = new Removal(
                    dump, RetentionRule.MaxTotal,
                    $"dumps hold {ByteUnits.Size(left)} on disk, above {ConfigKeys.MaxTotal.Name} {ByteUnits.Size(maxTotal)} (received {Stamp(dump.ReceivedAt)})");
                left -= dump.Bytes;
            }
        }

        var removals = chosen.Values.OrderBy(r => r.Dump.ReceivedAt).ThenBy(r => r.Dump.Directory, StringComparer.Ordinal).ToList();
        string DatedAhead(StoredDump d) => $"{d.Directory}: dated {Stamp(d.LastActivity)}, in the future (was the clock wrong?)";
        var staying = dumps.Where(d => !chosen.ContainsKey(d)).Select(d =>
            FromTheFuture(d) ? (Stay.Named, DatedAhead(d))
            : d.Held?.Reason == HoldReason.Receiving ? (Stay.Receiving, null)
            : d.Held is { } held ? (Stay.Named, $"{d.Directory}: {held.Why}")
            : now - d.LastActivity < RetentionPolicy.MinimumAge ? (Stay.Young, null)
            : (Stay.KeptByKeys, (string?)null)).ToList();
        var datedAhead = dumps.Where(FromTheFuture).Select(d => DatedAhead(d) + "; no retention key removes it").ToList();
        return new RetentionPlan(removals, total, left, Summarize(staying), datedAhead);
    }

    /// <summary>Why a dump stays: the common reasons are counted, the others named with the dump.</summary>
    private enum Stay
    {
        Receiving,
        Young,
        KeptByKeys,
        Named,
    }

    /// <summary>The reasons counted (the common ones) and named (the others, at most five), in one line.</summary>
    private static string Summarize(List<(Stay Why, string? Named)> staying)
    {
        var counted = new[] { (Stay.Receiving, "receiving"), (Stay.Young, "ended less than an hour ago"), (Stay.KeptByKeys, "kept by the keys") }
            .Select(c => (Count: staying.Count(s => s.Why == c.Item1), Text: c.Item2)).Where(c => c.Count > 0).Select(c => $"{c.Count} {c.Text}");
        var named = staying.Where(s => s.Why == Stay.Named).Select(s => s.Named!).ToList();
        var parts = counted.Concat(named.Take(5)).ToList();
        if (named.Count > 5)
        {
            parts.Add($"{named.Count - 5} more");
        }

        return parts.Count == 0 ? "no dumps" : string.Join("; ", parts);
    }

    private static string Stamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>30d, 36h, 90m: the largest whole unit, as the operator likely wrote it.</summary>
    private static string Duration(TimeSpan span) =>
        span.Ticks % TimeSpan.TicksPerDay == 0 ? $"{span.TotalDays:0}d"
        : span.Ticks % TimeSpan.TicksPerHour == 0 ? $"{span.TotalHours:0}h"
        : span.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{span.TotalMinutes:0}m"
        : $"{span.TotalSeconds:0.###}s";
}
