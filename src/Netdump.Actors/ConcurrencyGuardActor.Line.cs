using System.Net;
using Akka.Actor;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>The waiting line: who gets the next free slot, which silent holder is asked to yield, and the refusals (logged once per episode).</summary>
public sealed partial class ConcurrencyGuardActor
{
    /// <summary>
    /// Grants the first in line while slots are free; otherwise asks the silent holder acked
    /// longest ago to yield once its grace is over, or waits for that moment. A request that
    /// waited <c>silent_timeout</c> is refused: its client has given up by then.
    /// </summary>
    private void ServeWaiting()
    {
        var now = Environment.TickCount64;
        var patience = (long)_settings.SilentTimeout.TotalMilliseconds;
        while (_waiting.First is { Value: var first } && (Free() || now - first.Since >= patience))
        {
            _waiting.RemoveFirst();
            if (Free())
            {
                Grant(first.Session, first.Client);
            }
            else
            {
                Context.Unwatch(first.Session);
                Refuse(first.Session, first.Client);
            }
        }

        if (_waiting.First is not { Value: var head } || _askedToYield is not null)
        {
            return;
        }

        var grace = (long)_settings.SilentGrace.TotalMilliseconds;
        var candidates = _holders.Where(h => h.Value.Quiet).ToList();
        var next = head.Since + patience;
        if (candidates.Count > 0)
        {
            var (session, holder) = candidates.MinBy(h => h.Value.AckedAt);
            var yieldAt = holder.AckedAt + grace;
            if (yieldAt <= now)
            {
                _askedToYield = session;
                session.Tell(YieldSlot.Instance);
                return;
            }

            next = Math.Min(next, yieldAt);
        }

        Timers.StartSingleTimer(ServeTimer, Serve.Instance, TimeSpan.FromMilliseconds(Math.Max(next - now, 1)));
    }

    private void Refuse(IActorRef session, IPAddress client)
    {
        if (_holders.Count >= _settings.MaxConcurrentDumps)
        {
            LogRefusal(client, Metrics.RefusalReason.TooManyDumps, "Too many concurrent netdumps, ignoring dump from {Client}");
        }
        else
        {
            LogRefusal(client, Metrics.RefusalReason.SilentSessions,
                "Too many sessions that sent nothing after their HERALD, ignoring dump from {Client}");
        }

        session.Tell(SlotRefused.Instance);
    }

    /// <summary>
    /// A refusal's count, once per refusal episode of the client (the counter's promise), and its
    /// log line once per episode as the flood budget allows (a later retransmission of a client
    /// refused without one brings it); the others are summed up a second later.
    /// </summary>
    private void LogRefusal(IPAddress client, Metrics.RefusalReason reason, string template)
    {
        var refusal = _refusals.Refuse(client);
        if (refusal.NewEpisode)
        {
            _metrics.Refused(reason).Inc();
        }

        if (refusal.Log)
        {
            _log.Warning(template, client);
        }
        else if (refusal.StartsSummary)
        {
            Timers.StartSingleTimer(RefusalSummaryTimer, RefusalSummary.Instance, TimeSpan.FromSeconds(1));
        }
    }

    private void SummarizeRefusals()
    {
        if (_refusals.TakeUnlogged() is > 0 and var more)
        {
            _log.Warning("{Count} more clients were refused without a log line of their own (flood); each is named at its next HERALD if the log has room", more);
        }
    }
}
