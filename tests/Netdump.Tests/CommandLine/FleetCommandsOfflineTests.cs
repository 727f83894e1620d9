using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;
using Netdump.Tests.App;
using Netdump.Tests.Storage;

namespace Netdump.Tests.CommandLine;

/// <summary>
/// <c>list</c> and <c>show</c> with no server, through the real executable, over dump trees the
/// writer's report code made; and every command's one line and exit 1 when the server it must
/// ask does not answer.
/// </summary>
public sealed class FleetCommandsOfflineTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private readonly GeneratedDumps _dumps = new();

    public void Dispose() => _dumps.Dispose();

    [Fact]
    public async Task List_reads_the_dump_directory_newest_first_with_filters_and_json()
    {
        var oldest = _dumps.Add("127.0.7.1", "web1.example.org", "page fault while in kernel mode", TimeSpan.FromHours(5));
        var middle = _dumps.Add("127.0.7.2", "web2.example.org", "page fault while in kernel mode", TimeSpan.FromHours(2), DumpStatus.Incomplete, EndReason.ClientTimedOut, under: "rack1");
        var newest = _dumps.Add("127.0.7.3", "db1.example.org", "vm_fault: pager read error, pid 4312 (postgres)", TimeSpan.FromMinutes(5));

        using var table = await Offline("list");
        Assert.Equal(0, table.Process.ExitCode);
        var order = new[] { newest, middle, oldest }.Select(d => table.StdoutLines.FindIndex(l => l.Contains(DumpId.Of(_dumps.Root, d)))).ToList();
        Assert.True(order.All(i => i >= 0) && order.SequenceEqual(order.Order()), table.Stdout);
        Assert.Contains(table.StdoutLines, l => l.Contains("web2.example.org") && l.Contains("incomplete: client timed out"));
        Assert.Contains(DumpId.Of(_dumps.Root, middle), table.Stdout);
        Assert.StartsWith("rack1~", DumpId.Of(_dumps.Root, middle));

        using var filtered = await Offline("list", "--json", "--status", "complete", "--since", "3h");
        var page = JsonDocument.Parse(filtered.Stdout).RootElement;
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal("db1.example.org", page.GetProperty("items")[0].GetProperty("hostname").GetString());

        using var host = await Offline("list", "--json", "--host", "WEB1.example.org");
        Assert.Equal(DumpId.Of(_dumps.Root, oldest), Assert.Single(JsonDocument.Parse(host.Stdout).RootElement.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Show_names_a_dump_by_id_or_directory_and_says_what_it_holds()
    {
        var dir = _dumps.Add("127.0.7.4", "web4.example.org", "page fault while in kernel mode", TimeSpan.FromMinutes(20), DumpStatus.Incomplete, EndReason.Holes(1, 4096));
        var id = DumpId.Of(_dumps.Root, dir);

        using var byId = await Offline("show", id);
        Assert.Equal(0, byId.Process.ExitCode);
        Assert.Contains(byId.StdoutLines, l => l.StartsWith("status") && l.Contains("incomplete: holes: 1 missing ranges, 4096 bytes"));
        Assert.Contains(byId.StdoutLines, l => l.StartsWith("host") && l.Contains("web4.example.org (127.0.7.4)"));
        Assert.Contains(byId.StdoutLines, l => l.StartsWith("panic") && l.Contains("page fault while in kernel mode"));
        Assert.Contains(byId.StdoutLines, l => l.Contains("vmcore-incomplete") && l.Contains("8.0 KiB"));

        using var byDirectory = await Offline("show", dir, "--json");
        var item = JsonDocument.Parse(byDirectory.Stdout).RootElement;
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.Equal(3, item.GetProperty("files").GetArrayLength());

        using var missing = await Offline("show", "127.0.7.9-2024-01-01-00:00:00");
        Assert.Equal(1, missing.Process.ExitCode);
        Assert.Equal($"netdump-server: show: no dump 127.0.7.9-2024-01-01-00:00:00 at {_dumps.Root} (no server)", Assert.Single(missing.StderrLines));
    }

    [Fact]
    public async Task List_and_show_never_pass_a_clients_escape_sequences_or_line_breaks_to_the_terminal()
    {
        // a KDH's host name and panic string are the client's words, whatever bytes they hold
        var dir = _dumps.Add("127.0.7.6", "evil\u001b]0;PWNED\u0007\u001b[2J", "boom\u001b[31mRED\r\nnetdump-server: fake line", TimeSpan.FromMinutes(3));
        var id = DumpId.Of(_dumps.Root, dir);

        using var table = await Offline("list");
        using var shown = await Offline("show", id);

        foreach (var run in new[] { table, shown })
        {
            Assert.Equal(0, run.Process.ExitCode);
            Assert.DoesNotContain('\u001b', run.Stdout);
            Assert.DoesNotContain('\u0007', run.Stdout);
            Assert.DoesNotContain(run.StdoutLines, l => l.StartsWith("netdump-server: fake line", StringComparison.Ordinal));
        }

        Assert.Contains(shown.StdoutLines, l => l.StartsWith("panic") && l.Contains("netdump-server: fake line")); // on the panic's own line
        using var json = await Offline("show", id, "--json"); // JSON escapes them itself
        Assert.Equal("evil\u001b]0;PWNED\u0007\u001b[2J", JsonDocument.Parse(json.Stdout).RootElement.GetProperty("hostname").GetString());
    }

    [Fact]
    public async Task A_damaged_dump_json_is_one_skipped_line_and_the_other_dumps_are_listed()
    {
        var good = _dumps.Add("127.0.7.7", "web7.example.org", "page fault", TimeSpan.FromMinutes(4));
        var garbled = _dumps.Add("127.0.7.8", "web8.example.org", "page fault", TimeSpan.FromMinutes(3));
        var json = Path.Combine(garbled, DumpReport.JsonFileName);
        var bytes = File.ReadAllBytes(json);
        var at = bytes.AsSpan().IndexOf("web8"u8); // the host name's bytes, no longer UTF-8
        bytes[at] = 0xff;
        bytes[at + 1] = 0xfe;
        File.WriteAllBytes(json, bytes);
        var bare = _dumps.Add("127.0.7.9", "web9.example.org", "page fault", TimeSpan.FromMinutes(2));
        File.WriteAllText(Path.Combine(bare, DumpReport.JsonFileName), "{\"status\": \"complete\"}");

        using var table = await Offline("list");

        Assert.Equal(0, table.Process.ExitCode);
        Assert.Contains(DumpId.Of(_dumps.Root, good), table.Stdout);
        Assert.Contains(table.StdoutLines, l => l.Contains("127.0.7.8")); // listed by its address, its name unreadable
        Assert.Equal($"netdump-server: skipped {bare}: its dump.json lacks a status, client_ip or received_at", Assert.Single(table.StderrLines));
    }

    [Fact]
    public async Task List_and_show_name_a_linux_dump_by_its_address_and_show_its_kernel_as_the_api_does()
    {
        var dir = _dumps.AddLinux("127.0.7.8", "2.6.9-89.ELsmp", "Kernel panic - not syncing: Fatal exception", TimeSpan.FromMinutes(2));
        var id = DumpId.Of(_dumps.Root, dir);

        using var list = await Offline("list");
        Assert.Equal(0, list.Process.ExitCode);
        var row = Assert.Single(list.StdoutLines, l => l.Contains(id)).Split('│', StringSplitOptions.TrimEntries);
        Assert.Equal("127.0.7.8", row[1]);

        using var json = await Offline("show", id, "--json");
        var item = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("127.0.7.8", item.GetProperty("host").GetString());
        Assert.Equal("2.6.9-89.ELsmp", item.GetProperty("kernel").GetString());

        using var show = await Offline("show", id);
        Assert.Equal(0, show.Process.ExitCode);
        Assert.Contains(show.StdoutLines, l => l.StartsWith("kernel ") && l.Contains("2.6.9-89.ELsmp"));
        Assert.Contains(show.StdoutLines, l => l.StartsWith("host ") && l.Contains("127.0.7.8"));
    }

    [Fact]
    public async Task List_cuts_a_long_reason_with_an_ellipsis_and_show_prints_it_whole()
    {
        var reason = EndReason.ServerStopped(RecoveryScan.ReasonFor("vmcore-incomplete", 4096, 2048));
        Assert.True(reason.Text.Length > 150, reason.Text);
        var dir = _dumps.Add("127.0.7.10", "web10.example.org", "page fault while in kernel mode", TimeSpan.FromMinutes(4), DumpStatus.Incomplete, reason);
        var id = DumpId.Of(_dumps.Root, dir);

        using var list = await Offline("list");
        Assert.Equal(0, list.Process.ExitCode);
        var status = Assert.Single(list.StdoutLines, l => l.Contains(id)).Split('│', StringSplitOptions.TrimEntries)[2];
        Assert.Equal($"incomplete: {reason.Text[..59].TrimEnd()}…", status);

        using var show = await Offline("show", id, "--json");
        Assert.Equal(reason.Text, JsonDocument.Parse(show.Stdout).RootElement.GetProperty("reason").GetString());
        using var facts = await Offline("show", id);
        // whole, though wrapped at the output's width: at word boundaries, under the value column
        Assert.Contains($"incomplete: {reason.Text}", Regex.Replace(facts.Stdout, @"\s+", " "));
    }

    [Fact]
    public async Task Show_offline_reads_a_copied_dump_without_any_dump_directory()
    {
        var dir = _dumps.Add("127.0.7.6", "web6.example.org", "page fault while in kernel mode", TimeSpan.FromMinutes(3));
        using var elsewhere = new TempDirectory();
        var copy = elsewhere.Combine(Path.GetFileName(dir));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(dir))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        // the settings' dump directory does not exist (as /var/crash on a workstation): the copy alone is read
        var conf = elsewhere.Combine("netdump.conf");
        File.WriteAllText(conf, $"dumpdir = {elsewhere.Combine("no-such-dumpdir")}\n");

        using var run = await Run("show", copy, "--offline", "--config", conf);
        Assert.Equal(0, run.Process.ExitCode);
        Assert.Empty(run.StderrLines);
        Assert.Contains(run.StdoutLines, l => l.StartsWith("host") && l.Contains("web6.example.org (127.0.7.6)"));
        Assert.Contains(run.StdoutLines, l => l.StartsWith("directory") && l.Contains(copy));

        using var list = await Run("list", "--offline", "--config", conf);
        Assert.Equal(1, list.Process.ExitCode);
        Assert.Equal($"netdump-server: dumpdir {elsewhere.Combine("no-such-dumpdir")} does not exist", Assert.Single(list.StderrLines));
    }

    [Fact]
    public async Task List_and_show_read_the_disk_when_the_conf_server_does_not_answer_and_say_so()
    {
        _dumps.Add("127.0.7.5", "web5.example.org", "page fault while in kernel mode", TimeSpan.FromMinutes(1));
        var port = ClosedPort();

        using var fallback = await Run("list", "--config", _dumps.Conf($"http = 127.0.0.1:{port}"));
        Assert.Equal(0, fallback.Process.ExitCode);
        Assert.Contains("web5.example.org", fallback.Stdout);
        Assert.Equal(
            $"netdump-server: cannot reach the server at http://127.0.0.1:{port}/: connection refused (is the server running, with http on?); reading {_dumps.Root} instead",
            Assert.Single(fallback.StderrLines));

        using var off = await Run("list", "--config", _dumps.Conf("http = off"));
        Assert.Equal(0, off.Process.ExitCode);
        Assert.Contains("web5.example.org", off.Stdout);
        Assert.Empty(off.StderrLines);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("show", "127.0.7.1-2024-01-01-00:00:00")]
    [InlineData("status")]
    [InlineData("status", "--watch")]
    [InlineData("groups")]
    public async Task A_server_that_must_answer_and_does_not_is_one_line_and_exit_1(params string[] command)
    {
        var url = $"http://127.0.0.1:{ClosedPort()}/";
        using var run = await Run([.. command, "--server", url]);
        Assert.Equal(1, run.Process.ExitCode);
        Assert.Empty(run.StdoutLines);
        Assert.Equal($"netdump-server: cannot reach the server at {url}: connection refused (is the server running, with http on?)", Assert.Single(run.StderrLines));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("groups")]
    public async Task Status_and_groups_with_http_off_say_there_is_no_server_to_ask(string command)
    {
        using var run = await Run(command, "--config", _dumps.Conf("http = off"));
        Assert.Equal(1, run.Process.ExitCode);
        Assert.Equal("netdump-server: http = off in the settings: no server to ask (set http, or give --server URL)", Assert.Single(run.StderrLines));
    }

    [Theory]
    [InlineData("netdump-server: list: since: \"yesterday\" is neither an ISO 8601 date or time with its zone (2024-05-01, 2024-05-01T10:00:00Z) nor an age (90s, 15m, 1h, 7d)", "list", "--offline", "--since", "yesterday")]
    [InlineData("netdump-server: list: status: \"lost\" is not receiving, complete, incomplete or refused", "list", "--offline", "--status", "lost")]
    [InlineData("netdump-server: --offline and --server exclude each other (see --help)", "list", "--offline", "--server", "http://127.0.0.1:1")]
    [InlineData("netdump-server: --server: \"ftp://x\" is not an http:// or https:// URL (such as http://127.0.0.1:20080; an IPv4 address is four numbers 0-255 with dots, such as 192.0.2.10)", "groups", "--server", "ftp://x")]
    [InlineData("netdump-server: --server: \"127.1:20080\" is not an http:// or https:// URL (such as http://127.0.0.1:20080; an IPv4 address is four numbers 0-255 with dots, such as 192.0.2.10)", "groups", "--server", "127.1:20080")]
    [InlineData("netdump-server: --server: \"http://u@010.0.0.1/x\" is not an http:// or https:// URL (such as http://127.0.0.1:20080; an IPv4 address is four numbers 0-255 with dots, such as 192.0.2.10)", "status", "--server", "http://u@010.0.0.1/x")]
    public async Task A_bad_option_is_one_line_and_exit_1(string message, params string[] command)
    {
        using var run = await Run(command);
        Assert.Equal(1, run.Process.ExitCode);
        Assert.Equal(message, Assert.Single(run.StderrLines));
    }

    private static Task<ServerProcess> Run(params string[] arguments) => ServerProcess.RunAsync(RunTimeout, arguments);

    /// <summary>A command with no server, over the test's dump directory (the options after the command's own arguments).</summary>
    private Task<ServerProcess> Offline(params string[] arguments) => Run([.. arguments, "--offline", "--dumpdir", _dumps.Root]);

    /// <summary>A loopback TCP port nothing listens on (bound, then let go).</summary>
    internal static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}

internal static class LineSearch
{
    public static int FindIndex(this IReadOnlyList<string> lines, Func<string, bool> match)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            if (match(lines[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
