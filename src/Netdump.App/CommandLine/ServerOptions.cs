using System.CommandLine;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>
/// What the operator gave on the root command line (null: not given), and the netdump.conf keys
/// those options set. The options themselves are defined by <see cref="ServerCommand"/>.
/// </summary>
public sealed record ServerOptions
{
    /// <summary>The conf key each option sets (SPEC §6): the keys of <see cref="ConfigKeys"/> that name an option.</summary>
    public static IReadOnlyDictionary<string, string> KeyOfOption { get; } =
        ConfigKeys.All.Where(k => k.Option is not null).ToDictionary(k => k.Option!, k => k.Name, StringComparer.Ordinal);

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

    /// <summary>The option naming the conf file: not a key, it says where the keys are.</summary>
    public const string ConfigOption = "--config";

    /// <summary>The <c>--config</c> path; null means the default, which may be missing.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The options of a parse of <see cref="ServerCommand.Create"/>'s root command.</summary>
    public static ServerOptions From(ParseResult parse) => new()
    {
        Port = parse.GetValue<int?>(OptionOf(ConfigKeys.Port)),
        LinuxPort = parse.GetValue<int?>(OptionOf(ConfigKeys.LinuxPort)),
        Addr = parse.GetValue<string?>(OptionOf(ConfigKeys.Addr)),
        Concurrent = parse.GetValue<int?>(OptionOf(ConfigKeys.MaxConcurrentDumps)),
        PidFile = parse.GetValue<string?>(OptionOf(ConfigKeys.PidFile)),
        Daemon = parse.GetValue<bool>(OptionOf(ConfigKeys.Daemon)) ? true : null,
        Secure = parse.GetValue<string?>(OptionOf(ConfigKeys.Secure)) is { } secure && NetdumpConfFile.TryParseBoolean(secure, out var on) ? on : null,
        DumpDir = parse.GetValue<string?>(OptionOf(ConfigKeys.DumpDir)),
        Http = parse.GetValue<string?>(OptionOf(ConfigKeys.Http)),
        ClusterPort = parse.GetValue<int?>(OptionOf(ConfigKeys.ClusterPort)),
        NodeName = parse.GetValue<string?>(OptionOf(ConfigKeys.NodeName)),
        ConfigPath = parse.GetValue<string?>(ConfigOption),
    };

    /// <summary>The netdump keys these options set; a null value was not given.</summary>
    public IReadOnlyDictionary<string, object?> ToNetdumpKeys() => new Dictionary<string, object?>(StringComparer.Ordinal)
    {
        [ConfigKeys.Port.Name] = Port,
        [ConfigKeys.LinuxPort.Name] = LinuxPort,
        [ConfigKeys.Addr.Name] = Addr,
        [ConfigKeys.MaxConcurrentDumps.Name] = Concurrent,
        [ConfigKeys.PidFile.Name] = PidFile,
        [ConfigKeys.Daemon.Name] = Daemon,
        [ConfigKeys.Secure.Name] = Secure,
        [ConfigKeys.DumpDir.Name] = DumpDir,
        [ConfigKeys.Http.Name] = Http,
        [ConfigKeys.ClusterPort.Name] = ClusterPort,
        [ConfigKeys.NodeName.Name] = NodeName,
    };

    /// <summary>The option that sets <paramref name="key"/> (<see cref="ConfigKey.Option"/>), for a key that has one.</summary>
    public static string OptionOf(ConfigKey key) =>
        key.Option ?? throw new ArgumentException($"{key.Name} is set by no command-line option", nameof(key));

    /// <summary>Reads the conf file and merges (command line > conf file > netdump.hocon); throws <see cref="OperatorConfigException"/>.</summary>
    public OperatorConfig Load() =>
        OperatorConfig.Load(ToNetdumpKeys(), ConfigPath ?? OperatorConfig.DefaultConfigPath, explicitPath: ConfigPath is not null, OptionOfKey);
}
