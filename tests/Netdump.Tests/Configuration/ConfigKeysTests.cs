using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;
using Akka.Configuration;
using Netdump.Actors.Configuration;
using Netdump.App.CommandLine;
using Netdump.App.Configuration;
using Netdump.Tests.App;
using Netdump.Tests.Packaging;

namespace Netdump.Tests.Configuration;

/// <summary>
/// The key catalogue (<see cref="ConfigKeys"/>) against the places that name keys: netdump.hocon's
/// <c>netdump</c> block, the conf file's parser and the server's command line. A key added to one
/// and not the others fails here. (The man pages and docs/operations.md: ManPageTests, ConfigKeyDocsTests.)
/// </summary>
public sealed partial class ConfigKeysTests
{
    private const string File = "test.conf";

    public static TheoryData<string> Keys() => new(ConfigKeys.All.Select(k => k.Name));

    public static TheoryData<string> KeysWithAnOption() => new(ConfigKeys.All.Where(k => k.Option is not null).Select(k => k.Name));

    private static ConfigKey KeyNamed(string name) => ConfigKeys.Find(name) ?? throw new ArgumentException($"no key {name}");

    /// <summary>The keys of the <c>netdump</c> block of a HOCON config, in order.</summary>
    private static IEnumerable<string> BlockKeys(Config config) =>
        config.GetConfig(ConfigKeys.Block).AsEnumerable().Select(kv => kv.Key).Order(StringComparer.Ordinal);

    private static IEnumerable<string> CatalogueNames => ConfigKeys.All.Select(k => k.Name).Order(StringComparer.Ordinal);

    [Fact]
    public void The_netdump_block_of_netdump_hocon_in_the_repository_has_exactly_the_keys_of_the_catalogue()
    {
        var hocon = ConfigurationFactory.ParseString(System.IO.File.ReadAllText(Tool.InRepository("netdump.hocon")));

        Assert.Equal(CatalogueNames, BlockKeys(hocon));
    }

    [Fact]
    public void The_netdump_block_the_server_has_built_in_has_exactly_the_keys_of_the_catalogue()
    {
        Assert.Equal(CatalogueNames, BlockKeys(NetdumpSettings.BuiltInConfig()));
    }

    [Fact]
    public void Every_key_has_one_entry_and_every_option_sets_one_key()
    {
        Assert.Equal(ConfigKeys.All.Count, ConfigKeys.All.Select(k => k.Name).Distinct(StringComparer.Ordinal).Count());

        var options = ConfigKeys.All.Select(k => k.Option).OfType<string>().ToList();
        Assert.Equal(options.Count, options.Distinct(StringComparer.Ordinal).Count());
        Assert.All(options, option => Assert.StartsWith("--", option));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void A_key_name_is_lower_case_words_joined_by_underscores_as_the_settings_errors_are_located_by(string name)
    {
        // OperatorConfig finds the key at the head of a settings error ("port: ...") by this form.
        Assert.Matches(KeyName(), name);
        Assert.Equal($"{name}: is wrong", KeyNamed(name).Invalid("is wrong").Message);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void The_conf_file_accepts_every_key_with_a_value_of_its_kind(string name)
    {
        var (text, expected) = KeyNamed(name).Kind switch
        {
            ConfigValueKind.Integer => ("7", (object)7),
            ConfigValueKind.Boolean => ("yes", true),
            ConfigValueKind.Duration => ("90", "90s"),
            ConfigValueKind.Text => ("x", "x"),
            ConfigValueKind.OptionalText => ("", ""),
            var kind => throw new ArgumentOutOfRangeException(nameof(name), kind, "a kind without a sample value"),
        };

        var conf = NetdumpConfFile.Parse($"# a comment\n{name} = \"{text}\"\n", File);

        Assert.Equal(new Dictionary<string, object> { [name] = expected }, conf.Values());
        Assert.Equal(2, conf.LineOf(name));
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void The_conf_file_refuses_a_value_not_of_the_keys_kind_naming_file_line_and_key(string name)
    {
        var (text, problem) = KeyNamed(name).Kind switch
        {
            ConfigValueKind.Integer => ("seven", "\"seven\" is not a number"),
            ConfigValueKind.Boolean => ("maybe", "\"maybe\" is not a boolean (yes/no, true/false, on/off, 1/0)"),
            ConfigValueKind.Duration => ("soon", "\"soon\" is not a duration (seconds, or a number with a unit such as 500ms or 2m)"),
            ConfigValueKind.Text => ("", "empty value"),
            _ => (null, null), // any text, the empty one too, is of its kind
        };
        if (text is null)
        {
            Assert.Equal(ConfigValueKind.OptionalText, KeyNamed(name).Kind);
            return;
        }

        var error = Assert.Throws<OperatorConfigException>(() => NetdumpConfFile.Parse($"# a comment\n{name} = \"{text}\"\n", File));

        Assert.Equal($"{File}:2: {name}: {problem}", error.Message);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void The_conf_file_accepts_every_key_set_to_its_built_in_default(string name)
    {
        // The kind in the catalogue fits the value netdump.hocon gives the key.
        var value = NetdumpSettings.BuiltInConfig().GetConfig(ConfigKeys.Block).GetString(name);

        var conf = NetdumpConfFile.Parse($"{name} = \"{value}\"\n", File);

        Assert.Equal([name], conf.Settings.Select(s => s.Key));
    }

    [Fact]
    public void The_conf_file_still_refuses_a_key_outside_the_catalogue_with_file_and_line()
    {
        var error = Assert.Throws<OperatorConfigException>(() => NetdumpConfFile.Parse("port = 20023\n\nkeep_per_hosts = 3\n", File));

        Assert.Equal($"{File}:3: unknown key \"keep_per_hosts\"", error.Message);
    }

    [Fact]
    public void The_options_of_the_server_are_the_options_of_the_catalogue_and_the_config_file()
    {
        var options = ServerCommand.Create().Options
            .Where(o => o is not HelpOption and not VersionOption)
            .Select(o => o.Name)
            .Order(StringComparer.Ordinal);

        var expected = ConfigKeys.All.Select(k => k.Option).OfType<string>().Append(ServerOptions.ConfigOption).Order(StringComparer.Ordinal);
        Assert.Equal(expected, options);
    }

    [Fact]
    public void The_server_options_set_exactly_the_catalogue_keys_that_name_an_option()
    {
        var keys = ConfigKeys.All.Where(k => k.Option is not null).Select(k => k.Name).Order(StringComparer.Ordinal);

        Assert.Equal(keys, new ServerOptions().ToNetdumpKeys().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(keys, ServerOptions.KeyOfOption.Values.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(KeysWithAnOption))]
    public void An_option_sets_the_key_that_names_it_and_no_other(string name)
    {
        var key = KeyNamed(name);
        var root = ServerCommand.Create();
        var option = root.Options.Single(o => o.Name == key.Option);
        string[] args = option.Arity.MaximumNumberOfValues == 0
            ? [option.Name]
            : [option.Name, key.Kind switch { ConfigValueKind.Integer => "7", ConfigValueKind.Boolean => "1", _ => "x" }];

        var parse = root.Parse(args);

        Assert.Empty(parse.Errors);
        var set = ServerOptions.From(parse).ToNetdumpKeys().Where(kv => kv.Value is not null).Select(kv => kv.Key);
        Assert.Equal([name], set);
        Assert.Equal(option.Name, ServerOptions.OptionOfKey[name]);
    }

    [GeneratedRegex("^[a-z]+(_[a-z]+)*$")]
    private static partial Regex KeyName();
}
