using System.Net;

namespace Netdump.Actors;

/// <summary>
/// Lets a thing happen at most once per <c>interval</c> per address (a refused client's reboot,
/// netdump-start). Unlike <see cref="RefusalEpisodes"/>, whose episode lasts while retries come,
/// the interval counts from the last time the thing happened. Bounded: past 4096 addresses,
/// those whose interval is over are forgotten. Used by one actor at a time.
/// </summary>
internal sealed class AddressClock(TimeSpan interval)
{
    private const int PruneAbove = 4096;
    private readonly Dictionary<IPAddress, long> _last = [];
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;

    /// <summary>True, and the interval starts now, when the address's last one was an interval ago or more (or never).</summary>
    public bool TryTake(IPAddress address)
    {
        var now = Environment.TickCount64;
        if (_last.TryGetValue(address, out var last) && now - last < _intervalMs)
        {
            return false;
        }

        _last[address] = now;
        if (_last.Count > PruneAbove)
        {
            foreach (var stale in _last.Where(kv => now - kv.Value >= _intervalMs).Select(kv => kv.Key).ToList())
            {
                _last.Remove(stale);
            }
        }

        return true;
    }
}
