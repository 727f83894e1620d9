using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using Netdump.App.CommandLine;
using Netdump.App.Simulation;
using Netdump.Tests.App;
using Netdump.Tests.EndToEnd;
using Spectre.Console;

namespace Netdump.Tests.CommandLine;

/// <summary>
/// The fleet commands against a running server (in this process, HTTP on loopback port 0), the
/// executable run as an operator runs it: what <c>list</c>, <c>show</c> and <c>groups</c> print
/// is what the API holds, <c>status</c> follows a slow dump to its end (as a table, as lines
/// with <c>--watch</c>, and as Spectre.Console progress bars on a terminal), and the bearer
/// token is sent from the conf or refused without it.
/// </summary>
public sealed class FleetCommandsServerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private ServerHarness _server = null!;
    private string? _tokenFile;

    public async Task InitializeAsync()
    {
        _tokenFile = Path.Combine(Path.GetTempPath(), $"netdump-token-{Guid.NewGuid():N}");
        File.WriteAllText(_tokenFile, "0123456789abcdef0123456789abcdef\n");
        File.SetUnixFileMode(_tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["http"] = "127.0.0.1:0",
            ["http_token_file"] = _tokenFile,
            ["linux_port"] = LinuxDumpTests.FreeUdpPort(),
            ["secure"] = false,
            ["session_timeout"] = "10s", // the harness's 2 s is short for a lossy Linux pull
        });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_tokenFile!);
    }

    private string Url => _server.HttpUrl!;

    /// <summary>A conf naming the server as an operator's would: its http address and token file, its dumpdir (or another).</summary>
    private string Conf(string? dumpDir = null)
    {
        var path = Path.Combine(_server.DumpDir, "..", $"netdump-{Guid.NewGuid():N}.conf");
        var port = new Uri(Url).Port;
        File.WriteAllText(path, $"dumpdir = {dumpDir ?? _server.DumpDir}\nhttp = 127.0.0.1:{port}\nhttp_token_file = {_tokenFile}\n");
        return path;
    }

    [Fact]
    public async Task List_show_and_groups_print_what_the_server_holds()
    {
        for (var i = 1; i <= 3; i++)
        {
            var result = await new SimulatedClient(_server.Client($"127.0.24.{i}") with
            {
                Size = 128 << 10,
                Hostname = $"web{i}.example.org",
                Panic = i < 3 ? $"page fault while in kernel mode: fault virtual address = 0x{i}8" : "vm_fault: pager read error, pid 4312 (postgres)",
            }).RunAsync();
            Assert.True(result.Success, result.Error);
        }

        var conf = Conf();
        using var json = await Run("list", "--config", conf, "--json");
        var items = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["web3.example.org", "web2.example.org", "web1.example.org"], items.Select(i => i.GetProperty("hostname").GetString()));
        Assert.Empty(json.StderrLines);

        using var table = await Run("list", "--config", conf, "--host", "web2.example.org");
        Assert.Contains(table.StdoutLines, l => l.Contains("web2.example.org") && l.Contains("complete") && l.Contains("0x28"));
        Assert.DoesNotContain("web1.example.org", table.Stdout);

        var id = items[0].GetProperty("id").GetString()!;
        using var show = await Run("show", id, "--config", conf);
        Assert.Contains(show.StdoutLines, l => l.StartsWith("panic") && l.Contains("vm_fault: pager read error, pid 4312 (postgres)"));
        Assert.Contains(show.StdoutLines, l => l.Contains("vmcore") && l.Contains("128.0 KiB"));
        using var byDirectory = await Run("show", items[1].GetProperty("directory").GetString()!, "--config", conf, "--json");
        Assert.Equal(items[1].GetProperty("id").GetString(), JsonDocument.Parse(byDirectory.Stdout).RootElement.GetProperty("id").GetString());

        using var groups = await Run("groups", "--config", conf);
        Assert.Contains(groups.StdoutLines, l => l.Contains("fault virtual address = 0x#") && l.Contains(" 2 "));
        using var groupsJson = await Run("groups", "--config", conf, "--json");
        var pageFault = JsonDocument.Parse(groupsJson.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .Single(g => g.GetProperty("panic").GetString()!.StartsWith("page fault", StringComparison.Ordinal));
        Assert.Equal(2, pageFault.GetProperty("host_count").GetInt32());
        using var firstGroup = await Run("groups", "--config", conf, "--limit", "1");
        Assert.Contains(firstGroup.StdoutLines, l => l.Contains("1 of 2 groups (--limit, --offset for more)"));
        using var badPage = await Run("groups", "--config", conf, "--offset", "-1");
        Assert.Equal(["netdump-server: groups: offset: \"-1\" is not a number from 0 up"], badPage.StderrLines);

        using var ofGroup = await Run("list", "--config", conf, "--json", "--group", pageFault.GetProperty("id").GetString()!);
        Assert.Equal(2, JsonDocument.Parse(ofGroup.Stdout).RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Show_finds_a_dump_by_its_directory_when_the_server_runs_with_another_dumpdir_than_the_settings()
    {
        // the operator's settings say one dump directory, the server was started with --dumpdir another
        Directory.CreateDirectory(Path.Combine(_server.DumpDir, "rack1"));
        Assert.True((await new SimulatedClient(_server.Client("127.0.24.20") with { Size = 64 << 10, Hostname = "web20.example.org" }).RunAsync()).Success);
        Assert.True((await new SimulatedClient(_server.Client("127.0.24.21") with { Size = 64 << 10, Hostname = "web21.example.org", Path = "rack1" }).RunAsync()).Success);
        var elsewhere = Path.Combine(_server.DumpDir, "..", $"netdump-elsewhere-{Guid.NewGuid():N}");
        var conf = Conf(dumpDir: elsewhere);

        foreach (var (client, host) in new[] { ("127.0.24.20", "web20.example.org"), ("127.0.24.21", "web21.example.org") })
        {
            var dir = Assert.Single(Directory.GetDirectories(_server.DumpDir, $"{client}-*", SearchOption.AllDirectories));
            using var show = await Run("show", dir, "--config", conf);
            Assert.True(show.Process.ExitCode == 0, show.Stderr);
            Assert.Contains(show.StdoutLines, l => l.StartsWith("host") && l.Contains(host));
            Assert.Contains(show.StdoutLines, l => l.StartsWith("directory") && l.Contains(dir));
        }

        // a copy of a dump is not the server's: said so, with what to do
        var original = Assert.Single(Directory.GetDirectories(_server.DumpDir, "127.0.24.20-*"));
        var copy = Path.Combine(elsewhere + "-copy", Path.GetFileName(original));
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(original, "dump.json"), Path.Combine(copy, "dump.json"));
        try
        {
            using var refused = await Run("show", copy, "--config", conf);
            Assert.Equal(1, refused.Process.ExitCode);
            Assert.Equal(
                $"netdump-server: show: {Path.GetFullPath(copy)} is not under {Path.GetFullPath(elsewhere)}, the dump directory this command reads (--dumpdir, else dumpdir of the settings), "
                + $"and {Url}/ has no dump there: give the server's --dumpdir too, name the dump by its id (list prints it), or read a copy with --offline",
                Assert.Single(refused.StderrLines));
        }
        finally
        {
            Directory.Delete(elsewhere + "-copy", recursive: true);
        }
    }

    [Fact]
    public async Task The_token_comes_from_the_conf_and_a_server_asked_without_it_refuses()
    {
        using var withToken = await Run("groups", "--config", Conf());
        Assert.Equal(0, withToken.Process.ExitCode);
        using var without = await Run("groups", "--server", Url);
        Assert.Equal(1, without.Process.ExitCode);
        Assert.StartsWith($"netdump-server: {Url}/api/groups: 401 a bearer token is required", Assert.Single(without.StderrLines));
    }

    [Fact]
    public async Task Status_follows_a_slow_dump_as_a_table_and_as_lines_until_it_is_complete()
    {
        var conf = Conf();
        using var watch = ServerProcess.Start("status", "--watch", "--config", conf);
        var dumping = SlowDump("127.0.24.9").RunAsync();

        // the table while it arrives, with how far it is
        var id = await WaitForSessionAsync(conf);
        using var table = await Run("status", "--config", conf);
        Assert.Contains(table.StdoutLines, l => l.Contains(id) && l.Contains(" %") && l.Contains(" of 4.0 MiB"));

        // the lines of --watch: its progress, then how it ended
        await watch.WaitForOutputAsync($"{id} 127.0.24.9: ", Patience);
        LossyLinuxClient.AssertDumped(await dumping); // the callers wait for "complete"
        await watch.WaitForOutputAsync($"{id} 127.0.24.9: complete, 4.0 MiB", Patience);
        Assert.Contains(watch.StdoutLines, l => l.Contains(id) && l.Contains(" %, "));
    }

    [Fact]
    public async Task On_a_terminal_status_watch_draws_progress_bars_and_says_how_the_dump_ended()
    {
        var conf = Conf();
        var screen = new LockedWriter();
        var root = new RootCommand { StatusCommand.Create(TimeProvider.System, _ => Terminal(screen)) };
        using var stop = new CancellationTokenSource();
        var errors = new StringWriter();
        var watching = root.Parse(["status", "--watch", "--config", conf]).InvokeAsync(new InvocationConfiguration { Output = screen, Error = errors }, stop.Token);

        var dumping = SlowDump("127.0.24.10").RunAsync();
        var id = await WaitForSessionAsync(conf);
        LossyLinuxClient.AssertDumped(await dumping); // the callers wait for "complete"
        await Until(() => screen.Text.Contains($"{id} 127.0.24.10: complete, 4.0 MiB"), () => $"the end of the dump on the screen:\n{screen.Text}");
        stop.Cancel();
        Assert.Equal(0, await watching.WaitAsync(Patience));
        Assert.Contains("━", screen.Text);
        Assert.Contains(" %", screen.Text);
        Assert.Equal("", errors.ToString());
    }

    /// <summary>A Linux client whose length is known from the start, slowed by a lossy network.</summary>
    private LinuxSimulatedClient SlowDump(string source) => new(new LinuxSimulationOptions
    {
        Server = _server.LinuxEndpoint!,
        Source = IPAddress.Parse(source),
        Memory = 4 << 20,
        Loss = 0.3,
        ResendAfter = TimeSpan.FromMilliseconds(200),
    });

    /// <summary>Asks <c>status --json</c> until a dump with a known length is arriving; its id.</summary>
    private static async Task<string> WaitForSessionAsync(string conf)
    {
        string? id = null;
        await Until(
            () =>
            {
                using var run = ServerProcess.RunAsync(Patience, "status", "--config", conf, "--json").GetAwaiter().GetResult();
                var session = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("items").EnumerateArray()
                    .FirstOrDefault(i => i.GetProperty("progress").GetProperty("percent").ValueKind == JsonValueKind.Number);
                id = session.ValueKind == JsonValueKind.Object ? session.GetProperty("id").GetString() : null;
                return id is not null;
            },
            () => "a dump arriving with a known length");
        return id!;
    }

    private static async Task Until(Func<bool> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"no {what()} within {Patience}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>A console as a terminal is: ANSI, interactive, 120 columns.</summary>
    private static IAnsiConsole Terminal(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.Standard,
            Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 120;
        return console;
    }

    private static Task<ServerProcess> Run(params string[] arguments) => ServerProcess.RunAsync(Patience, arguments);

    /// <summary>What Spectre's refresh thread writes, read by the test while it writes.</summary>
    private sealed class LockedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => Encoding.UTF8;

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_text)
            {
                _text.Append(value);
            }
        }
    }
}
