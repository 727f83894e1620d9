using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>
/// Runs retention (SPEC §10) in the server: a pass at start and every
/// <see cref="NetdumpSettings.RetentionInterval"/>, on the disk dispatcher, off every packet's
/// path. A pass scans dumpdir, plans (<see cref="RetentionPlan"/>: never a receiving dump, never
/// one younger than an hour) and removes, logging each removal here and in
/// <c>retention.log</c>. Only made when a retention key is set.
/// </summary>
public sealed class RetentionActor : ReceiveActor, IWithTimers
{
    private readonly NetdumpSettings _settings;
    private readonly TimeProvider _clock;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    /// <summary>
    /// The problems the last pass found (a folder that cannot be listed or is no dump, one
    /// deeper than PATH_MAX): each is logged by the first pass that finds it, not again every
    /// interval while it stays (it is logged anew if it goes and comes back).
    /// </summary>
    private HashSet<string> _problemsSeen = new(StringComparer.Ordinal);

    public RetentionActor(NetdumpSettings settings, TimeProvider clock)
    {
        _settings = settings;
        _clock = clock;
        Receive<Pass>(_ =>
        {
            try
            {
                RunPass();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // a restart would run the pass again at once; the next tick tries again instead
                _log.Error(e, "Retention pass failed; trying again in {Minutes} min", _settings.RetentionInterval.TotalMinutes.ToString(CultureInfo.InvariantCulture));
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NetdumpSettings settings, TimeProvider clock) =>
        ActorProps.Of(() => new RetentionActor(settings, clock)).WithDispatcher(DumpWriterActor.DispatcherId);

    protected override void PreStart()
    {
        _log.Info(
            "Retention: keep_per_host {Keep}, max_age {MaxAge}, max_total {MaxTotal}, checked every {Minutes} min",
            _settings.Retention.KeepPerHost == 0 ? "none" : _settings.Retention.KeepPerHost.ToString(CultureInfo.InvariantCulture),
            _settings.Retention.MaxAge?.ToString() ?? "none",
            _settings.Retention.MaxTotal is { } total ? ByteUnits.Size(total) : "none",
            _settings.RetentionInterval.TotalMinutes.ToString(CultureInfo.InvariantCulture));
        Self.Tell(Pass.Instance);
        Timers.StartPeriodicTimer("pass", Pass.Instance, _settings.RetentionInterval);
    }

    private void RunPass()
    {
        var (plan, outcomes, problems, log) = RetentionRun.Prune(_settings.DumpDirectory, _settings.Retention, _clock.GetUtcNow(), dryRun: false);
        if (log is RemovalLog.Unrecorded unrecorded)
        {
            _log.Error("Retention: {Problem}", unrecorded.Why);
        }

        foreach (var problem in problems.Where(p => !_problemsSeen.Contains(p)))
        {
            _log.Warning("Retention: {Problem}", problem);
        }

        _problemsSeen = problems.ToHashSet(StringComparer.Ordinal);

        foreach (var outcome in outcomes)
        {
            var dump = outcome.Removal.Dump;
            switch (outcome)
            {
                case RemovalOutcome.Removed:
                    _log.Warning("Retention: removed {Dir} ({Bytes}): {Why}", dump.Directory, ByteUnits.Size(dump.Bytes), outcome.Removal.Why);
                    break;
                case RemovalOutcome.Failed failure:
                    _log.Error("Retention: could not remove {Dir}: {Error}", dump.Directory, failure.Why);
                    break;
            }
        }

        // the catalog forgets what went
        var removed = outcomes.OfType<RemovalOutcome.Removed>().Select(o => o.Removal.Dump.Directory).ToList();
        if (removed.Count > 0)
        {
            Context.System.EventStream.Publish(new Catalog.CatalogProtocol.DumpsRemoved(removed));
        }

        if (_settings.Retention.MaxTotal is { } maxTotal && plan.TotalAfter > maxTotal)
        {
            _log.Warning(
                "Retention: dumps hold {Total} on disk, above max_total {MaxTotal}, and none of the rest may go yet: {Staying}",
                ByteUnits.Size(plan.TotalAfter), ByteUnits.Size(maxTotal), plan.Staying);
        }
    }

    /// <summary>Time for a retention pass.</summary>
    public sealed class Pass
    {
        public static readonly Pass Instance = new();

        private Pass()
        {
        }
    }
}
