using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// The attacks from outside that once cost dumps (issue 13), replayed over loopback against a
/// real server: a HERALD flood from a few addresses, session ports held by finished dumps, a
/// client refused for want of a port, and a refusing netdump-crash under HERALD retries.
/// </summary>
public sealed class AttackTests : ServerTests
{
    /// <summary>A bare HERALD from each source every 20 ms until cancelled (no replies needed: it works spoofed).</summary>
    private static async Task Flood(IPEndPoint server, IReadOnlyList<string> sources, CancellationToken stop)
    {
        var herald = new byte[MessageHeader.Size];
        new MessageHeader(MessageType.Herald, 1, 0, 0, 0).Write(herald);
        var sockets = sources.Select(source =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            return socket;
        }).ToList();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var socket in sockets)
                {
                    socket.SendTo(herald, server);
                }

                await Task.Delay(20, CancellationToken.None);
            }
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    /// <summary>A port range of <paramref name="count"/> ports below the ephemeral range, different in each run.</summary>
    private static (int First, int Last) PortRange(int count)
    {
        var first = 21_000 + Random.Shared.Next(0, 11_000 / count) * count;
        return (first, first + count - 1);
    }

    [Fact]
    public async Task A_HERALD_flood_from_a_few_addresses_does_not_lock_out_clients_that_send_data()
    {
        // the built-in limits (4 dumps, 8 silent sessions, silent_timeout 10 s, silent_grace 1 s):
        // the flood's 4 silent sessions hold every slot, each far longer than a client retries
        var server = await Start(new() { ["secure"] = false });
        string[] attackers = ["127.0.5.1", "127.0.5.2", "127.0.5.3", "127.0.5.4"];
        using var stop = new CancellationTokenSource();
        var flood = Flood(server.Endpoint, attackers, stop.Token);
        foreach (var attacker in attackers)
        {
            await server.WaitForLogAsync($"Client {attacker}", "dump started");
        }

        // three real clients, each giving up after 12 sends 500 ms apart (6 s, under silent_timeout)
        var clients = Enumerable.Range(101, 3).Select(i => new SimulatedClient(server.Client($"127.0.5.{i}") with
        {
            Size = 1 << 20,
            Seed = i,
            ResendAfter = TimeSpan.FromMilliseconds(500),
        })).ToList();
        var results = await Task.WhenAll(clients.Select(c => c.RunAsync()));
        await stop.CancelAsync();
        await flood;

        foreach (var (client, result) in clients.Zip(results))
        {
            Assert.True(result.Success, $"{client.Options.Source}: {result.Error}");
            var dir = server.SingleDumpOf(client.Options.Source.ToString());
            Assert.Equal("complete", ServerHarness.ReadJson(dir).GetProperty("status").GetString());
            Assert.True(client.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(dir, "vmcore"))));
        }

        await server.WaitForLogAsync("nothing but a HERALD", "a client is waiting");
    }

    [Fact]
    public async Task Sessions_lingering_after_their_dump_do_not_keep_a_new_dump_from_a_session_port()
    {
        var (first, last) = PortRange(4);
        var server = await Start(new()
        {
            ["secure"] = false,
            ["session_ports"] = $"{first}-{last}",
            ["linger"] = "30s",
            ["max_concurrent_dumps"] = 8,
        });

        for (var i = 1; i <= 4; i++)
        {
            var done = await new SimulatedClient(server.Client($"127.0.6.{i}") with { Size = 20_000 }).RunAsync();
            Assert.True(done.Success, done.Error);
        }

        // every port now belongs to a lingering session; the fifth dump takes one back
        var fifth = await new SimulatedClient(server.Client("127.0.6.5") with { Size = 20_000 }).RunAsync();

        Assert.True(fifth.Success, fifth.Error);
        Assert.InRange(fifth.SessionPort, first, last);
        Assert.Equal(5, Directory.GetDirectories(server.DumpDir, "127.0.6.*").Length);
        Assert.All(Directory.GetDirectories(server.DumpDir, "127.0.6.*"),
            dir => Assert.Equal("complete", ServerHarness.ReadJson(dir).GetProperty("status").GetString()));
    }

    [Fact]
    public async Task A_client_refused_for_want_of_a_session_port_leaves_nothing_behind_and_is_logged_once()
    {
        var (first, last) = PortRange(2);
        var server = await Start(new()
        {
            ["secure"] = false,
            ["session_ports"] = $"{first}-{last}",
            ["max_concurrent_dumps"] = 8,
            ["session_timeout"] = "10s", // the two dumps whose clients died hold their ports throughout
        });
        var crashLog = Path.Combine(server.DumpDir, "crash.log");
        OperatorBehaviourTests.Script(server, "netdump-crash", $"echo \"$1\" >> {crashLog}");
        // two dumps under way hold both ports
        var holders = Enumerable.Range(1, 2).Select(i =>
            new SimulatedClient(server.Client($"127.0.7.{i}") with { Size = 1 << 20, DieAfterBytes = 100_000 }).RunAsync()).ToList();
        await Task.WhenAll(holders);
        Assert.Equal(2, Directory.GetDirectories(server.DumpDir, "127.0.7.*").Length);

        var refused = await new SimulatedClient(server.Client("127.0.7.9") with
        {
            Size = 10_000,
            MaxSends = 6,
            ResendAfter = TimeSpan.FromMilliseconds(100),
        }).RunAsync();

        Assert.False(refused.Success);
        Assert.Equal(0, refused.AcksReceived);
        Assert.Empty(server.DumpsOf("127.0.7.9"));
        Assert.DoesNotContain("127.0.7.9", File.ReadAllText(crashLog));
        await server.WaitForLogAsync("127.0.7.9", "no free session port");
        Assert.Single(server.LogLines, l => l.Contains("127.0.7.9") && l.Contains("no free session port"));
    }

    [Fact]
    public async Task A_refusing_netdump_crash_runs_once_for_all_of_a_clients_HERALD_retries()
    {
        var server = await Start(new() { ["secure"] = false });
        var crashLog = Path.Combine(server.DumpDir, "crash.log");
        OperatorBehaviourTests.Script(server, "netdump-crash", $"echo \"$1\" >> {crashLog}; exit 1");

        var result = await new SimulatedClient(server.Client("127.0.8.1") with
        {
            Size = 10_000,
            MaxSends = 12,
            ResendAfter = TimeSpan.FromMilliseconds(150),
        }).RunAsync();

        Assert.False(result.Success);
        Assert.Equal(0, result.AcksReceived);
        Assert.Equal(["127.0.8.1"], File.ReadAllLines(crashLog));
        Assert.Single(server.LogLines, l => l.Contains("netdump-crash exited 1"));
        Assert.Empty(server.DumpsOf("127.0.8.1"));
    }
}
