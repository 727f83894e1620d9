using Netdump.App.CommandLine;
using Netdump.App.Http;
using Spectre.Console;

namespace Netdump.Tests.CommandLine;

/// <summary>The caption of <c>groups</c>' table: how many groups there are, and whether there are more than shown.</summary>
public sealed class GroupsTableTests
{
    private static readonly DateTimeOffset Now = new(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);

    private static GroupItem Group(string id) =>
        new(id, null, "page fault at 0x#", "", "page fault at 0x10", 1, ["web1"], 1, Now, Now, null);

    private static string Caption(GroupList groups)
    {
        using var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        console.Write(GroupsCommand.Table(groups, Now));
        return output.ToString();
    }

    [Fact]
    public void A_page_of_fewer_groups_than_there_are_says_so()
    {
        Assert.Contains("1 of 2 groups (--limit, --offset for more)", Caption(new GroupList(2, 0, 1, [Group("a")])));
        Assert.Contains("no panic yet", Caption(new GroupList(0, 0, 50, [])));
    }

    [Fact]
    public void A_server_that_gives_no_total_has_its_rows_counted()
    {
        // a server from before groups were paged answers { "items": [...] }: total reads as 0
        var output = Caption(new GroupList(0, 0, 0, [Group("a"), Group("b")]));

        Assert.Contains("2 groups;", output);
        Assert.DoesNotContain("no panic yet", output);
    }
}
