using Netdump.App.Configuration;

namespace Netdump.Tests.Cluster;

/// <summary>The cluster keys of netdump.conf and their per-node options (SPEC §8).</summary>
public sealed class ClusterSettingsTests
{
    private static OperatorConfig Merge(string conf, Dictionary<string, object?>? commandLine = null) =>
        OperatorConfig.Merge(commandLine ?? [], NetdumpConfFile.Parse(conf, "netdump.conf"));

    [Fact]
    public void Cluster_should_be_off_by_default()
    {
        Assert.Null(Merge("").Settings.Cluster);
    }

    [Fact]
    public async Task With_cluster_off_the_server_loads_no_remoting()
    {
        await using var server = await Netdump.Tests.EndToEnd.ServerHarness.StartAsync();
        var provider = ((Akka.Actor.ExtendedActorSystem)server.System).Provider;
        Assert.IsType<Akka.Actor.LocalActorRefProvider>(provider); // no remote transport, nothing listening for peers
    }

    [Fact]
    public void One_conf_file_should_give_each_node_its_own_name_and_port_from_the_command_line()
    {
        const string conf = "cluster = on\ncluster_seeds = 127.0.0.11:20091, 127.0.0.12:20092\nfleet_max_concurrent_dumps = 8\nfleet_guard_timeout = 500ms\n";
        var node = Merge(conf, new() { ["addr"] = "127.0.0.12", ["cluster_port"] = 20092, ["node_name"] = "rack2" }).Settings.Cluster!;
        Assert.Equal("rack2", node.NodeName);
        Assert.Equal(20092, node.Port);
        Assert.Equal("127.0.0.12", node.Host);
        Assert.Equal(["127.0.0.11", "127.0.0.12"], node.Seeds.Select(s => s.Host));
        Assert.Equal(8, node.FleetMaxConcurrentDumps);
        Assert.Equal(TimeSpan.FromMilliseconds(500), node.FleetGuardTimeout);
        Assert.Equal("127.0.0.13:20090", Merge(conf, new() { ["addr"] = "127.0.0.13" }).Settings.Cluster!.NodeName);
    }

    [Theory]
    [InlineData("192.0.2.12", "127.0.0.1:20080", null)] // the default http: peers on other hosts cannot reach it
    [InlineData("192.0.2.12", "192.0.2.12:20080", "http://192.0.2.12:20080")]
    [InlineData("127.0.0.12", "127.0.0.12:20080", "http://127.0.0.12:20080")] // a fleet on one host
    public void A_node_gives_its_peers_its_API_address_only_where_they_can_reach_it(string addr, string http, string? published)
    {
        using var dir = new Netdump.Tests.Storage.TempDirectory();
        var token = dir.Combine("token");
        File.WriteAllText(token, "0123456789abcdef0123456789abcdef\n");
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var settings = Merge($"cluster = on\ncluster_seeds = {addr}:20091\nhttp = {http}\nhttp_token_file = {token}\n", new() { ["addr"] = addr }).Settings;

        var url = Netdump.App.Hosting.NetdumpCluster.Roles(settings, settings.Cluster!)
            .SingleOrDefault(r => r.StartsWith(Netdump.App.Hosting.NetdumpCluster.HttpRole, StringComparison.Ordinal))?[Netdump.App.Hosting.NetdumpCluster.HttpRole.Length..];
        Assert.Equal(published, url);
    }

    [Theory]
    [InlineData("cluster = on\n", "cluster_seeds: cluster = on needs at least one seed node")]
    [InlineData("cluster = on\ncluster_seeds = rack1\n", "netdump.conf:2: cluster_seeds: \"rack1\" is not host:port")]
    [InlineData("cluster = on\ncluster_seeds = a:1\nfleet_max_concurrent_dumps = -1\n", "netdump.conf:3: fleet_max_concurrent_dumps: -1 must be 0")]
    [InlineData("cluster = on\ncluster_seeds = a:1\nnode_name = \"a b\"\n", "netdump.conf:3: node_name: \"a b\" may not hold spaces")]
    public void Bad_cluster_keys_should_be_one_line_naming_the_line(string conf, string start)
    {
        var e = Assert.Throws<OperatorConfigException>(() => Merge(conf));
        Assert.StartsWith(start, e.Message);
    }

    [Theory]
    [InlineData("node_name = \"a b\"\n", "netdump.conf:1: node_name: \"a b\" may not hold spaces")]
    [InlineData("cluster = off\nnode_name = rack~1\n", "netdump.conf:2: node_name: \"rack~1\" may not hold spaces, ~")]
    [InlineData("cluster_seeds = rack1\n", "netdump.conf:1: cluster_seeds: \"rack1\" is not host:port")]
    [InlineData("cluster_port = 70000\n", "netdump.conf:1: cluster_port: 70000 is out of range 1-65535")]
    [InlineData("fleet_max_concurrent_dumps = -1\n", "netdump.conf:1: fleet_max_concurrent_dumps: -1 must be 0")]
    [InlineData("fleet_guard_timeout = 0\n", "netdump.conf:1: fleet_guard_timeout: must be positive")]
    public void Bad_cluster_keys_should_be_refused_with_cluster_off_too(string conf, string start)
    {
        // the whole file is checked at every start: not first on the day the cluster is turned on
        var e = Assert.Throws<OperatorConfigException>(() => Merge(conf));
        Assert.StartsWith(start, e.Message);
        Assert.StartsWith("--node-name: \"a b\" may not hold spaces", Assert.Throws<OperatorConfigException>(() => OperatorConfig.Merge(new Dictionary<string, object?> { ["node_name"] = "a b" }, null, Netdump.App.CommandLine.ServerOptions.OptionOfKey)).Message);
    }

    [Fact]
    public void With_cluster_off_no_seed_is_needed()
    {
        Assert.Null(Merge("cluster = off\nnode_name = rack1\ncluster_port = 20091\n").Settings.Cluster);
    }

    [Fact]
    public void A_node_the_fleet_removed_stops_with_an_error_line_and_one_stopped_by_the_operator_without()
    {
        // a supervisor (systemd's Restart=on-failure) must see the downing as a failure
        Assert.StartsWith("the fleet removed this node", Netdump.App.CommandLine.ServerCommand.WhyStopped(Akka.Actor.CoordinatedShutdown.ClusterDowningReason.Instance));
        Assert.Equal("clash", Netdump.App.CommandLine.ServerCommand.WhyStopped(new Netdump.Actors.FleetCatalogActor.NodeNameInUse("clash")));
        Assert.Null(Netdump.App.CommandLine.ServerCommand.WhyStopped(Akka.Actor.CoordinatedShutdown.ClrExitReason.Instance));
        Assert.Null(Netdump.App.CommandLine.ServerCommand.WhyStopped(Akka.Actor.CoordinatedShutdown.ClusterLeavingReason.Instance));
        Assert.Null(Netdump.App.CommandLine.ServerCommand.WhyStopped(null));
    }
}
