using System.Net;
using System.Reflection;
using Akka.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scheduling;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Configuration;

/// <summary>
/// The operator's settings (SPEC §6), immutable and validated. Built from the <c>netdump</c>
/// block of a HOCON config: the built-in <c>netdump.hocon</c> with whatever the conf file and
/// the command line put in front of it. Tests shorten the timeouts with <c>with</c>. How each
/// value's text is read (sizes, address lists, choices) is in <c>NetdumpSettings.Values.cs</c>.
/// </summary>
public sealed partial record NetdumpSettings
{
    public required IPAddress Address { get; init; }
    public required int Port { get; init; }

    /// <summary>The Linux dialect's port (SPEC §7); null when it is off (<c>linux_port = 0</c>).</summary>
    public int? LinuxPort { get; init; }
    public required string DumpDirectory { get; init; }
    public required TimeSpan SessionTimeout { get; init; }
    public required TimeSpan Linger { get; init; }

    /// <summary>Largest offset + length a dump may write; null means the free space when the HERALD arrived.</summary>
    public ulong? MaxDumpSize { get; init; }

    public required TimeSpan FlushInterval { get; init; }

    /// <summary>
    /// How often a long dump logs its progress: at most one line per dump this often. Not an
    /// operator's key (30 s keeps a many-GiB dump's log readable); tests shorten it.
    /// </summary>
    public TimeSpan ProgressLogInterval { get; init; } = TimeSpan.FromSeconds(30);
    public required int MaxKeySize { get; init; }
    public required int MaxConcurrentDumps { get; init; }

    /// <summary>The receive loop of session sockets.</summary>
    public required IngestEngine IngestEngine { get; init; }

    /// <summary>How Linux schedules the server's threads (<c>cpu_scheduling</c>; the host applies it at start).</summary>
    public CpuScheduling CpuScheduling { get; init; } = CpuScheduling.Batch;

    /// <summary>Only known clients (in <see cref="Allow"/> or with a magic file) may dump.</summary>
    public required bool Secure { get; init; }

    public required IReadOnlyList<IPNetwork> Allow { get; init; }
    public required ulong MinFreeSpace { get; init; }
    public required TimeSpan ScriptTimeout { get; init; }
    public required TimeSpan CrashScriptTimeout { get; init; }

    /// <summary>The port range for session sockets; null means any ephemeral port.</summary>
    public PortRange? SessionPorts { get; init; }

    public required TimeSpan RefusalEpisode { get; init; }

    /// <summary>Most sessions at once that were acked but have received nothing else.</summary>
    public required int MaxSilentSessions { get; init; }

    /// <summary>How long an acked session may stay without data before it is given up.</summary>
    public required TimeSpan SilentTimeout { get; init; }

    /// <summary>How long after its ack a silent session keeps its slot against a waiting client (its first data is on the way).</summary>
    public required TimeSpan SilentGrace { get; init; }

    /// <summary>A HERALD received less than this after a dump's first data is a late retransmission.</summary>
    public required TimeSpan HeraldRetransmitWindow { get; init; }
    public required TimeSpan ShutdownTimeout { get; init; }

    /// <summary>Where the server keeps what it can rebuild (<see cref="CacheLocation"/>); null for none.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Where the pidfile goes; null for none.</summary>
    public string? PidFile { get; init; }

    public required bool Daemon { get; init; }

    /// <summary>A log file besides the console; null for none.</summary>
    public string? LogFile { get; init; }

    /// <summary>What retention removes (<c>keep_per_host</c>, <c>max_age</c>, <c>max_total</c>); <see cref="RetentionPolicy.None"/> keeps everything.</summary>
    public RetentionPolicy Retention { get; init; } = RetentionPolicy.None;

    /// <summary>
    /// How often the server runs retention (and once at start). Not an operator's key: the hour
    /// every dump is kept makes a shorter pass pointless, a longer one lets a crash storm run
    /// past <c>max_total</c> for longer; tests shorten it.
    /// </summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The HTTP API, <c>/metrics</c> and the dashboard (<c>http</c>, <c>http_token_file</c>, <c>http_cert</c>, <c>http_key</c>); null when <c>http = off</c>.</summary>
    public HttpSettings? Http { get; init; }

    /// <summary>When a panic group is a storm (<c>storm_hosts</c>, <c>storm_window</c>).</summary>
    public StormSettings Storm { get; init; } = StormSettings.Default;

    /// <summary>The cluster of collectors (<c>cluster</c>, <c>cluster_seeds</c>, <c>cluster_port</c>, <c>node_name</c>, <c>fleet_*</c>); null when <c>cluster = off</c>.</summary>
    public ClusterSettings? Cluster { get; init; }

    /// <summary>Compression at rest of complete dumps (<c>compress</c>); off keeps every core as it arrived.</summary>
    public AtRestCompression Compress { get; init; } = AtRestCompression.Off;

    /// <summary>
    /// The RSA private key (PEM) matching the clients' <c>dumpon -k</c> public key
    /// (<c>decrypt_key</c>), with which an encrypted dump also gets a plain core; null for none.
    /// Its owner and mode are checked at start, not here.
    /// </summary>
    public string? DecryptKey { get; init; }

    /// <summary>What storage care does to complete dumps, as <c>decrypt_key</c> and <c>compress</c> ask.</summary>
    public CareSteps CareSteps =>
        (DecryptKey is null ? CareSteps.None : CareSteps.Decrypt) | (Compress == AtRestCompression.Zstd ? CareSteps.Compress : CareSteps.None);

    /// <summary>Reads the <c>netdump</c> block; throws <see cref="ConfigurationException"/> with the key and the problem.</summary>
    public static NetdumpSettings Create(Config config)
    {
        var c = config.GetConfig(ConfigKeys.Block) ?? throw new ConfigurationException($"missing {ConfigKeys.Block} block");
        var addressText = c.GetString(ConfigKeys.Addr.Name);
        if (!DottedQuad.TryParse(addressText, out var address))
        {
            throw ConfigKeys.Addr.Invalid($"\"{addressText}\" is not an IPv4 address ({DottedQuad.Form})");
        }

        var port = c.GetInt(ConfigKeys.Port.Name);
        if (port is < 0 or > 65535)
        {
            throw ConfigKeys.Port.Invalid($"{port} is out of range 0-65535");
        }

        var linuxPort = c.GetInt(ConfigKeys.LinuxPort.Name);
        if (linuxPort is < 0 or > 65535)
        {
            throw ConfigKeys.LinuxPort.Invalid($"{linuxPort} is out of range 0-65535 (0: no Linux clients)");
        }

        var maxDump = c.GetString(ConfigKeys.MaxDumpSize.Name, "");
        var concurrent = c.GetInt(ConfigKeys.MaxConcurrentDumps.Name);
        if (concurrent < 1)
        {
            throw ConfigKeys.MaxConcurrentDumps.Invalid($"{concurrent} must be at least 1");
        }

        var sessionPorts = c.GetString(ConfigKeys.SessionPorts.Name, "");
        var pidFile = c.GetString(ConfigKeys.PidFile.Name, "");
        var logFile = c.GetString(ConfigKeys.LogFile.Name, "");
        var decryptKey = c.GetString(ConfigKeys.DecryptKey.Name, "");
        return new NetdumpSettings
        {
            Address = address,
            Port = port,
            LinuxPort = linuxPort == 0 ? null : linuxPort,
            DumpDirectory = Path.GetFullPath(c.GetString(ConfigKeys.DumpDir.Name)),
            SessionTimeout = Positive(c, ConfigKeys.SessionTimeout),
            Linger = Positive(c, ConfigKeys.Linger),
            MaxDumpSize = string.IsNullOrEmpty(maxDump) ? null
                : ParseSize(ConfigKeys.MaxDumpSize, maxDump) is > 0 and var max ? max
                : throw ConfigKeys.MaxDumpSize.Invalid($"\"{maxDump}\" would refuse every dump's first byte (leave it unset for the free space at each HERALD)"),
            FlushInterval = Positive(c, ConfigKeys.FlushInterval),
            MaxKeySize = ParseSize(ConfigKeys.MaxKeySize, c.GetString(ConfigKeys.MaxKeySize.Name)) is var key and <= 1 << 30
                ? (int)key
                : throw ConfigKeys.MaxKeySize.Invalid("at most 1G"),
            MaxConcurrentDumps = concurrent,
            IngestEngine = ParseChoice(c, ConfigKeys.IngestEngine, ("batched", IngestEngine.Batched), ("epoll", IngestEngine.Epoll), ("managed", IngestEngine.Managed)),
            CpuScheduling = ParseChoice(c, ConfigKeys.CpuScheduling, ("batch", CpuScheduling.Batch), ("normal", CpuScheduling.Normal)),
            Secure = c.GetBoolean(ConfigKeys.Secure.Name),
            Allow = ParseAllow(c.GetString(ConfigKeys.Allow.Name, "")),
            MinFreeSpace = ParseSize(ConfigKeys.MinFreeSpace, c.GetString(ConfigKeys.MinFreeSpace.Name)),
            ScriptTimeout = Positive(c, ConfigKeys.ScriptTimeout),
            CrashScriptTimeout = Positive(c, ConfigKeys.CrashScriptTimeout),
            SessionPorts = string.IsNullOrWhiteSpace(sessionPorts) ? null : PortRange.Parse(ConfigKeys.SessionPorts, sessionPorts),
            RefusalEpisode = Positive(c, ConfigKeys.RefusalEpisode),
            MaxSilentSessions = c.GetInt(ConfigKeys.MaxSilentSessions.Name) is var silent and >= 1
                ? silent
                : throw ConfigKeys.MaxSilentSessions.Invalid("must be at least 1"),
            SilentTimeout = Positive(c, ConfigKeys.SilentTimeout),
            SilentGrace = Positive(c, ConfigKeys.SilentGrace),
            HeraldRetransmitWindow = c.GetTimeSpan(ConfigKeys.HeraldRetransmitWindow.Name), // 0 allowed; HOCON refuses a negative one
            ShutdownTimeout = Positive(c, ConfigKeys.ShutdownTimeout),
            PidFile = string.IsNullOrWhiteSpace(pidFile) ? null : Path.GetFullPath(pidFile),
            Daemon = c.GetBoolean(ConfigKeys.Daemon.Name),
            LogFile = string.IsNullOrWhiteSpace(logFile) ? null : Path.GetFullPath(logFile),
            CacheDirectory = CacheLocation.Resolve(c.GetString(ConfigKeys.CacheDir.Name, CacheLocation.Auto), Environment.GetEnvironmentVariable, TrustedPath.RunsAsRoot),
            Retention = ParseRetention(c),
            Http = HttpSettings.Create(c),
            Storm = StormSettings.Create(c),
            Cluster = ClusterSettings.Create(c, address),
            Compress = ParseCompress(c.GetString(ConfigKeys.Compress.Name, "off")),
            DecryptKey = string.IsNullOrWhiteSpace(decryptKey) ? null : Path.GetFullPath(decryptKey),
        };
    }

    /// <summary>The built-in defaults and Akka settings (<c>netdump.hocon</c>, embedded in this assembly).</summary>
    public static Config BuiltInConfig()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("netdump.hocon")
            ?? throw new InvalidOperationException("netdump.hocon is not embedded");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
