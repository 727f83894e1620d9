using System.Net;
using Netdump.Actors.Ingest;

namespace Netdump.Actors;

/// <summary>
/// Remembers which clients were refused recently, so a refusal is logged once per episode: a
/// client refused again within <c>episode</c> of its previous refusal (its HERALD
/// retransmissions) is not logged again. Bounded: old entries are dropped once many pile up.
/// Used by one actor at a time.
/// </summary>
internal sealed class RefusalEpisodes(TimeSpan episode)
{
    private const int PruneAbove = 4096;
    private readonly Dictionary<IPAddress, long> _lastRefusal = [];
    private readonly long _episodeMs = (long)episode.TotalMilliseconds;
    private readonly ReportBudget _logBudget = new(10);
    private int _suppressed;

    /// <summary>
    /// Records a refusal; true when it starts a new episode and should be logged. Under a flood
    /// of new clients at most 10 a second are; the others are counted (<see cref="TakeSuppressed"/>).
    /// </summary>
    public bool Refuse(IPAddress client)
    {
        var now = Environment.TickCount64;
        var fresh = !_lastRefusal.TryGetValue(client, out var last) || now - last > _episodeMs;
        if (fresh && !_logBudget.TryTake())
        {
            _suppressed++;
            fresh = false;
        }

        _lastRefusal[client] = now;
        if (_lastRefusal.Count > PruneAbove)
        {
            foreach (var stale in _lastRefusal.Where(kv => now - kv.Value > _episodeMs).Select(kv => kv.Key).ToList())
            {
                _lastRefusal.Remove(stale);
            }
        }

        return fresh;
    }

    /// <summary>How many new refusals went unlogged since the last call (for a summary line).</summary>
    public int TakeSuppressed()
    {
        var suppressed = _suppressed;
        _suppressed = 0;
        return suppressed;
    }

    /// <summary>The client was let in: a later refusal starts a new episode.</summary>
    public void Forget(IPAddress client) => _lastRefusal.Remove(client);
}
