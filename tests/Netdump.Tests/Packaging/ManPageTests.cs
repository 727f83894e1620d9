using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;
using Netdump.Actors.Configuration;
using Netdump.App.CommandLine;
using Netdump.App.Configuration;
using Netdump.App.Simulation;

namespace Netdump.Tests.Packaging;

/// <summary>
/// netdump-server(8), netdump.conf(5) and the sample /etc/netdump.conf against the program: every
/// option and every key is documented, so the pages cannot drift from the code; and the pages
/// render without a warning where man is installed.
/// </summary>
public sealed partial class ManPageTests
{
    private static readonly string ServerPage = Tool.InRepository("docs/man/netdump-server.8");
    private static readonly string ConfPage = Tool.InRepository("docs/man/netdump.conf.5");
    private static readonly string SampleConf = Tool.InRepository("packaging/netdump.conf");

    public static TheoryData<string> ServerOptions()
    {
        var data = new TheoryData<string>();
        foreach (var option in ServerCommand.Create().Options)
        {
            data.Add(option.Name);
        }

        return data;
    }

    public static TheoryData<string> ConfKeys()
    {
        var data = new TheoryData<string>();
        foreach (var key in ConfigKeys.All)
        {
            data.Add(key.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ServerOptions))]
    public void Every_option_of_the_server_has_an_entry_in_the_OPTIONS_of_netdump_server_8(string option)
    {
        var entry = Entries(Section(Text(ServerPage), "OPTIONS")).FirstOrDefault(e => e.Tag.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).Contains(option));

        Assert.True(entry is not null, $"netdump-server.8 has no .TP entry for {option} under OPTIONS");
        if (Netdump.App.CommandLine.ServerOptions.KeyOfOption.TryGetValue(option, out var key))
        {
            Assert.Contains($"conf key {key}", Plain(entry.Body));
        }
    }

    [Fact]
    public void The_synopsis_and_commands_of_netdump_server_8_name_every_command_with_its_options()
    {
        var page = Text(ServerPage);
        var synopses = Section(page, "SYNOPSIS").Split("\n.SY ").Select(Plain).ToList();
        var commands = Entries(Section(page, "COMMANDS")).Select(e => e.Tag).ToList();
        foreach (var command in new[] { PruneCommand.Create(), ListCommand.Create(), ShowCommand.Create(), StatusCommand.Create(), GroupsCommand.Create() })
        {
            var line = synopses.FirstOrDefault(l => l.StartsWith($"netdump-server {command.Name} ", StringComparison.Ordinal));
            Assert.True(line is not null, $"no netdump-server {command.Name} in the SYNOPSIS of netdump-server.8");
            foreach (var option in command.Options.Where(o => o is not HelpOption))
            {
                Assert.Contains(option.Name, line);
            }

            Assert.Contains(command.Name, commands);
        }
    }

    [Fact]
    public void The_synopsis_and_commands_of_netdump_server_8_name_every_option_and_the_simulate_command()
    {
        var page = Text(ServerPage);
        var synopsis = Plain(Section(page, "SYNOPSIS"));
        foreach (var option in ServerCommand.Create().Options.Where(o => o is not HelpOption and not VersionOption))
        {
            Assert.Contains(option.Name, synopsis);
        }

        var simulate = SimulateCommand.Create().Name;
        Assert.Contains(Entries(Section(page, "COMMANDS")), e => e.Tag == simulate);
    }

    [Theory]
    [MemberData(nameof(ConfKeys))]
    public void Every_key_of_netdump_conf_has_an_entry_in_the_KEYS_of_netdump_conf_5_naming_its_option(string key)
    {
        var entry = Entries(Section(Text(ConfPage), "KEYS")).FirstOrDefault(e => e.Tag.Split(' ')[0] == key);

        Assert.True(entry is not null, $"netdump.conf.5 has no .TP entry for {key} under KEYS");
        if (Netdump.App.CommandLine.ServerOptions.OptionOfKey.TryGetValue(key, out var option))
        {
            Assert.Contains(option, entry.Tag.Split([' ', ';', '(', ')'], StringSplitOptions.RemoveEmptyEntries));
        }
    }

    [Fact]
    public void The_keys_of_the_Red_Hat_server_that_are_ignored_are_named_in_netdump_conf_5()
    {
        var keys = Plain(Section(Text(ConfPage), "KEYS"));
        Assert.All(NetdumpConfFile.LegacyKeys, key => Assert.Contains(key, keys));
    }

    [Fact]
    public void Both_pages_carry_the_version_of_this_build()
    {
        foreach (var page in new[] { ServerPage, ConfPage })
        {
            var th = Text(page).Split('\n').Single(line => line.StartsWith(".TH ", StringComparison.Ordinal));
            Assert.Contains($"\"netdump-server {ServerCommand.Version}\"", th.Replace("\\-", "-"));
        }
    }

    [Fact]
    public void The_sample_conf_sets_nothing_and_shows_every_key_with_its_default()
    {
        var text = File.ReadAllText(SampleConf);
        Assert.Empty(NetdumpConfFile.Parse(text, SampleConf).Settings);

        // Every "#key = value" line uncommented: the file then sets each key, to its default.
        var uncommented = CommentedSetting().Replace(text, "$1");
        var sample = NetdumpConfFile.Parse(uncommented, SampleConf);
        Assert.Equal(ConfigKeys.All.Select(k => k.Name).Order(), sample.Settings.Select(s => s.Key).Order());

        var defaults = OperatorConfig.Merge(new Dictionary<string, object?>(), file: null).Settings;
        var shown = OperatorConfig.Merge(new Dictionary<string, object?>(), sample).Settings;
        Assert.Equal(defaults with { Allow = [] }, shown with { Allow = [] });
        Assert.Equal(defaults.Allow, shown.Allow);
    }

    [FactWithTool("man", "apt-get install man-db groff-base")]
    public void Both_pages_render_with_man_without_a_warning()
    {
        foreach (var page in new[] { ServerPage, ConfPage })
        {
            // as lintian checks manual pages: every groff warning on stderr
            var result = Tool.Run("man", ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", page],
                new Dictionary<string, string> { ["LC_ALL"] = "C.UTF-8", ["MANROFFSEQ"] = "", ["MANWIDTH"] = "80" });

            Assert.True(result.ExitCode == 0, $"man -l {page} exited with {result.ExitCode}: {result.Stderr}");
            Assert.True(result.Stderr.Length == 0, $"man --warnings -l {page}: {result.Stderr}");
            Assert.NotEmpty(result.Stdout);
        }
    }

    private static string Text(string path) => File.ReadAllText(path).Replace("\r\n", "\n");

    /// <summary>The roff source of a section: from <c>.SH NAME</c> to the next <c>.SH</c>.</summary>
    private static string Section(string page, string name)
    {
        var start = page.IndexOf($"\n.SH {name}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {name}");
        var end = page.IndexOf("\n.SH ", start + 1, StringComparison.Ordinal);
        return end < 0 ? page[start..] : page[start..end];
    }

    /// <summary>The <c>.TP</c> entries of a section: the tag line (plain text) and the lines after it.</summary>
    private static IEnumerable<Entry> Entries(string section)
    {
        var lines = section.Split('\n');
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i] != ".TP")
            {
                continue;
            }

            var body = lines.Skip(i + 2).TakeWhile(line => line != ".TP" && !line.StartsWith(".SS ", StringComparison.Ordinal));
            yield return new Entry(Plain(lines[i + 1]), string.Join('\n', body));
        }
    }

    /// <summary>roff reduced to its words: no requests' names, fonts, quotes or escapes (<c>\-</c> is <c>-</c>).</summary>
    private static string Plain(string roff) => string.Join(' ', roff.Split('\n')
            .Select(line => RoffRequest().Replace(line, ""))
            .Select(line => line.Replace("\\-", "-").Replace("\\e", "\\").Replace("\"", "")))
        .Trim();

    [GeneratedRegex(@"^\.[A-Za-z]+ ?")]
    private static partial Regex RoffRequest();

    [GeneratedRegex(@"(?m)^#([a-z_]+ = )")]
    private static partial Regex CommentedSetting();

    private sealed record Entry(string Tag, string Body);
}
