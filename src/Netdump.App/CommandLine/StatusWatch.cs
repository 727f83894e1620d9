using Netdump.Actors.Storage;
using Netdump.App.Http;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Netdump.App.CommandLine;

/// <summary>
/// The moving part of <c>status</c>: the live sessions as Spectre.Console progress bars (one
/// task a dump; its bar, percentage, bytes, the server's rate and time left), polled every
/// <see cref="StatusCommand.Interval"/> until cancelled; how each dump ended, when it leaves
/// the list; and the same for a pipe, as lines. A server that stops answering while watched
/// is said once, and asked again until it answers.
/// </summary>
internal sealed class StatusWatch(FleetClient client, IAnsiConsole console, TextWriter error, TimeProvider clock)
{
    /// <summary>The progress bars of the sessions now, drawn once.</summary>
    public static void Once(IAnsiConsole console, SessionList sessions)
    {
        Bars(console).AutoRefresh(false).Start(context =>
        {
            foreach (var item in sessions.Items)
            {
                Update(context.AddTask(Describe(item)), item);
            }

            context.Refresh();
        });
    }

    /// <summary>Progress bars kept moving until <paramref name="cancel"/>.</summary>
    public Task LiveAsync(SessionList first, CancellationToken cancel) =>
        Bars(console).AutoRefresh(true).StartAsync(async context =>
        {
            var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
            for (SessionList? sessions = first; !cancel.IsCancellationRequested; sessions = await NextAsync(cancel))
            {
                if (sessions is null)
                {
                    continue;
                }

                foreach (var item in sessions.Items)
                {
                    if (!tasks.TryGetValue(item.Id, out var task))
                    {
                        tasks[item.Id] = task = context.AddTask(Describe(item));
                    }

                    Update(task, item);
                }

                foreach (var (id, task) in tasks.Where(t => sessions.Items.All(i => i.Id != t.Key)).ToList())
                {
                    console.WriteLine(await EndedAsync(id, (DumpItem)task.Tag!, cancel));
                    task.HideWhenCompleted = true;
                    task.StopTask();
                    tasks.Remove(id);
                }

                context.Refresh();
            }
        });

    /// <summary>For a pipe: a line a session a second, and one when it ends.</summary>
    public async Task LinesAsync(TextWriter output, SessionList first, CancellationToken cancel)
    {
        var shown = new Dictionary<string, DumpItem>(StringComparer.Ordinal);
        for (SessionList? sessions = first; !cancel.IsCancellationRequested; sessions = await NextAsync(cancel))
        {
            if (sessions is null)
            {
                continue;
            }

            var now = Terminal.Time(clock.GetUtcNow());
            foreach (var item in sessions.Items)
            {
                shown[item.Id] = item;
                var p = item.Progress;
                var left = p?.EtaSeconds is { } eta ? $", {Terminal.Duration(eta)} left" : "";
                output.WriteLine($"{now} {DumpReport.OneLine(item.Id)} {FleetText.Host(item)}: {StatusCommand.Percent(p)}, {StatusCommand.Received(item)}, {ByteUnits.Rate(p?.RateBytesPerSecond ?? 0)}{left}");
            }

            foreach (var (id, item) in shown.Where(s => sessions.Items.All(i => i.Id != s.Key)).ToList())
            {
                output.WriteLine($"{now} {await EndedAsync(id, item, cancel)}");
                shown.Remove(id);
            }

            output.Flush();
        }
    }

    /// <summary><c>--json --watch</c>: the API's answer, one a line, every interval.</summary>
    public async Task JsonLinesAsync(TextWriter output, string first, CancellationToken cancel)
    {
        output.WriteLine(first);
        output.Flush();
        while (!cancel.IsCancellationRequested)
        {
            if (await NextTextAsync(cancel) is { } text)
            {
                output.WriteLine(text);
                output.Flush();
            }
        }
    }

    private bool _down;

    private async Task<SessionList?> NextAsync(CancellationToken cancel) =>
        await NextTextAsync(cancel) is { } text ? System.Text.Json.JsonSerializer.Deserialize(text, ApiJson.Default.SessionList) : null;

    /// <summary>The next answer after an interval; null when cancelled, or while the server does not answer.</summary>
    private async Task<string?> NextTextAsync(CancellationToken cancel)
    {
        try
        {
            await Task.Delay(StatusCommand.Interval, clock, cancel);
            var text = (await client.GetAsync(ApiRoutes.Relative(ApiRoutes.Sessions), ApiJson.Default.SessionList, cancel)).Text;
            if (_down)
            {
                _down = false;
                error.WriteLine($"netdump-server: {client.Server} answers again");
            }

            return text;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception e) when (e is ServerUnreachableException or ServerAnswerException)
        {
            // an error answer (a restarting server's 503, a 500) is asked again like silence
            if (!_down)
            {
                _down = true;
                error.WriteLine($"netdump-server: {DumpReport.OneLine(e.Message)}; asking again every {StatusCommand.Interval.TotalSeconds:0} s");
            }

            return null;
        }
    }

    /// <summary>How a dump that left the live list ended: <c>db1 (10.0.0.7): complete, 8.0 GiB</c>.</summary>
    private async Task<string> EndedAsync(string id, DumpItem last, CancellationToken cancel)
    {
        DumpItem? now = null;
        try
        {
            now = (await client.GetAsync(ApiRoutes.Relative(ApiRoutes.DumpPath(id)), ApiJson.Default.DumpItem, cancel)).Value;
        }
        catch (Exception e) when (e is ServerAnswerException or ServerUnreachableException or OperationCanceledException)
        {
        }

        if (now is null)
        {
            return $"{id} {FleetText.Host(last)}: no longer listed";
        }

        var reason = now.Reason is { } why && DumpJson.ParseStatus(now.Status) != DumpStatus.Complete ? $": {why}" : "";
        return DumpReport.OneLine($"{id} {FleetText.Host(now)}: {now.Status}{reason}, {FleetText.Size(now.BytesReceived)}");
    }

    private static Progress Bars(IAnsiConsole console) => console.Progress()
        .AutoClear(false)
        .HideCompleted(false)
        .Columns(
            new TaskDescriptionColumn { Alignment = Justify.Left },
            new ProgressBarColumn(),
            new Fact(i => StatusCommand.Percent(i.Progress)),
            new Fact(StatusCommand.Received),
            new Fact(i => i.Progress is { } p ? ByteUnits.Rate(p.RateBytesPerSecond) : ""),
            new Fact(i => i.Progress?.EtaSeconds is { } eta ? $"{Terminal.Duration(eta)} left" : ""));

    /// <summary>The task's description is Spectre markup: a kernel's host name is escaped.</summary>
    private static string Describe(DumpItem item) => Markup.Escape(FleetText.Host(item));

    /// <summary>The bar follows bytes of length; with no length yet it is indeterminate.</summary>
    private static void Update(ProgressTask task, DumpItem item)
    {
        task.Tag = item;
        var p = item.Progress;
        if (p?.DumpLength is > 0 and var length)
        {
            task.IsIndeterminate = false;
            task.MaxValue = length;
            task.Value = Math.Min(p.BytesReceived, length);
        }
        else
        {
            task.IsIndeterminate = true;
        }
    }

    /// <summary>A column of the server's facts of the dump (its rate and time left, not Spectre's own estimate).</summary>
    private sealed class Fact(Func<DumpItem, string> text) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            task.Tag is DumpItem item ? new Text(text(item)) { Justification = Justify.Right } : Text.Empty;
    }
}
