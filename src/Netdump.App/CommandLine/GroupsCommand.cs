using System.CommandLine;
using Netdump.Actors.Storage;
using Netdump.App.Http;
using Spectre.Console;

namespace Netdump.App.CommandLine;

/// <summary>
/// <c>netdump-server groups</c>: the running server's panic groups (a panic string with its
/// addresses and numbers masked, on one kernel version), the most recently seen first, with
/// their host and dump counts and their last storm; the API's JSON with <c>--json</c>. Only the
/// server keeps groups: none answering is one line and exit 1.
/// </summary>
public static class GroupsCommand
{
    public static Command Create() => Create(TimeProvider.System, Terminal.For);

    private static Command Create(TimeProvider clock, Terminal.Factory consoles)
    {
        var options = new FleetOptions();
        var limit = new Option<string?>("--limit") { HelpName = "N", Description = $"at most N groups (default {ListQuery.DefaultLimit}, at most {ListQuery.MaxLimit})" };
        var offset = new Option<string?>("--offset") { HelpName = "N", Description = "skip the N most recently seen" };
        var command = new Command("groups", "list the panic groups: which panic, on which kernel, how many hosts (from the running server)");
        command.Options.Add(limit);
        command.Options.Add(offset);
        options.AddTo(command, disk: false);
        command.SetAction((parse, cancel) =>
        {
            var (pageSize, skip) = (parse.GetValue(limit), parse.GetValue(offset));
            if (ListQuery.ParsePage(pageSize, skip, out var problem) is null)
            {
                return Task.FromResult(FleetRun.Fail(parse, $"groups: {problem}"));
            }

            // what was given, as given (the server's defaults otherwise), as list asks
            var path = ApiRoutes.Relative(ApiRoutes.Groups, (ApiRoutes.Query.Limit, pageSize), (ApiRoutes.Query.Offset, skip));
            return Show(parse, options, path, clock, consoles, cancel);
        });
        return command;
    }

    private static Task<int> Show(ParseResult parse, FleetOptions options, string path, TimeProvider clock, Terminal.Factory consoles, CancellationToken cancel) =>
        FleetRun.WithServer(parse, options, async client =>
        {
            var (groups, text) = await client.GetAsync(path, ApiJson.Default.GroupList, cancel);
            if (parse.GetValue(options.Json))
            {
                parse.InvocationConfiguration.Output.WriteLine(text);
            }
            else
            {
                consoles(parse.InvocationConfiguration.Output).Write(Table(groups, clock.GetUtcNow()));
            }

            return ServerCommand.ExitOk;
        });

    /// <summary>One row a group; its id is what <c>list --group</c> takes.</summary>
    public static Table Table(GroupList groups, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.Minimal);
        table.AddColumn("GROUP", c => c.NoWrap());
        table.AddColumn(new TableColumn("HOSTS").RightAligned());
        table.AddColumn(new TableColumn("DUMPS").RightAligned());
        table.AddColumn("LAST SEEN", c => c.NoWrap());
        table.AddColumn("KERNEL");
        table.AddColumn("PANIC");
        foreach (var g in groups.Items)
        {
            var panic = new Paragraph();
            if (g.StormAt is { } storm)
            {
                panic.Append($"storm at {Terminal.Time(storm)}: ", new Style(Color.Red, decoration: Decoration.Bold));
            }

            panic.Append(DumpReport.OneLine(g.Panic));
            table.AddRow(
                new Text(DumpReport.OneLine(g.Id)), new Text(g.HostCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Text(g.Dumps.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Text(Terminal.Ago(g.LastSeen, now)),
                new Text(g.Kernel.Length == 0 ? "-" : DumpReport.OneLine(g.Kernel)), panic);
        }

        // a server from before groups were paged gives every group and no total
        var total = Math.Max(groups.Total, groups.Items.Count);
        var shown = groups.Items.Count == total
            ? $"{total} {(total == 1 ? "group" : "groups")}"
            : $"{groups.Items.Count} of {total} groups (--limit, --offset for more)";
        return table.Caption(total == 0 ? "no panic yet" : $"{shown}; list --group GROUP shows the dumps of one");
    }
}
