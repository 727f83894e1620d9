using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Netdump.Actors.Configuration;

namespace Netdump.App.Configuration;

/// <summary>
/// The operator's settings put together (SPEC §6): the command line, in front of the conf file
/// (<c>/etc/netdump.conf</c> or <c>--config</c>), in front of the built-in <c>netdump.hocon</c>;
/// then validated by <see cref="NetdumpSettings.Create"/>. Every problem is one
/// <see cref="OperatorConfigException"/> naming where the bad value came from: the option
/// (<c>--port: 70000 is out of range 0-65535</c>) or the file and line
/// (<c>/etc/netdump.conf:3: port: -1 is out of range 0-65535</c>). The conf file is checked whole,
/// the values the command line overrides included.
/// </summary>
public sealed partial record OperatorConfig
{
    public const string DefaultConfigPath = "/etc/netdump.conf";

    /// <summary>The merged HOCON: the <c>netdump</c> block and Akka's settings, ready for the host.</summary>
    public required Config Config { get; init; }

    /// <summary>The validated settings read from <see cref="Config"/>.</summary>
    public required NetdumpSettings Settings { get; init; }

    /// <summary>Warnings about the conf file (legacy keys), one line each, for the caller to log.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>The conf file that was read; null when the default one does not exist.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>
    /// Reads the conf file at <paramref name="configPath"/> and merges. A missing file is skipped
    /// when it is the default (<paramref name="explicitPath"/> false) and an error otherwise.
    /// </summary>
    /// <param name="commandLine">netdump keys given on the command line; a null value was not given.</param>
    /// <param name="optionNames">the option that sets each key (<c>max_concurrent_dumps</c> → <c>--concurrent</c>), for messages.</param>
    public static OperatorConfig Load(
        IReadOnlyDictionary<string, object?> commandLine,
        string configPath,
        bool explicitPath,
        IReadOnlyDictionary<string, string>? optionNames = null)
    {
        NetdumpConfFile? file = null;
        if (explicitPath || File.Exists(configPath) || Directory.Exists(configPath))
        {
            if (Directory.Exists(configPath))
            {
                throw new OperatorConfigException($"config file {configPath} is a directory");
            }

            file = NetdumpConfFile.Read(configPath);
        }

        return Merge(commandLine, file, optionNames);
    }

    /// <summary>Merges the command line over <paramref name="file"/> (null: none) over the built-in defaults, and validates.</summary>
    public static OperatorConfig Merge(
        IReadOnlyDictionary<string, object?> commandLine,
        NetdumpConfFile? file,
        IReadOnlyDictionary<string, string>? optionNames = null)
    {
        var keys = new Dictionary<string, object?>(StringComparer.Ordinal);
        var origins = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var setting in file?.Settings ?? [])
        {
            keys[setting.Key] = setting.Value;
            origins[setting.Key] = $"{file!.FileName}:{setting.Line}: {setting.Key}";
        }

        // The whole file is checked, the values a flag overrides too: the next start without
        // the flag reads them, and a broken line should surface now, not then.
        if (file is not null)
        {
            Validate(BuildConfig(keys), origins);
        }

        foreach (var (key, value) in commandLine)
        {
            if (value is null)
            {
                continue;
            }

            var option = optionNames?.GetValueOrDefault(key) ?? key;
            if (value is string { Length: 0 } && ConfigKeys.Find(key) is { Kind: not ConfigValueKind.OptionalText })
            {
                throw new OperatorConfigException($"{option}: empty value");
            }

            keys[key] = value;
            origins[key] = option;
        }

        var config = BuildConfig(keys);
        return new OperatorConfig
        {
            Config = config,
            Settings = Validate(config, origins),
            Warnings = file?.Warnings ?? [],
            ConfigFile = file?.FileName,
        };
    }

    /// <summary>The settings of <paramref name="config"/>; a bad value is an <see cref="OperatorConfigException"/> naming its origin.</summary>
    private static NetdumpSettings Validate(Config config, IReadOnlyDictionary<string, string> origins)
    {
        try
        {
            return NetdumpSettings.Create(config);
        }
        catch (Exception e) when (e is ConfigurationException or FormatException or ArgumentException or OverflowException)
        {
            throw new OperatorConfigException(Locate(e.Message.ReplaceLineEndings(" "), origins), e);
        }
    }

    /// <summary>
    /// The built-in config with the given netdump keys in front of it; a null value is left out.
    /// Strings become HOCON strings, booleans and integers HOCON literals.
    /// </summary>
    public static Config BuildConfig(IReadOnlyDictionary<string, object?> netdumpKeys)
    {
        var lines = netdumpKeys
            .Where(kv => kv.Value is not null)
            .Select(kv => $"{ConfigKeys.Block}.{kv.Key} = {HoconValue(kv.Value!)}");
        return ConfigurationFactory.ParseString(string.Join("\n", lines)).WithFallback(NetdumpSettings.BuiltInConfig());
    }

    /// <summary>A double-quoted HOCON string holding exactly <paramref name="text"/>.</summary>
    public static string HoconQuote(string text)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    quoted.Append("\\\"");
                    break;
                case '\\':
                    quoted.Append("\\\\");
                    break;
                case < ' ' or '\u007f':
                    quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    quoted.Append(c);
                    break;
            }
        }

        return quoted.Append('"').ToString();
    }

    private static string HoconValue(object value) => value switch
    {
        bool b => b ? "true" : "false",
        int or long or uint or ulong or short or ushort or byte or sbyte => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
        string s => HoconQuote(s),
        _ => HoconQuote(System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""),
    };

    /// <summary>
    /// Puts where a bad value came from in front of a settings error: settings errors start with
    /// the key (<c>port: ...</c>), which is replaced by the option or the file, line and key.
    /// </summary>
    private static string Locate(string message, IReadOnlyDictionary<string, string> origins)
    {
        var match = KeyPrefix().Match(message);
        return match.Success && origins.TryGetValue(match.Groups["key"].Value, out var origin)
            ? $"{origin}: {match.Groups["problem"].Value}"
            : message;
    }

    [GeneratedRegex("^(?<key>[a-z_]+): (?<problem>.*)$", RegexOptions.Singleline)]
    private static partial Regex KeyPrefix();
}
