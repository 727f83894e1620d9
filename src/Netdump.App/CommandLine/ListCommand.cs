using System.CommandLine;
using System.Text.Json;
using Netdump.Actors.Storage;
using Netdump.App.Configuration;
using Netdump.App.Http;
using Spectre.Console;

namespace Netdump.App.CommandLine;

/// <summary>
/// <c>netdump-server list</c>: the dumps, newest first, filtered as the API filters them
/// (<c>--host</c>, <c>--status</c>, <c>--since</c>, <c>--group</c>) and paged (<c>--limit</c>,
/// <c>--offset</c>); a table, or the API's JSON with <c>--json</c>. Asks the running server; with
/// no server (none answers at the conf's address, <c>http = off</c>, or <c>--offline</c>) it reads
/// the dump directory. A server named with <c>--server</c> that does not answer is an error
/// (exit 1), never a silent switch to the disk.
/// </summary>
public static class ListCommand
{
    public static Command Create() => Create(TimeProvider.System, Terminal.For);

    /// <summary>The command with its clock and console (in-process callers may give their own).</summary>
    private static Command Create(TimeProvider clock, Terminal.Factory consoles)
    {
        var options = new FleetOptions();
        var host = new Option<string?>("--host") { HelpName = "NAME|IP", Description = "only this host (its KDH host name or client address)" };
        var status = new Option<string?>("--status") { HelpName = "STATUS", Description = "only dumps in these statuses: receiving, complete, incomplete, refused (comma separated)" };
        var since = new Option<string?>("--since") { HelpName = "TIME|AGE", Description = "only dumps received since a date or time (2024-05-01, 2024-05-01T10:00:00Z) or an age (90s, 15m, 1h, 7d)" };
        var group = new Option<string?>("--group") { HelpName = "ID", Description = "only the dumps of one panic group (see groups)" };
        var limit = new Option<string?>("--limit") { HelpName = "N", Description = $"at most N dumps (default {ListQuery.DefaultLimit}, at most {ListQuery.MaxLimit})" };
        var offset = new Option<string?>("--offset") { HelpName = "N", Description = "skip the N newest that match" };
        var command = new Command("list", "list the dumps, newest first (from the running server, else from the dump directory)");
        foreach (var option in new[] { host, status, since, group, limit, offset })
        {
            command.Options.Add(option);
        }

        options.AddTo(command, disk: true);
        command.SetAction(async (parse, cancel) =>
        {
            var query = new ListArguments(parse.GetValue(host), parse.GetValue(status), parse.GetValue(since), parse.GetValue(group), parse.GetValue(limit), parse.GetValue(offset));
            var now = clock.GetUtcNow();
            if (ListQuery.Parse(query.Host, query.Status, query.Since, query.Group, query.Limit, query.Offset, now, out var problem) is null)
            {
                return FleetRun.Fail(parse, $"list: {problem}");
            }

            return await FleetRun.WithDumps(parse, options, clock, async source =>
            {
                var page = await source.ListAsync(query, cancel);
                if (parse.GetValue(options.Json))
                {
                    parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(page, ApiJson.Default.DumpList));
                }
                else
                {
                    consoles(parse.InvocationConfiguration.Output).Write(Table(page));
                }

                return ServerCommand.ExitOk;
            });
        });
        return command;
    }

    /// <summary>One row a dump: its id (client address and local arrival time), host (name, else address), status and why (cut to <see cref="FleetText.ReasonInTable"/> characters), size, panic.</summary>
    public static Table Table(DumpList page)
    {
        var fleet = page.Items.Any(i => i.Node is not null);
        var table = new Table().Border(TableBorder.Minimal);
        table.AddColumn("ID", c => c.NoWrap());
        table.AddColumn("HOST");
        if (fleet)
        {
            table.AddColumn("NODE");
        }

        table.AddColumn("STATUS");
        table.AddColumn(new TableColumn("SIZE").RightAligned().NoWrap());
        table.AddColumn("PANIC");
        foreach (var item in page.Items)
        {
            var cells = new List<Spectre.Console.Rendering.IRenderable>
            {
                new Text(DumpReport.OneLine(item.Id)),
                new Text(DumpReport.OneLine(item.Host)), // the API's: the host name, else the client address (a Linux client sends no name)
            };
            if (fleet)
            {
                cells.Add(new Text(item.Node is { } node ? DumpReport.OneLine(node) : "-"));
            }

            cells.Add(FleetText.Status(item.Status, item.Reason, FleetText.ReasonInTable));
            cells.Add(new Text(FleetText.Size(item.DumpLength ?? item.BytesReceived)));
            cells.Add(new Text(item.PanicString is { } panic ? DumpReport.OneLine(panic) : "-"));
            table.AddRow(cells);
        }

        var shown = page.Items.Count == 0 ? "no dump matches" : $"{page.Offset + 1}-{page.Offset + page.Items.Count} of {page.Total}";
        return table.Caption(page.Total > page.Items.Count ? $"{shown} (--limit, --offset for more)" : shown);
    }
}
