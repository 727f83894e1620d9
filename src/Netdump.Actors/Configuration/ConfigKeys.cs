namespace Netdump.Actors.Configuration;

/// <summary>
/// The one home of the operator's key names (SPEC §6): every key of the <c>netdump</c> block, for
/// <see cref="NetdumpSettings"/> (and the other settings read from the block), which read them;
/// the conf file's parser, which accepts exactly these with their kinds; and the command line,
/// whose options set the keys that name one. The defaults and what each key means are in
/// netdump.hocon, whose <c>netdump</c> block has exactly these keys (a test holds the two
/// together, and the docs to both).
/// </summary>
public static class ConfigKeys
{
    /// <summary>The HOCON block the keys are in.</summary>
    public const string Block = "netdump";

    // Declared before the keys: each key adds itself here as it is initialized, in this order.
    private static readonly List<ConfigKey> Registered = [];

    public static readonly ConfigKey Addr = Key("addr", ConfigValueKind.Text, "--addr");
    public static readonly ConfigKey Port = Key("port", ConfigValueKind.Integer, "--port");
    public static readonly ConfigKey LinuxPort = Key("linux_port", ConfigValueKind.Integer, "--linux-port");
    public static readonly ConfigKey DumpDir = Key("dumpdir", ConfigValueKind.Text, "--dumpdir");
    public static readonly ConfigKey SessionTimeout = Key("session_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey Linger = Key("linger", ConfigValueKind.Duration);
    public static readonly ConfigKey MaxDumpSize = Key("max_dump_size", ConfigValueKind.OptionalText);
    public static readonly ConfigKey FlushInterval = Key("flush_interval", ConfigValueKind.Duration);
    public static readonly ConfigKey IngestEngine = Key("ingest_engine", ConfigValueKind.Text);
    public static readonly ConfigKey CpuScheduling = Key("cpu_scheduling", ConfigValueKind.Text);
    public static readonly ConfigKey MaxKeySize = Key("max_key_size", ConfigValueKind.Text);
    public static readonly ConfigKey MaxConcurrentDumps = Key("max_concurrent_dumps", ConfigValueKind.Integer, "--concurrent");
    public static readonly ConfigKey Secure = Key("secure", ConfigValueKind.Boolean, "--secure");
    public static readonly ConfigKey Allow = Key("allow", ConfigValueKind.OptionalText);
    public static readonly ConfigKey MinFreeSpace = Key("min_free_space", ConfigValueKind.Text);
    public static readonly ConfigKey ScriptTimeout = Key("script_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey CrashScriptTimeout = Key("crash_script_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey SessionPorts = Key("session_ports", ConfigValueKind.OptionalText);
    public static readonly ConfigKey MaxSilentSessions = Key("max_silent_sessions", ConfigValueKind.Integer);
    public static readonly ConfigKey SilentTimeout = Key("silent_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey SilentGrace = Key("silent_grace", ConfigValueKind.Duration);
    public static readonly ConfigKey HeraldRetransmitWindow = Key("herald_retransmit_window", ConfigValueKind.Duration);
    public static readonly ConfigKey RefusalEpisode = Key("refusal_episode", ConfigValueKind.Duration);
    public static readonly ConfigKey ShutdownTimeout = Key("shutdown_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey KeepPerHost = Key("keep_per_host", ConfigValueKind.Integer);
    public static readonly ConfigKey MaxAge = Key("max_age", ConfigValueKind.Duration);
    public static readonly ConfigKey MaxTotal = Key("max_total", ConfigValueKind.OptionalText);
    public static readonly ConfigKey Http = Key("http", ConfigValueKind.Text, "--http");
    public static readonly ConfigKey HttpTokenFile = Key("http_token_file", ConfigValueKind.OptionalText);
    public static readonly ConfigKey HttpCert = Key("http_cert", ConfigValueKind.OptionalText);
    public static readonly ConfigKey HttpKey = Key("http_key", ConfigValueKind.OptionalText);
    public static readonly ConfigKey StormHosts = Key("storm_hosts", ConfigValueKind.Integer);
    public static readonly ConfigKey StormWindow = Key("storm_window", ConfigValueKind.Duration);
    public static readonly ConfigKey Cluster = Key("cluster", ConfigValueKind.Boolean);
    public static readonly ConfigKey ClusterSeeds = Key("cluster_seeds", ConfigValueKind.OptionalText);
    public static readonly ConfigKey ClusterPort = Key("cluster_port", ConfigValueKind.Integer, "--cluster-port");
    public static readonly ConfigKey NodeName = Key("node_name", ConfigValueKind.OptionalText, "--node-name");
    public static readonly ConfigKey FleetMaxConcurrentDumps = Key("fleet_max_concurrent_dumps", ConfigValueKind.Integer);
    public static readonly ConfigKey FleetGuardTimeout = Key("fleet_guard_timeout", ConfigValueKind.Duration);
    public static readonly ConfigKey Compress = Key("compress", ConfigValueKind.Text);
    public static readonly ConfigKey DecryptKey = Key("decrypt_key", ConfigValueKind.OptionalText);
    public static readonly ConfigKey PidFile = Key("pidfile", ConfigValueKind.OptionalText, "--pidfile");
    public static readonly ConfigKey Daemon = Key("daemon", ConfigValueKind.Boolean, "--daemon");
    public static readonly ConfigKey LogFile = Key("log_file", ConfigValueKind.OptionalText);
    public static readonly ConfigKey CacheDir = Key("cache_dir", ConfigValueKind.Text);

    /// <summary>Every key, in the order of netdump.hocon.</summary>
    public static IReadOnlyList<ConfigKey> All => Registered;

    /// <summary>The key called <paramref name="name"/> (case-sensitive, as netdump.conf's keys are), or null.</summary>
    public static ConfigKey? Find(string name) => Registered.Find(k => k.Name == name);

    private static ConfigKey Key(string name, ConfigValueKind kind, string? option = null)
    {
        var key = new ConfigKey(name, kind, option);
        Registered.Add(key);
        return key;
    }
}
