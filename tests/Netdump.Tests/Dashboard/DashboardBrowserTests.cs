using System.Globalization;
using System.Net;
using Microsoft.Playwright;
using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;
using Xunit.Abstractions;

namespace Netdump.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser (Debian's chromium through Playwright) on a real server: a
/// few finished dumps, then a slow, lossy Linux dump (its length is known from the start, so its
/// bar has a width) that the page shows advancing, then complete in the table and in its panic
/// group. The page must load nothing from elsewhere and log no error. Screenshots of the laptop
/// sizes land beside the test assembly (<c>dashboard.png</c> is the README's).
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SlowClient = "127.0.23.9";
    private const string SlowPanic = "Kernel panic - not syncing: Fatal exception in interrupt";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private ServerHarness _server = null!;
    private Chromium _chromium = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["http"] = "127.0.0.1:0",
            ["linux_port"] = LinuxDumpTests.FreeUdpPort(),
            ["secure"] = false,
            // the client that dies half-way is given up while the others still arrive; long
            // enough that the slow lossy Linux client, which runs in this test process, is not
            // given up as silent when the full suite's load holds up its threads for seconds
            // (it failed once in a full run, no complete row coming: most likely so)
            ["session_timeout"] = "12s",
        });
        _chromium = await Chromium.LaunchAsync();
    }

    public async Task DisposeAsync()
    {
        await _chromium.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task The_dashboard_shows_a_slow_dump_advance_then_complete_in_the_table_and_its_group()
    {
        await FinishedDumpsAsync();
        var page = await _chromium.NewPageAsync(1366, 768);
        page.SetDefaultTimeout((float)Patience.TotalMilliseconds);
        var problems = Watch(page);
        await page.GotoAsync(_server.HttpUrl + "/");
        await Expect(page, "#dump-table tbody tr[data-status=complete]", "the finished dumps listed");

        // a Linux client tells its memory size first, so its bar has a width from the start; its
        // console text goes before START, unacknowledged: with this seed the lossy network keeps
        // the panic line (with seed 1 it loses it, as a real one may, and the dump has no group)
        var slow = new LinuxSimulatedClient(new LinuxSimulationOptions
        {
            Server = _server.LinuxEndpoint!,
            Source = IPAddress.Parse(SlowClient),
            Memory = 4 << 20,
            Loss = 0.3,
            Seed = 2,
            Console = [SlowPanic],
            ResendAfter = TimeSpan.FromMilliseconds(200),
        });
        var dumping = slow.RunAsync();

        // a FreeBSD client beside it, whose length comes only at its end (a bar without a width)
        var unknownLength = new SimulatedClient(_server.Client("127.0.23.5") with
        {
            Size = 4 << 20,
            Loss = 0.05,
            Hostname = "cache3.example.org",
            Panic = "vm_fault: pager read error, pid 4312 (postgres)",
        }).RunAsync();

        // the bar of the slow dump at two widths, the second wider
        const string bar = "#sessions tbody tr .bar:not(.unknown) > span";
        var first = await WidthAsync(page, bar, "0");
        var second = await WidthAsync(page, bar, first);
        output.WriteLine($"bar width {first} px, then {second} px");
        Assert.True(double.Parse(second, CultureInfo.InvariantCulture) > double.Parse(first, CultureInfo.InvariantCulture), $"the bar went from {first} to {second} px");

        // the README's picture: the dump a third of the way
        await page.WaitForFunctionAsync("() => Number(document.querySelector('#sessions .bar[aria-valuenow]')?.getAttribute('aria-valuenow')) >= 33");
        await Screenshot(page, "dashboard.png");

        LossyLinuxClient.AssertDumped(await dumping); // the table must then show it complete
        var other = await unknownLength;
        Assert.True(other.Success, other.Error);

        // gone from the live list, complete in the table, counted in its group
        await Expect(page, "#live-empty:not([hidden])", "the live list empty again");
        var row = page.Locator($"#dump-table tbody tr[data-status=complete]", new() { HasText = SlowClient });
        await row.WaitForAsync();
        var group = page.Locator("#group-table tbody tr", new() { HasText = "Fatal exception in interrupt" });
        await group.WaitForAsync();
        Assert.Equal("1", (await group.Locator("td").Nth(1).InnerTextAsync()).Trim());

        // the group's dumps, and only those, when the group is chosen
        await group.ClickAsync();
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#dump-table tbody tr')].length === 1");
        Assert.Contains(SlowClient, await page.Locator("#dump-table tbody tr").InnerTextAsync());
        await Screenshot(page, "dashboard-group.png");

        var wide = await _chromium.NewPageAsync(1920, 1080);
        await wide.GotoAsync(_server.HttpUrl + "/");
        await wide.Locator("#group-table tbody tr").First.WaitForAsync();
        await Screenshot(wide, "dashboard-1920.png");

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>Finished dumps for the table and the groups: one panic on three hosts, and one that died half-way.</summary>
    private async Task FinishedDumpsAsync()
    {
        for (var i = 1; i <= 3; i++)
        {
            var done = await new SimulatedClient(_server.Client($"127.0.23.{i}") with
            {
                Size = 256 << 10,
                Hostname = $"web{i}.example.org",
                Panic = $"page fault while in kernel mode: fault virtual address = 0x{i}8",
            }).RunAsync();
            Assert.True(done.Success, done.Error);
        }

        var died = await new SimulatedClient(_server.Client("127.0.23.4") with { Size = 256 << 10, Hostname = "db1.example.org", DieAfterBytes = 128 << 10 }).RunAsync();
        Assert.False(died.Success);
    }

    /// <summary>Every console error and every request to another origin, for the test to refuse.</summary>
    private List<string> Watch(IPage page)
    {
        var problems = new List<string>();
        var origin = new Uri(_server.HttpUrl!).GetLeftPart(UriPartial.Authority);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (problems)
                {
                    problems.Add($"console: {message.Text}");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (problems)
            {
                problems.Add($"script: {error}");
            }
        };
        page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(origin, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                lock (problems)
                {
                    problems.Add($"request outside the server: {request.Url}");
                }
            }
        };
        return problems;
    }

    private static async Task Expect(IPage page, string selector, string what)
    {
        try
        {
            await page.Locator(selector).First.WaitForAsync();
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"no {what} ({selector}) on the page", e);
        }
    }

    /// <summary>Waits for the element's rendered width to be above zero and different from <paramref name="other"/>; returns it.</summary>
    private static async Task<string> WidthAsync(IPage page, string selector, string other)
    {
        var handle = await page.WaitForFunctionAsync(
            "([selector, other]) => { const e = document.querySelector(selector); const w = e ? e.getBoundingClientRect().width : 0; return w > 0 && String(w) !== other ? String(w) : null; }",
            new object[] { selector, other });
        return await handle.JsonValueAsync<string>();
    }

    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        Assert.True(new FileInfo(path).Length > 10_000, $"{path} is nearly empty");
        output.WriteLine($"screenshot: {path}");
    }
}
