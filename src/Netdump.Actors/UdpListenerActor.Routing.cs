using System.Net;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Ingest.Linux;

namespace Netdump.Actors;

/// <summary>
/// HERALD routing: by client address to its receiving session, or, for a known client, to a new
/// session (a Linux START checked with its magic first); a session's <see cref="Supersede"/> starts
/// the client's next dump beside it.
/// </summary>
public sealed partial class UdpListenerActor
{
    /// <summary>From a session: its client sent a new HERALD while this dump was receiving.</summary>
    public sealed record Supersede(Herald Herald);

    /// <summary>From a session: it no longer receives (finished, failed or timed out).</summary>
    public sealed record ReceivingEnded(IPAddress Client);

    /// <summary>
    /// From a session whose replacement (<paramref name="AbandonedBy"/>) ended before its ack: it is
    /// still receiving its client's dump.
    /// </summary>
    public sealed record StillReceiving(IPAddress Client, IActorRef AbandonedBy);

    private void HandleHerald(Herald herald)
    {
        // a Linux START is checked before it reaches anything: one from a spoofed source (or
        // with the wrong magic) must not disturb the client's dump, nor start one
        if (herald.Linux is { } start && !_known.IsAllowed(herald.Client.Address, start.Magic, out var why))
        {
            // a dumping kernel does not check the magic of what it is sent (RHEL4's netdump.c):
            // a reboot sent to the client's address would end the dump that its own magic let
            // in, for anyone who can forge its address
            var dumping = _receiving.ContainsKey(herald.Client.Address);
            if (RefuseUnknown(herald.Client.Address))
            {
                _log.Warning(dumping
                    ? "Ignoring a Linux START from {Client} while its dump is receiving (secure mode): {Why}; not rebooted"
                    : "Refusing Linux dump from {Client} (secure mode): {Why}", herald.Client.Address, why);
            }

            if (!dumping)
            {
                // "logged and then rebooted" (the Red Hat manual); nothing is kept
                RebootRefused(herald.Client, start.Magic);
            }

            return;
        }

        if (_receiving.TryGetValue(herald.Client.Address, out var session))
        {
            session.Tell(herald);
            return;
        }

        if (herald.Linux is null && !_known.IsAllowed(herald.Client.Address))
        {
            if (RefuseUnknown(herald.Client.Address))
            {
                _log.Warning("Refusing dump from unknown client {Client} (secure mode): add it to allow= in netdump.conf or create {Magic}",
                    herald.Client.Address, Path.Combine(_settings.DumpDirectory, KnownClients.MagicDirectory, herald.Client.Address.ToString()));
            }

            return;
        }

        _unknownRefusals.Forget(herald.Client.Address);
        _log.Debug("Client {Client}: HERALD {Seq} to {Local}, path \"{Path}\"", herald.Client, herald.Sequence, herald.LocalAddress, herald.RequestedPath);
        Spawn(herald, supersedes: null);
    }

    private void HandleSupersede(Supersede supersede)
    {
        var client = supersede.Herald.Client.Address;
        if (_receiving.TryGetValue(client, out var current) && current.Equals(Sender))
        {
            _log.Info("Client {Client}: new HERALD while a dump is receiving: starting a new dump", client);
            Spawn(supersede.Herald, Sender);
        }
    }

    /// <summary>
    /// The client's HERALDs go to its receiving dump again, so that the next one supersedes it (not a
    /// new session beside it, which would leave it to time out holding a slot), unless a newer
    /// session has taken the address since the replacement ended.
    /// </summary>
    private void HandleStillReceiving(StillReceiving still)
    {
        if (!_receiving.TryGetValue(still.Client, out var current) || current.Equals(still.AbandonedBy))
        {
            _receiving[still.Client] = Sender;
        }
    }

    private void Spawn(Herald herald, IActorRef? supersedes)
    {
        var name = $"session-{herald.Client.Address}-{++_sessionCount}";
        var channels = herald.Linux is { } start && _linux is { } port
            ? (SessionChannelFactory)((_, client) => new LinuxSessionChannel(port, client, start, _meter))
            : _channels;
        var session = Context.ActorOf(_sessions(herald, _guard, supersedes, channels, _space), name);
        Context.Watch(session);
        _receiving[herald.Client.Address] = session;
        _metrics.Sessions.Inc(); // counted again at each session's end; not per HERALD, which a storm sends by the hundred
    }

    private void Forget(IPAddress client, IActorRef session)
    {
        if (_receiving.TryGetValue(client, out var current) && current.Equals(session))
        {
            _receiving.Remove(client);
        }
    }

    /// <summary>
    /// A client refused by <c>secure</c>: counted once per refusal episode; true when its log line
    /// is to be written now (once an episode, as the flood budget allows; the others are summed up
    /// a second later, <see cref="SummarizeRefusals"/>).
    /// </summary>
    private bool RefuseUnknown(IPAddress client)
    {
        var refusal = _unknownRefusals.Refuse(client);
        if (refusal.NewEpisode)
        {
            _metrics.Refused(Metrics.RefusalReason.NotAllowed).Inc();
            if (refusal.StartsSummary)
            {
                Timers.StartSingleTimer(RefusalSummaryTimer, RefusalSummary.Instance, TimeSpan.FromSeconds(1));
            }
        }

        return refusal.Log;
    }

    private void SummarizeRefusals()
    {
        if (_unknownRefusals.TakeUnlogged() is > 0 and var more)
        {
            _log.Warning("{Count} more unknown clients were refused without a log line of their own (flood); each is named at its next HERALD if the log has room", more);
        }
    }

    /// <summary>A second after a refusal went unlogged: the count of those still unnamed.</summary>
    private sealed class RefusalSummary
    {
        public static readonly RefusalSummary Instance = new();
        private RefusalSummary() { }
    }

    private const string RefusalSummaryTimer = "refusal-summary";
}
