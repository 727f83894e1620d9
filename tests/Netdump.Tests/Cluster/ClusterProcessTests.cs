using System.Net;
using System.Text.Json;
using Netdump.App.Simulation;
using Netdump.Tests.App;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Cluster;

/// <summary>
/// Three real executables started from one netdump.conf, differing only in <c>--addr</c>,
/// <c>--cluster-port</c> and <c>--node-name</c> (and their own dump directory and HTTP port,
/// as three machines would have): simulated clients dump to every node, <c>list --json</c> on
/// one node shows every dump with its node, and a node killed with SIGKILL leaves the others
/// taking dumps, its dumps kept in the catalog and marked unreachable (SPEC §8). Loopback only
/// (127.0.0.71–73 for the nodes, 127.0.0.74–77 for the clients).
/// </summary>
public sealed class ClusterProcessTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DumpTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _temp = new();
    private readonly List<ServerProcess> _started = [];

    private sealed record Node(string Name, IPAddress Address, int Port, int ClusterPort, int HttpPort, ServerProcess Process)
    {
        public string Url => $"http://{Address}:{HttpPort}";
    }

    [Fact]
    public async Task Three_processes_from_one_conf_list_every_dump_with_its_node_and_survive_a_killed_node()
    {
        var addresses = new[] { "127.0.0.71", "127.0.0.72", "127.0.0.73" }.Select(IPAddress.Parse).ToArray();
        var clusterPorts = addresses.Select(FleetNode.FreePort).ToArray();
        var conf = _temp.Combine("netdump.conf");
        File.WriteAllText(conf, $"""
            cluster = on
            cluster_seeds = {addresses[0]}:{clusterPorts[0]}, {addresses[1]}:{clusterPorts[1]}
            fleet_max_concurrent_dumps = 16
            fleet_guard_timeout = 2s
            secure = off
            linger = 1s
            """);

        var nodes = new List<Node>();
        for (var i = 0; i < 3; i++)
        {
            var port = FreeUdpPort(addresses[i]);
            var http = FleetNode.FreePort(addresses[i]);
            var dumps = _temp.Combine($"dumps{i + 1}");
            Directory.CreateDirectory(dumps);
            var process = ServerProcess.Start("--config", conf, "--dumpdir", dumps,
                "--addr", addresses[i].ToString(), "--port", port.ToString(), "--linux-port", "0",
                "--cluster-port", clusterPorts[i].ToString(), "--node-name", $"n{i + 1}",
                "--http", $"{addresses[i]}:{http}");
            _started.Add(process);
            nodes.Add(new Node($"n{i + 1}", addresses[i], port, clusterPorts[i], http, process));
        }

        foreach (var node in nodes)
        {
            await node.Process.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        }

        // the three are one cluster once the first node has seen the other two come up
        await WaitUntil(() => nodes[0].Process.StdoutLines.Count(l => l.Contains("Cluster: node n", StringComparison.Ordinal) && l.Contains(" is up", StringComparison.Ordinal)) >= 3,
            Converge, () => nodes[0].Process.Stdout);

        // a dump to every node, from three machines
        for (var i = 0; i < 3; i++)
        {
            var result = await Dump(nodes[i], $"127.0.0.{74 + i}");
            Assert.True(result.Success, $"the dump to {nodes[i].Name} completes: {result.Error}");
        }

        // any node lists every dump, each with the node that holds it
        var listed = await ListUntil(nodes[0], items => items.Count(i => i.GetProperty("status").GetString() == "complete") == 3);
        Assert.Equal(["n1", "n2", "n3"], listed.Select(i => i.GetProperty("node").GetString()).Order());
        Assert.All(listed, i => Assert.False(i.GetProperty("unreachable").GetBoolean()));
        await ListUntil(nodes[2], items => items.Count == 3);

        // a file is served by the node that holds it: node 1 redirects to node 2's API (307)
        var held = listed.Single(i => i.GetProperty("node").GetString() == "n2").GetProperty("id").GetString()!;
        using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
        {
            var path = $"/api/dumps/{Uri.EscapeDataString(held)}/files/dump.json";
            using var redirect = await http.GetAsync(nodes[0].Url + path);
            Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
            Assert.StartsWith(nodes[1].Url, redirect.Headers.Location!.ToString(), StringComparison.Ordinal);
            using var file = await http.GetAsync(redirect.Headers.Location);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.Equal("complete", JsonDocument.Parse(await file.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }

        // kill -9 the third node: the others keep its entries, marked unreachable...
        nodes[2].Process.Process.Kill();
        Assert.True(nodes[2].Process.Process.WaitForExit(10_000), "the killed node exits");
        var afterKill = await ListUntil(nodes[0], items => items.Any(i => i.GetProperty("node").GetString() == "n3" && i.GetProperty("unreachable").GetBoolean()));
        Assert.Equal(3, afterKill.Count);
        // its dumps' files are not reachable: 503 naming the node, not a redirect to a dead API
        var lost = afterKill.Single(i => i.GetProperty("node").GetString() == "n3").GetProperty("id").GetString()!;
        using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }))
        {
            using var unreachable = await http.GetAsync(nodes[0].Url + $"/api/dumps/{Uri.EscapeDataString(lost)}/files/dump.json");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unreachable.StatusCode);
            Assert.Contains("is on node n3", await unreachable.Content.ReadAsStringAsync());
        }

        // ...and keep taking dumps
        var later = await Dump(nodes[1], "127.0.0.77");
        Assert.True(later.Success, $"a dump to n2 after n3 died completes: {later.Error}");
        var final = await ListUntil(nodes[0], items => items.Count(i => i.GetProperty("status").GetString() == "complete") == 4);
        Assert.Equal(2, final.Count(i => i.GetProperty("node").GetString() == "n2"));
    }

    private static async Task<SimulationResult> Dump(Node node, string client) =>
        await new SimulatedClient(new SimulationOptions
        {
            Server = new IPEndPoint(node.Address, node.Port),
            Source = IPAddress.Parse(client),
            Size = 256 * 1024,
        }).RunAsync().WaitAsync(DumpTimeout);

    /// <summary>Runs <c>list --json</c> against <paramref name="node"/> until its items satisfy <paramref name="until"/>.</summary>
    private static async Task<List<JsonElement>> ListUntil(Node node, Func<List<JsonElement>, bool> until)
    {
        var deadline = DateTime.UtcNow + Converge;
        var last = "";
        while (true)
        {
            using var run = await ServerProcess.RunAsync(TimeSpan.FromSeconds(30), "list", "--json", "--server", node.Url);
            last = run.Stdout + run.Stderr;
            if (run.Process.ExitCode == 0)
            {
                var items = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("items").EnumerateArray().Select(i => i.Clone()).ToList();
                if (until(items))
                {
                    return items;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"list --json on {node.Name} never showed what was awaited; last:\n{last}");
            }

            await Task.Delay(500);
        }
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> context)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("the cluster did not form; node 1's output:\n" + context());
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_second_process_with_a_node_name_in_use_exits_1_with_one_line_and_the_first_keeps_its_dumps()
    {
        var addresses = new[] { "127.0.0.78", "127.0.0.79" }.Select(IPAddress.Parse).ToArray();
        var clusterPorts = addresses.Select(FleetNode.FreePort).ToArray();
        var conf = _temp.Combine("netdump.conf");
        File.WriteAllText(conf, $"""
            cluster = on
            cluster_seeds = {addresses[0]}:{clusterPorts[0]}
            secure = off
            """);
        ServerProcess Start(int i)
        {
            var dumps = _temp.Combine($"dumps{i + 1}");
            Directory.CreateDirectory(dumps);
            var process = ServerProcess.Start("--config", conf, "--dumpdir", dumps, "--addr", addresses[i].ToString(), "--port", "0", "--linux-port", "0",
                "--cluster-port", clusterPorts[i].ToString(), "--node-name", "rack1", "--http", "off");
            _started.Add(process);
            return process;
        }

        var first = Start(0);
        await first.WaitForOutputAsync("node name rack1 is this node's", StartTimeout);
        var second = Start(1);

        Assert.Equal(1, await second.WaitForExitAsync(StartTimeout));
        Assert.Equal([$"netdump-server: node_name \"rack1\" is already the name of the fleet's node at {addresses[0]}:{clusterPorts[0]}; each node needs its own name (--node-name): this node stops"],
            second.StderrLines);
        Assert.Contains("Stopped", second.Stdout);
        Assert.DoesNotContain(first.StdoutLines, l => l.Contains("Cluster: node rack1 is unreachable", StringComparison.Ordinal));
    }

    private static int FreeUdpPort(IPAddress address)
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            process.Dispose();
        }

        _temp.Dispose();
    }
}
