using Akka.Actor;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>
/// The fleet's limit (SPEC §8): a slot this node lets in is put to the fleet guard through its
/// proxy, and told to the session only once the fleet guard grants it, or once
/// <c>fleet_guard_timeout</c> has passed without an answer (the node then decides alone, logged
/// once, and the fleet guard adopts the dump when it can).
/// </summary>
public sealed partial class ConcurrencyGuardActor
{
    /// <summary>The fleet guard has not answered for a session within <c>fleet_guard_timeout</c>.</summary>
    private sealed record FleetSilent(IActorRef Session);

    /// <summary>The fleet guard's answers, in every state that grants, after its own cases; true when the message was one of them.</summary>
    private bool FleetAnswers(object message)
    {
        switch (message)
        {
            case FleetGuardActor.Granted granted:
            {
                FleetAnswered();
                if (_holders.TryGetValue(granted.Session, out var holder) && holder.Stage == Stage.AskingFleet)
                {
                    Timers.Cancel(FleetTimer(granted.Session));
                    _holders[granted.Session] = holder with { Stage = Stage.Granted, Unreported = false };
                    granted.Session.Tell(SlotGranted.Instance);
                    if (holder.Unreported)
                    {
                        // left out of a new fleet guard's recount, granted by the old one: the new
                        // one has not counted it (it holds each once)
                        _fleet!.Tell(new FleetGuardActor.Adopt(granted.Session));
                    }
                }

                return true;
            }
            case FleetGuardActor.Refused refused:
            {
                FleetAnswered();
                if (_holders.TryGetValue(refused.Session, out var holder) && holder.Stage == Stage.AskingFleet)
                {
                    Timers.Cancel(FleetTimer(refused.Session));
                    _holders.Remove(refused.Session);
                    Context.Unwatch(refused.Session);
                    LogRefusal(holder.Client, Metrics.RefusalReason.TooManyDumps, "Too many concurrent netdumps, ignoring dump from {Client} (the fleet's limit, fleet_max_concurrent_dumps = "
                        + refused.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")");
                    refused.Session.Tell(SlotRefused.Instance);
                    ServeWaiting();
                }

                return true;
            }
            case FleetSilent silent:
            {
                if (_holders.TryGetValue(silent.Session, out var holder) && holder.Stage == Stage.AskingFleet)
                {
                    if (!_fleetSilent)
                    {
                        _fleetSilent = true;
                        _log.Warning("Fleet guard did not answer within {Timeout}: this node decides with its own limit ({Limit}) until it answers again",
                            _settings.Cluster!.FleetGuardTimeout, _settings.MaxConcurrentDumps);
                    }

                    _holders[silent.Session] = holder with { Stage = Stage.Granted };
                    _fleet!.Tell(new FleetGuardActor.Adopt(silent.Session));
                    silent.Session.Tell(SlotGranted.Instance);
                }

                return true;
            }
            case FleetGuardActor.ReportSlots:
                // the slots the fleet granted (or this node took alone), not those still asked for:
                // their Acquire reaches the new fleet guard after its recount and is decided against
                // the limit there; reported as held, it was granted whatever the fleet held
                Sender.Tell(new FleetGuardActor.SlotsReport(_holders.Where(h => h.Value.Stage != Stage.AskingFleet).Select(h => h.Key).ToList()));
                foreach (var (session, asking) in _holders.Where(h => h.Value.Stage == Stage.AskingFleet).ToList())
                {
                    _holders[session] = asking with { Unreported = true };
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>Puts a slot this node granted to the fleet guard; the session hears the answer.</summary>
    private void AskFleet(IActorRef session)
    {
        _fleet!.Tell(new FleetGuardActor.Acquire(session));
        Timers.StartSingleTimer(FleetTimer(session), new FleetSilent(session), _settings.Cluster!.FleetGuardTimeout);
    }

    /// <summary>A released slot, also in the fleet (after its Acquire through the same proxy, so the fleet guard frees what it granted).</summary>
    private void ReleaseInFleet(IActorRef session)
    {
        if (_fleet is not null)
        {
            Timers.Cancel(FleetTimer(session));
            _fleet.Tell(new FleetGuardActor.Release(session));
        }
    }

    private static string FleetTimer(IActorRef session) => "fleet-" + session.Path;

    private void FleetAnswered()
    {
        if (_fleetSilent)
        {
            _fleetSilent = false;
            _log.Info("Fleet guard answers again: the fleet's limit holds");
            // the dumps this node took alone were put to the fleet guard while it did not answer: a
            // partition that healed before the cluster removed a node lost those words, and the
            // fleet counted too few until those dumps ended. Told again (it holds each once).
            foreach (var (session, _) in _holders.Where(h => h.Value.Stage != Stage.AskingFleet))
            {
                _fleet!.Tell(new FleetGuardActor.Adopt(session));
            }
        }
    }
}
