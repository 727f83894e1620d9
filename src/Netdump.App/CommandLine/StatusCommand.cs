using System.CommandLine;
using Netdump.Actors.Storage;
using Netdump.App.Http;
using Spectre.Console;

namespace Netdump.App.CommandLine;

/// <summary>
/// <c>netdump-server status [--watch]</c>: the dumps arriving now at the running server, with
/// how far each is, its rate and the time left. On a terminal each is a Spectre.Console
/// progress bar; <c>--watch</c> keeps them moving (every second, until Ctrl-C) and says how each
/// dump ended. Into a pipe: a table, and with <c>--watch</c> one line per dump per second and
/// one when it ends. <c>--json</c>: the API's <c>/api/sessions</c> answer (with <c>--watch</c>,
/// one a line). Only the server knows what arrives: none answering is one line and exit 1.
/// </summary>
public static class StatusCommand
{
    /// <summary>How often <c>--watch</c> asks.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public const string NoneArriving = "no dump is arriving";

    public static Command Create() => Create(TimeProvider.System, Terminal.For);

    public static Command Create(TimeProvider clock, Terminal.Factory consoles)
    {
        var options = new FleetOptions();
        var watch = new Option<bool>("--watch") { Description = "keep showing the progress, every second, until Ctrl-C" };
        var command = new Command("status", "show the dumps arriving now, with progress bars (from the running server)");
        command.Options.Add(watch);
        options.AddTo(command, disk: false);
        command.SetAction((parse, cancel) => FleetRun.WithServer(parse, options, async client =>
        {
            var output = parse.InvocationConfiguration.Output;
            var json = parse.GetValue(options.Json);
            var first = await client.GetAsync(ApiRoutes.Relative(ApiRoutes.Sessions), ApiJson.Default.SessionList, cancel);
            if (json && !parse.GetValue(watch))
            {
                output.WriteLine(first.Text);
                return ServerCommand.ExitOk;
            }

            var console = consoles(output);
            if (!parse.GetValue(watch))
            {
                if (first.Value.Items.Count == 0)
                {
                    output.WriteLine(NoneArriving);
                }
                else if (console.Profile.Capabilities is { Ansi: true, Interactive: true })
                {
                    StatusWatch.Once(console, first.Value);
                }
                else
                {
                    console.Write(Table(first.Value, clock.GetUtcNow()));
                }

                return ServerCommand.ExitOk;
            }

            var watcher = new StatusWatch(client, console, parse.InvocationConfiguration.Error, clock);
            if (json)
            {
                await watcher.JsonLinesAsync(output, first.Text, cancel);
            }
            else if (console.Profile.Capabilities is { Ansi: true, Interactive: true })
            {
                await watcher.LiveAsync(first.Value, cancel);
            }
            else
            {
                await watcher.LinesAsync(output, first.Value, cancel);
            }

            return ServerCommand.ExitOk;
        }));
        return command;
    }

    /// <summary>One row a dump arriving: host, how far (percent once the length is known), bytes, rate, time left, when it started.</summary>
    public static Table Table(SessionList sessions, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.Minimal);
        table.AddColumn("ID", c => c.NoWrap());
        table.AddColumn("HOST");
        if (sessions.Items.Any(i => i.Node is not null))
        {
            table.AddColumn("NODE");
        }

        foreach (var name in new[] { "DONE", "RECEIVED", "RATE", "LEFT", "STARTED" })
        {
            table.AddColumn(new TableColumn(name).RightAligned().NoWrap());
        }

        foreach (var item in sessions.Items)
        {
            var p = item.Progress;
            var cells = new List<string> { item.Id, FleetText.Host(item) };
            if (table.Columns.Count == 8)
            {
                cells.Add(item.Node ?? "-");
            }

            cells.AddRange(
            [
                Percent(p),
                Received(item),
                p is null ? "" : Netdump.Actors.Storage.ByteUnits.Rate(p.RateBytesPerSecond),
                p?.EtaSeconds is { } eta ? Terminal.Duration(eta) : "",
                Terminal.Ago(item.ReceivedAt, now),
            ]);
            table.AddRow(cells.Select(c => new Text(DumpReport.OneLine(c))));
        }

        return table.Caption(sessions.Items.Count switch
        {
            0 => NoneArriving,
            1 => "1 dump arriving",
            var n => $"{n} dumps arriving",
        });
    }

    /// <summary><c>42.0 %</c>, or <c>?</c> while the length is not known (no kernel dump header yet).</summary>
    public static string Percent(ProgressItem? p) => p?.Percent is { } percent
        ? percent.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " %"
        : "?";

    /// <summary><c>1.2 GiB of 8.0 GiB</c>, or the bytes alone while the length is not known.</summary>
    public static string Received(DumpItem item)
    {
        var p = item.Progress;
        var bytes = p?.BytesReceived ?? item.BytesReceived;
        var length = p?.DumpLength ?? item.DumpLength;
        return length is { } total ? $"{FleetText.Size(bytes)} of {FleetText.Size(total)}" : FleetText.Size(bytes);
    }
}
