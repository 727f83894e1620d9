using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using Prometheus;

namespace Netdump.Actors.Metrics;

/// <summary>Why a client was refused a dump: a bounded label of <c>netdump_refused_clients_total</c>.</summary>
public enum RefusalReason
{
    /// <summary>Beyond <c>max_concurrent_dumps</c>.</summary>
    TooManyDumps,

    /// <summary>
    /// A slot was free, but <c>max_silent_sessions</c> sessions sent nothing after their HERALD
    /// and none gave way within <c>silent_timeout</c>.
    /// </summary>
    SilentSessions,

    /// <summary>Not allowed by <c>secure</c> (address, or a Linux client's magic).</summary>
    NotAllowed,

    /// <summary><c>netdump-crash</c> exited non-zero.</summary>
    CrashScript,

    /// <summary>No session socket could be opened (<c>session_ports</c> full).</summary>
    NoSessionPort,

    /// <summary>The dump directory could not be made.</summary>
    CannotCreate,
}

/// <summary>Where a datagram was dropped without an ack: a bounded label of <c>netdump_dropped_datagrams_total</c>.</summary>
public enum DropReason
{
    /// <summary>A session datagram whose header is bad (size, length, type).</summary>
    Malformed,

    /// <summary>Data after FINISHED that the dump does not hold.</summary>
    AfterFinished,

    /// <summary>A datagram on the HERALD port that is not a usable HERALD.</summary>
    ListenPort,

    /// <summary>A datagram on the Linux port that is not a usable reply.</summary>
    LinuxPort,
}

/// <summary>
/// The server's Prometheus metrics (SPEC §9), every name <c>netdump_*</c>, in a registry of its
/// own: one per actor system, so servers in one process (tests) never mix their counts. The
/// packet path adds to <see cref="Packets"/>, <see cref="Bytes"/> and the drop counters once per
/// batch (<see cref="Ingest.SessionPacketHandler.EndOfBatch"/>), which costs no allocation and no
/// lock; everything else is counted by the actor that decides it. The meaning of each is in
/// docs/operations.md.
/// </summary>
public sealed class NetdumpMetrics
{
    private readonly Counter _finished;
    private readonly Counter _scriptRuns;
    private readonly Histogram _duration;
    private readonly Counter.Child[] _drops;
    private readonly Counter.Child[] _refusals;

    public NetdumpMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        DumpsStarted = factory.CreateCounter("netdump_dumps_started_total", "Dumps started: a HERALD or Linux START acked, its directory made.");
        _finished = factory.CreateCounter("netdump_dumps_finished_total", "Dumps ended, by status and reason (reason \"none\" for a complete dump).",
            labelNames: ["status", "reason"]);
        Bytes = factory.CreateCounter("netdump_received_bytes_total", "Bytes of dump data written (every dump, duplicates counted once per datagram).");
        Packets = factory.CreateCounter("netdump_received_packets_total", "Valid datagrams received on session sockets and from Linux clients.");
        var drops = factory.CreateCounter("netdump_dropped_datagrams_total", "Datagrams dropped without an ack, by where and why.", labelNames: ["reason"]);
        _drops = Enum.GetValues<DropReason>().Select(r => drops.WithLabels(LabelOf(r))).ToArray();
        var refusals = factory.CreateCounter("netdump_refused_clients_total", "Clients refused a dump, by reason (once per refusal episode).", labelNames: ["reason"]);
        _refusals = Enum.GetValues<RefusalReason>().Select(r => refusals.WithLabels(LabelOf(r))).ToArray();
        Sessions = factory.CreateGauge("netdump_sessions", "Client sessions alive: receiving, finishing or lingering.");
        SlotsInUse = factory.CreateGauge("netdump_slots_in_use", "Dump slots taken (at most max_concurrent_dumps).");
        SlotsMax = factory.CreateGauge("netdump_slots", "Dump slots there are (max_concurrent_dumps).");
        FleetSlotsInUse = factory.CreateGauge("netdump_fleet_slots_in_use",
            "Dumps the fleet guard counts across the cluster (fleet_max_concurrent_dumps); on the node that hosts it, 0 on the others.");
        FleetSlotsMax = factory.CreateGauge("netdump_fleet_slots", "fleet_max_concurrent_dumps on the node that hosts the fleet guard, 0 on the others.");
        FleetRecounting = factory.CreateGauge("netdump_fleet_guard_recounting",
            "1 while the fleet guard on this node recounts the nodes' slots (the fleet's HERALDs wait), else 0.");
        _scriptRuns = factory.CreateCounter("netdump_script_runs_total", "Hook scripts run (or refused by the ownership and mode checks), by script and result.",
            labelNames: ["script", "result"]);
        FreeSpace = factory.CreateGauge("netdump_free_space_bytes", "Free bytes for the server on the dump file system, measured at each scrape.");
        HeraldToAck = factory.CreateHistogram("netdump_herald_ack_seconds", "From a HERALD (or START) to its ack: slot, directory and netdump-crash.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        _duration = factory.CreateHistogram("netdump_dump_duration_seconds", "From a dump's HERALD to its end, by status.",
            new HistogramConfiguration { LabelNames = ["status"], Buckets = Histogram.ExponentialBuckets(0.5, 2, 14) });
        CatalogDumps = factory.CreateGauge("netdump_catalog_dumps", "Dumps this node holds (every dump under its dumpdir; in a cluster, not the other nodes').");
        PanicGroups = factory.CreateGauge("netdump_panic_groups", "Panic groups in the catalog (in a cluster, the fleet's).");
        Storms = factory.CreateCounter("netdump_storms_total", "Panic storms: storm_hosts hosts joined one panic group within storm_window.");
    }

    /// <summary>Where the metrics are collected from (the <c>/metrics</c> endpoint).</summary>
    public CollectorRegistry Registry { get; }

    public Counter DumpsStarted { get; }
    public Counter Bytes { get; }
    public Counter Packets { get; }
    public Gauge Sessions { get; }
    public Gauge SlotsInUse { get; }
    public Gauge SlotsMax { get; }
    public Gauge FleetSlotsInUse { get; }
    public Gauge FleetSlotsMax { get; }
    public Gauge FleetRecounting { get; }
    public Gauge FreeSpace { get; }
    public Histogram HeraldToAck { get; }
    public Gauge CatalogDumps { get; }
    public Gauge PanicGroups { get; }
    public Counter Storms { get; }

    public Counter.Child Dropped(DropReason reason) => _drops[(int)reason];

    /// <summary>From now on each scrape measures the free space of the file system holding <paramref name="directory"/> first.</summary>
    public void WatchFreeSpace(string directory) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                FreeSpace.Set(FileSystemSync.AvailableBytes(directory));
            }
            catch (IOException)
            {
                // the dump directory went away: the last value stays, the log says why elsewhere
            }
        });

    public Counter.Child Refused(RefusalReason reason) => _refusals[(int)reason];

    /// <summary>A dump ended: counted by status and reason, its duration observed.</summary>
    public void Finished(DumpStatus status, EndReason? reason, TimeSpan duration)
    {
        var statusName = DumpJson.StatusName(status);
        _finished.WithLabels(statusName, reason is null ? "none" : LabelOf(reason.Kind)).Inc();
        _duration.WithLabels(statusName).Observe(Math.Max(duration.TotalSeconds, 0));
    }

    /// <summary>A script request ended; a script that is not there is not counted.</summary>
    public void ScriptRan(Script script, ScriptOutcome outcome, int? exitCode)
    {
        if (outcome == ScriptOutcome.NotPresent)
        {
            return;
        }

        var result = outcome switch
        {
            ScriptOutcome.Exited => exitCode == 0 ? "exit_zero" : "exit_nonzero",
            ScriptOutcome.TimedOut => "timed_out",
            ScriptOutcome.KilledAtStop => "killed_at_stop",
            ScriptOutcome.Skipped => "skipped",
            _ => "failed_to_start",
        };
        _scriptRuns.WithLabels(ScriptNames.FileName(script), result).Inc();
    }

    /// <summary>An enum value as a label value: <c>ClientTimedOut</c> → <c>client_timed_out</c>.</summary>
    public static string LabelOf<T>(T value) where T : struct, Enum =>
        string.Concat(value.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
