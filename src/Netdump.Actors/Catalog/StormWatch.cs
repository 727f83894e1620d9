using Netdump.Actors.Configuration;

namespace Netdump.Actors.Catalog;

/// <summary>A panic group became a storm: its id, the hosts that joined it within the window, when.</summary>
public sealed record Storm(string Group, IReadOnlyList<string> Hosts, DateTimeOffset At);

/// <summary>
/// Tells when a panic group becomes a storm (SPEC §9): <c>storm_hosts</c> distinct hosts join
/// it within <c>storm_window</c>. A host joins a group when a dump of it is learned to be in the
/// group; joins older than the window are forgotten. A group that stormed does not storm again
/// until a window has passed since, so a bad rollout is one event. Pure: the time is given.
/// </summary>
public sealed class StormWatch(StormSettings settings)
{
    private readonly Dictionary<string, Dictionary<string, DateTimeOffset>> _joins = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _stormAt = new(StringComparer.Ordinal);

    /// <summary>When the group last stormed; null if it never did.</summary>
    public DateTimeOffset? StormAt(string group) => _stormAt.TryGetValue(group, out var at) ? at : null;

    /// <summary>A host joined a group at <paramref name="now"/>; the storm it completes, or null.</summary>
    public Storm? Join(string group, string host, DateTimeOffset now)
    {
        if (!_joins.TryGetValue(group, out var hosts))
        {
            hosts = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            _joins[group] = hosts;
        }

        hosts[host] = now;
        foreach (var (old, at) in hosts.Where(kv => now - kv.Value > settings.Window).ToList())
        {
            hosts.Remove(old);
        }

        if (hosts.Count < settings.Hosts || (_stormAt.TryGetValue(group, out var last) && now - last < settings.Window))
        {
            return null;
        }

        _stormAt[group] = now;
        return new Storm(group, hosts.Keys.Order(StringComparer.Ordinal).ToList(), now);
    }
}
