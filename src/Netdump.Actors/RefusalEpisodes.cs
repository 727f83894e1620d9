using System.Net;
using Netdump.Actors.Ingest;

namespace Netdump.Actors;

/// <summary>
/// Remembers which clients were refused recently, so a refusal is counted and logged once per
/// episode: a client refused again within <c>episode</c> of its previous refusal (its HERALD
/// retransmissions) starts no new one. Under a flood of new clients at most 10 lines a second
/// are written; a client refused without its line gets it at a later refusal of the same episode
/// (its next retransmission) when the budget allows, and the ones still without one are counted
/// for a summary line (<see cref="TakeUnlogged"/>). Bounded: old entries are dropped once many
/// pile up. Used by one actor at a time.
/// </summary>
internal sealed class RefusalEpisodes(TimeSpan episode)
{
    /// <summary>
    /// A refusal as the counters and the log see it: the first of its client's episode (count
    /// it), whether its log line is to be written now (at most once an episode), and whether it
    /// is the first left unnamed since the last summary (time to schedule the next one).
    /// </summary>
    public readonly record struct Refusal(bool NewEpisode, bool Log, bool StartsSummary);

    private const int PruneAbove = 4096;
    private readonly Dictionary<IPAddress, (long Last, bool Logged)> _clients = [];
    private readonly long _episodeMs = (long)episode.TotalMilliseconds;
    private readonly ReportBudget _logBudget = new(10);
    private int _unlogged;

    public Refusal Refuse(IPAddress client)
    {
        var now = Environment.TickCount64;
        var known = _clients.TryGetValue(client, out var entry) && now - entry.Last <= _episodeMs;
        var logged = known && entry.Logged;
        var log = !logged && _logBudget.TryTake();
        var startsSummary = false;
        if (!known && !log)
        {
            startsSummary = _unlogged == 0;
            _unlogged++;
        }

        _clients[client] = (now, logged || log);
        if (_clients.Count > PruneAbove)
        {
            foreach (var stale in _clients.Where(kv => now - kv.Value.Last > _episodeMs).Select(kv => kv.Key).ToList())
            {
                _clients.Remove(stale);
            }
        }

        return new Refusal(!known, log, startsSummary);
    }

    /// <summary>
    /// How many new episodes began without their log line since the last call (some get it later,
    /// at a retransmission): the summary line's count, 0 when there is nothing to say.
    /// </summary>
    public int TakeUnlogged()
    {
        var unlogged = _unlogged;
        _unlogged = 0;
        return unlogged;
    }

    /// <summary>The client was let in: a later refusal starts a new episode.</summary>
    public void Forget(IPAddress client) => _clients.Remove(client);
}
