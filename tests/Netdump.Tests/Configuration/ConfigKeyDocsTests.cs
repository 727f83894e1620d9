using System.Text.RegularExpressions;
using Netdump.Actors.Configuration;
using Netdump.App.CommandLine;
using Netdump.Tests.Packaging;

namespace Netdump.Tests.Configuration;

/// <summary>
/// The operator's docs against the key catalogue: docs/operations.md's settings table lists every
/// key with its option, and both it and netdump.conf(5) name exactly the keys that may be empty.
/// (netdump.conf(5)'s entry per key and its options: ManPageTests.)
/// </summary>
public sealed partial class ConfigKeyDocsTests
{
    private static readonly string Operations = Tool.InRepository("docs/operations.md");
    private static readonly string ConfPage = Tool.InRepository("docs/man/netdump.conf.5");

    private static IEnumerable<string> OptionalKeys =>
        ConfigKeys.All.Where(k => k.Kind == ConfigValueKind.OptionalText).Select(k => k.Name).Order(StringComparer.Ordinal);

    /// <summary>The rows of the table under "## Settings": option, conf key(s), default, meaning.</summary>
    private static IReadOnlyList<string[]> SettingsTable()
    {
        var lines = File.ReadAllLines(Operations);
        var header = Array.IndexOf(lines, "| option | conf key | default | meaning |");
        Assert.True(header >= 0, "docs/operations.md has no settings table (| option | conf key | default | meaning |)");
        return lines.Skip(header + 2)
            .TakeWhile(line => line.StartsWith('|'))
            .Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray())
            .ToList();
    }

    private static IEnumerable<string> Quoted(string text) => Backticked().Matches(text).Select(m => m.Groups[1].Value);

    [Fact]
    public void The_settings_table_of_operations_md_lists_every_key_once()
    {
        var listed = SettingsTable().SelectMany(row => Quoted(row[1])).ToList();

        Assert.Equal(ConfigKeys.All.Select(k => k.Name).Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_settings_table_of_operations_md_gives_each_key_its_option()
    {
        foreach (var row in SettingsTable())
        {
            var option = Quoted(row[0]).SingleOrDefault()?.Split(' ')[0];
            var keys = Quoted(row[1]).Select(name => ConfigKeys.Find(name) ?? throw new Xunit.Sdk.XunitException($"operations.md names no key {name}")).ToList();
            if (keys.Count == 0)
            {
                Assert.Equal(ServerOptions.ConfigOption, option); // the one option that sets no key
                continue;
            }

            Assert.All(keys, key => Assert.True(key.Option == option, $"operations.md gives {key.Name} the option {option ?? "(none)"}, the server {key.Option ?? "(none)"}"));
        }
    }

    [Fact]
    public void Operations_md_names_exactly_the_keys_that_may_be_empty()
    {
        var text = File.ReadAllText(Operations);
        var end = text.IndexOf(" may be empty", StringComparison.Ordinal);
        Assert.True(end >= 0, "docs/operations.md says nowhere which keys may be empty");
        var start = text.LastIndexOf('.', end) + 1; // the sentence that names them

        Assert.Equal(OptionalKeys, Quoted(text[start..end]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Netdump_conf_5_names_exactly_the_keys_that_may_be_empty()
    {
        var page = File.ReadAllText(ConfPage).Replace("\r\n", "\n");
        var end = page.IndexOf("\nmay be empty", StringComparison.Ordinal);
        Assert.True(end >= 0, "netdump.conf.5 says nowhere which keys may be empty");
        var start = page.LastIndexOf("\nOnly\n", end, StringComparison.Ordinal);
        Assert.True(start >= 0, "netdump.conf.5: the keys that may be empty follow \"Only\"");

        var named = page[start..end].Split('\n').Select(line => RoffKey().Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value);
        Assert.Equal(OptionalKeys, named.Order(StringComparer.Ordinal));
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"^\.BR? ([a-z_]+)")]
    private static partial Regex RoffKey();
}
