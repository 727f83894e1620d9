using System.CommandLine;
using System.Text.Json;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;
using Netdump.App.Configuration;
using Netdump.App.Http;
using Spectre.Console;

namespace Netdump.App.CommandLine;

/// <summary>
/// <c>netdump-server show ID|DIR</c>: everything known of one dump (its facts, why it is not
/// complete, its progress while it arrives, its files); the API's JSON with <c>--json</c>. The
/// dump is named by its id (as <c>list</c> prints it) or its directory. Asks the running server,
/// else reads the dump directory, as <see cref="ListCommand"/> does. A dump that does not exist
/// is one line and exit 1.
/// </summary>
public static class ShowCommand
{
    public static Command Create() => Create(TimeProvider.System, Terminal.For);

    private static Command Create(TimeProvider clock, Terminal.Factory consoles)
    {
        var options = new FleetOptions();
        var dump = new Argument<string>("ID|DIR") { Description = "the dump's id (as list prints it) or its directory" };
        var command = new Command("show", "show one dump: its facts, status, progress and files");
        command.Arguments.Add(dump);
        options.AddTo(command, disk: true);
        command.SetAction(async (parse, cancel) =>
        {
            var named = parse.GetValue(dump)!;
            return await FleetRun.WithDumps(parse, options, clock, async source =>
            {
                var item = await Find(source, named, cancel);
                if (item is null)
                {
                    return FleetRun.Fail(parse, $"show: no dump {DumpReport.OneLine(named)} at {source.Name}");
                }

                if (parse.GetValue(options.Json))
                {
                    parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(item, ApiJson.Default.DumpItem));
                }
                else
                {
                    consoles(parse.InvocationConfiguration.Output).Write(Facts(item, clock.GetUtcNow()));
                }

                return ServerCommand.ExitOk;
            });
        });
        return command;
    }

    /// <summary>
    /// The dump <paramref name="named"/>: an existing directory is turned into its id under the
    /// source's dump directory; anything else is an id. A directory elsewhere is read alone from
    /// disk (a copy, an archive), or, from a server, found by the id its own report gives (the
    /// server may run with another <c>--dumpdir</c> than the settings say); failing that, an
    /// <see cref="OperatorConfigException"/> says why and how to name it.
    /// </summary>
    private static async Task<DumpItem?> Find(DumpSource source, string named, CancellationToken cancel)
    {
        if (!Directory.Exists(named))
        {
            return await source.GetAsync(named, cancel);
        }

        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(named));
        var relative = Path.GetRelativePath(source.Root, directory);
        if (relative != ".." && !relative.StartsWith("../", StringComparison.Ordinal) && relative != ".")
        {
            return await source.GetAsync(DumpId.Of(source.Root, directory), cancel);
        }

        if (ReportScan.ReadOne(directory, out var why) is not { } json)
        {
            throw new OperatorConfigException($"show: {directory} is not a dump: its {DumpReport.JsonFileName} {why}");
        }

        if (source is DumpSource.Disk)
        {
            if (CatalogEntries.FromJson(Path.GetDirectoryName(directory)!, directory, json) is not { } entry)
            {
                throw new OperatorConfigException($"show: {directory} is not a dump: its {DumpReport.JsonFileName} lacks a status, client_ip or received_at");
            }

            var files = FileItem.Of(directory, entry.Id);
            return DumpItem.From(entry) with { Files = files };
        }

        if (await source.GetAsync(IdFromReport(directory, json), cancel) is { } item
            && Path.TrimEndingDirectorySeparator(Path.GetFullPath(item.Directory)) == directory)
        {
            return item;
        }

        throw new OperatorConfigException(
            $"show: {directory} is not under {source.Root}, the dump directory this command reads (--dumpdir, else dumpdir of the settings), "
            + $"and {source.Name} has no dump there: give the server's --dumpdir too, name the dump by its id (list prints it), or read a copy with --offline");
    }

    /// <summary>
    /// The id a dump has under whatever dump directory holds it: its HERALD path (unless the dump
    /// fell back to the dump directory itself) and its directory's name, as its report says.
    /// </summary>
    private static string IdFromReport(string directory, JsonElement json)
    {
        var path = DumpJson.String(json, DumpJson.HeraldPathFallback) is null ? DumpJson.String(json, DumpJson.HeraldPath) ?? "" : "";
        return DumpId.Of("/", Path.Combine("/", path, Path.GetFileName(directory)));
    }

    /// <summary>Two columns, name and value, one fact a line (a script can grep them; <c>--json</c> is for parsing).</summary>
    public static Grid Facts(DumpItem d, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(2)).AddColumn();
        void Row(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                grid.AddRow(new Text(name), new Text(DumpReport.OneLine(value)));
            }
        }

        Row("id", d.Id);
        Row("node", d.Node);
        grid.AddRow(new Text("status"), FleetText.Status(d.Status, d.Reason));
        Row("host", FleetText.Host(d));
        Row("panic", d.PanicString);
        // the API's kernel: a FreeBSD header's first words, or what a Linux client's console
        // printed (a Linux dump has no version string); the whole FreeBSD string below it
        var version = d.VersionString?.Trim();
        Row("kernel", d.Kernel ?? version);
        Row("version", version != d.Kernel ? version : null);
        Row("group", d.Group);
        Row("architecture", d.Architecture);
        Row("received at", $"{Terminal.Time(d.ReceivedAt)} ({Terminal.Ago(d.ReceivedAt, now)})");
        Row("finished at", d.FinishedAt is { } finished ? Terminal.Time(finished) : null);
        Row("dump time", d.DumpTime is { } dumpTime ? Terminal.Time(dumpTime) : null);
        Row("length", d.DumpLength is { } length ? $"{length} bytes ({FleetText.Size(length)})" : "not known (no kernel dump header yet)");
        Row("received", $"{d.BytesReceived} bytes ({FleetText.Size(d.BytesReceived)})");
        if (d.Progress is { } p)
        {
            var left = p.EtaSeconds is { } eta ? $", about {Terminal.Duration(eta)} left" : "";
            Row("progress", $"{(p.Percent is { } percent ? $"{percent:0.0} %, " : "")}{ByteUnits.Rate(p.RateBytesPerSecond)} now, {ByteUnits.Rate(p.AverageRateBytesPerSecond)} on average{left}");
        }

        Row("holes", d.HoleCount == 0 ? null : $"{d.HoleCount} ({d.MissingBytes} bytes missing)");
        Row("compression", d.Compression);
        Row("encrypted", d.Encrypted ? "yes" : null);
        Row("dialect", d.Dialect);
        Row("sha256", d.Sha256);
        Row("superseded by", d.SupersededBy);
        Row("recovered", d.Recovered ? "yes: the server stopped while receiving it" : null);
        Row("directory", d.Directory);
        foreach (var file in d.Files ?? [])
        {
            Row(file == d.Files![0] ? "files" : "", $"{file.Name}  {FleetText.Size((ulong)file.Size)}");
        }

        return grid;
    }
}
