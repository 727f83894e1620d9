using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Netdump.Actors.Configuration;

namespace Netdump.App.Configuration;

/// <summary>
/// <c>/etc/netdump.conf</c>, the Red Hat server's <c>key=value</c> file, parsed and type-checked
/// (SPEC §6). Pure: <see cref="Parse"/> reads text and names <c>file:line</c> in every error
/// (<see cref="OperatorConfigException"/>) and warning. It knows the keys of
/// <see cref="ConfigKeys"/>, each with the kind of its value; what a value means (port range,
/// CIDR list, sizes) is checked later by <c>NetdumpSettings.Create</c>.
/// </summary>
/// <remarks>
/// Syntax: one <c>key = value</c> per line, whitespace around key and value ignored; blank lines
/// and lines starting with <c>#</c> skipped. An unquoted value ends at a <c>#</c> that starts it
/// or follows whitespace (a comment); a value in double quotes may hold <c>#</c> and spaces, with
/// <c>\"</c> and <c>\\</c> as escapes (any other backslash stays as it is), and only a comment
/// may follow the closing quote. Keys are case-sensitive and may appear once.
/// </remarks>
public sealed partial class NetdumpConfFile
{
    /// <summary>
    /// Keys of the Red Hat server that mean nothing here: accepted with a warning so an old file
    /// still starts. (Its <c>compress</c> has a meaning again: compression at rest.)
    /// </summary>
    public static IReadOnlySet<string> LegacyKeys { get; } =
        new HashSet<string>(["space_check", "skip_zero", "debug", "verbose"], StringComparer.Ordinal);

    private NetdumpConfFile(string fileName, IReadOnlyList<Setting> settings, IReadOnlyList<string> warnings)
    {
        FileName = fileName;
        Settings = settings;
        Warnings = warnings;
    }

    /// <summary>The name used in messages (the path as given).</summary>
    public string FileName { get; }

    /// <summary>The known keys set in the file, in file order.</summary>
    public IReadOnlyList<Setting> Settings { get; }

    /// <summary>One line each, <c>file:line: ...</c>, for the caller to log.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Parses the text of a conf file; <paramref name="fileName"/> is only for messages.</summary>
    public static NetdumpConfFile Parse(string text, string fileName)
    {
        var settings = new List<Setting>();
        var warnings = new List<string>();
        var lines = text.TrimStart('\uFEFF').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var line = lines[i].TrimEnd('\r');
            var content = line.Trim();
            if (content.Length == 0 || content[0] == '#')
            {
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw Error(fileName, number, $"expected key=value, found \"{content}\"");
            }

            var key = line[..equals].Trim();
            if (key.Length == 0)
            {
                throw Error(fileName, number, "missing key before \"=\"");
            }

            var value = ReadValue(line[(equals + 1)..], key, fileName, number);
            if (LegacyKeys.Contains(key))
            {
                warnings.Add($"{fileName}:{number}: {key} has no meaning for this server and is ignored");
                continue;
            }

            if (ConfigKeys.Find(key) is not { } known)
            {
                throw Error(fileName, number, $"unknown key \"{key}\"");
            }

            if (settings.Find(s => s.Key == key) is { } earlier)
            {
                throw Error(fileName, number, $"duplicate key \"{key}\" (already set on line {earlier.Line})");
            }

            settings.Add(new Setting(key, Convert(known, value, fileName, number), number));
        }

        return new NetdumpConfFile(fileName, settings, warnings);
    }

    /// <summary>Reads and parses the file at <paramref name="path"/>; a file that cannot be read is an <see cref="OperatorConfigException"/>.</summary>
    public static NetdumpConfFile Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OperatorConfigException($"config file {path} does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperatorConfigException($"cannot read config file {path}: {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>The booleans of netdump.conf and <c>--secure</c>: true/false, yes/no, on/off, 1/0, any case.</summary>
    public static bool TryParseBoolean(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "1" or "true" or "yes" or "on":
                value = true;
                return true;
            case "0" or "false" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>The value after <c>=</c>: unquoted (up to a comment) or in double quotes.</summary>
    private static string ReadValue(string raw, string key, string fileName, int number)
    {
        var text = raw.TrimStart();
        if (text.StartsWith('"'))
        {
            var value = new StringBuilder();
            for (var i = 1; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
                {
                    value.Append(text[++i]);
                }
                else if (c == '"')
                {
                    var rest = text[(i + 1)..].TrimStart();
                    if (rest.Length > 0 && rest[0] != '#')
                    {
                        throw Error(fileName, number, $"{key}: unexpected \"{rest.TrimEnd()}\" after the closing quote");
                    }

                    return value.ToString();
                }
                else
                {
                    value.Append(c);
                }
            }

            throw Error(fileName, number, $"{key}: unterminated quote");
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '#' && (i == 0 || char.IsWhiteSpace(text[i - 1])))
            {
                text = text[..i];
                break;
            }
        }

        return text.Trim();
    }

    private static object Convert(ConfigKey key, string value, string fileName, int number)
    {
        if (value.Length == 0 && key.Kind != ConfigValueKind.OptionalText)
        {
            throw Error(fileName, number, $"{key.Name}: empty value");
        }

        switch (key.Kind)
        {
            case ConfigValueKind.Integer:
                return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                    ? integer
                    : throw Error(fileName, number, $"{key.Name}: \"{value}\" is not a number");
            case ConfigValueKind.Boolean:
                return TryParseBoolean(value, out var flag)
                    ? flag
                    : throw Error(fileName, number, $"{key.Name}: \"{value}\" is not a boolean (yes/no, true/false, on/off, 1/0)");
            case ConfigValueKind.Duration:
                if (BareNumber().IsMatch(value))
                {
                    return value + "s";
                }

                if (value.StartsWith('-'))
                {
                    throw Error(fileName, number, $"{key.Name}: \"{value}\" must be positive");
                }

                return IsDuration(value)
                    ? value
                    : throw Error(fileName, number, $"{key.Name}: \"{value}\" is not a duration (seconds, or a number with a unit such as 500ms or 2m)");
            default:
                return value;
        }
    }

    /// <summary>
    /// Whether Akka's HOCON reads <paramref name="value"/> as a time span: the settings read it
    /// that way, so its grammar (units ns, us, ms, s, m, h, d and their long names) is the one
    /// that counts. Sign and range are the settings' concern.
    /// </summary>
    private static bool IsDuration(string value)
    {
        try
        {
            var config = ConfigurationFactory.ParseString("d = " + OperatorConfig.HoconQuote(value));
            _ = config.GetTimeSpan("d");
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Akka reports a malformed duration with several exception types (format, HOCON
            // parser, argument); for this one parsed value every one of them means "not a duration".
            return false;
        }
    }

    private static OperatorConfigException Error(string fileName, int line, string problem) =>
        new($"{fileName}:{line}: {problem}");

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?$")]
    private static partial Regex BareNumber();

    /// <summary>
    /// One known key set in the file and the line it is on; its value typed for the
    /// <c>netdump</c> block: <see cref="int"/> for integer keys, <see cref="bool"/> for booleans,
    /// and strings otherwise (a bare number of seconds already written as <c>60s</c>).
    /// </summary>
    public sealed record Setting(string Key, object Value, int Line);
}
