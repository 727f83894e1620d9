using System.CommandLine;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>
/// What the operator gave on the root command line (null: not given), and the netdump.conf keys
/// those options set. The options themselves are defined by <see cref="ServerCommand"/>.
/// </summary>
public sealed record ServerOptions
{
    /// <summary>The conf key each option sets (SPEC §6).</summary>
    public static IReadOnlyDictionary<string, string> KeyOfOption { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--port"] = "port",
        ["--linux-port"] = "linux_port",
        ["--addr"] = "addr",
        ["--concurrent"] = "max_concurrent_dumps",
        ["--pidfile"] = "pidfile",
        ["--daemon"] = "daemon",
        ["--secure"] = "secure",
        ["--dumpdir"] = "dumpdir",
        ["--http"] = "http",
        ["--cluster-port"] = "cluster_port",
        ["--node-name"] = "node_name",
    };

    /// <summary>The option that sets each conf key, for messages.</summary>
    public static IReadOnlyDictionary<string, string> OptionOfKey { get; } =
        KeyOfOption.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    public int? Port { get; init; }
    public int? LinuxPort { get; init; }
    public string? Addr { get; init; }
    public int? Concurrent { get; init; }
    public string? PidFile { get; init; }
    /// <summary>True when <c>--daemon</c> was given; the option has no value, so it can only turn daemon mode on.</summary>
    public bool? Daemon { get; init; }
    public bool? Secure { get; init; }
    public string? DumpDir { get; init; }

    /// <summary>The <c>--http</c> address and port, or <c>off</c>.</summary>
    public string? Http { get; init; }

    /// <summary>This node's <c>--cluster-port</c> and <c>--node-name</c>: what differs per node of a fleet that shares one conf file.</summary>
    public int? ClusterPort { get; init; }
    public string? NodeName { get; init; }

    /// <summary>The <c>--config</c> path; null means the default, which may be missing.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The options of a parse of <see cref="ServerCommand.Create"/>'s root command.</summary>
    public static ServerOptions From(ParseResult parse) => new()
    {
        Port = parse.GetValue<int?>("--port"),
        LinuxPort = parse.GetValue<int?>("--linux-port"),
        Addr = parse.GetValue<string?>("--addr"),
        Concurrent = parse.GetValue<int?>("--concurrent"),
        PidFile = parse.GetValue<string?>("--pidfile"),
        Daemon = parse.GetValue<bool>("--daemon") ? true : null,
        Secure = parse.GetValue<string?>("--secure") is { } secure && NetdumpConfFile.TryParseBoolean(secure, out var on) ? on : null,
        DumpDir = parse.GetValue<string?>("--dumpdir"),
        Http = parse.GetValue<string?>("--http"),
        ClusterPort = parse.GetValue<int?>("--cluster-port"),
        NodeName = parse.GetValue<string?>("--node-name"),
        ConfigPath = parse.GetValue<string?>("--config"),
    };

    /// <summary>The netdump keys these options set; a null value was not given.</summary>
    public IReadOnlyDictionary<string, object?> ToNetdumpKeys() => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        ["port"] = Port,
        ["linux_port"] = LinuxPort,
        ["addr"] = Addr,
        ["max_concurrent_dumps"] = Concurrent,
        ["pidfile"] = PidFile,
        ["daemon"] = Daemon,
        ["secure"] = Secure,
        ["dumpdir"] = DumpDir,
        ["http"] = Http,
        ["cluster_port"] = ClusterPort,
        ["node_name"] = NodeName,
    };

    /// <summary>Reads the conf file and merges (command line > conf file > netdump.hocon); throws <see cref="OperatorConfigException"/>.</summary>
    public OperatorConfig Load() =>
        OperatorConfig.Load(ToNetdumpKeys(), ConfigPath ?? OperatorConfig.DefaultConfigPath, explicitPath: ConfigPath is not null, OptionOfKey);
}
