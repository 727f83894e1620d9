using System.Net;
using Akka.Actor;
using MemberStatus = Akka.Cluster.MemberStatus;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.Singleton;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Netdump.Actors;
using Netdump.Actors.Configuration;

namespace Netdump.App.Hosting;

/// <summary>
/// A cluster of collectors behind one config (SPEC §8, docs/cluster.md), composed here and only
/// with <c>cluster = on</c>: remoting on <c>addr:cluster_port</c>, the cluster with the conf's
/// seed nodes and the split-brain resolver on keep-majority, this node's name as a role, the
/// membership log, and the fleet guard (a singleton with a proxy on each node) when
/// <c>fleet_max_concurrent_dumps</c> is set.
/// </summary>
public static class NetdumpCluster
{
    /// <summary>
    /// Akka settings of a fleet. Distributed Data's full-state gossip is not split into chunks
    /// (<c>max-delta-elements</c> above the catalog's 256 keys): Akka.NET picks a key's chunk by
    /// its string hash, which .NET randomizes per process, so two processes disagreed on the
    /// chunks and some keys were never compared, so some dumps never reached the other nodes
    /// (docs/performance.md, "Cluster"). Unsplit, a large fleet's gossip is megabytes, so the
    /// frame limit is 16 MB (Akka.NET drops a larger frame: akkadotnet/akka.net#7250).
    /// </summary>
    public const string Hocon = """
        akka.remote.dot-netty.tcp.maximum-frame-size = 16MB
        akka.remote.dot-netty.tcp.send-buffer-size = 4MB
        akka.remote.dot-netty.tcp.receive-buffer-size = 4MB
        akka.cluster.distributed-data.max-delta-elements = 500
        akka.cluster.log-info = off
        """;

    public static AkkaConfigurationBuilder WithNetdumpCluster(this AkkaConfigurationBuilder builder, NetdumpSettings settings, string systemName)
    {
        if (settings.Cluster is not { } cluster)
        {
            return builder;
        }

        return builder
            // the node's name as a role, in this config rather than ClusterOptions.Roles, which
            // writes roles unquoted (a name such as host:port would not parse)
            .AddHocon($"{Hocon}\nakka.cluster.roles = [{string.Join(", ", Roles(settings, cluster).Select(Configuration.OperatorConfig.HoconQuote))}]", HoconAddMode.Append)
            .WithRemoting(new RemoteOptions
            {
                HostName = settings.Address.ToString(),
                PublicHostName = cluster.Host,
                Port = cluster.Port,
            })
            .WithClustering(new ClusterOptions
            {
                SeedNodes = cluster.Seeds.Select(s => ClusterSettings.AddressOf(systemName, s)).ToArray(),
                SplitBrainResolver = new KeepMajorityOption(),
            })
            .WithActors((system, registry) =>
            {
                system.ActorOf(MembershipLogActor.Props(), "membership");
                if (cluster.HasFleetLimit)
                {
                    registry.Register<FleetGuardActor>(StartFleetGuard(system, cluster, UdpListenerActor.GuardPath));
                }
            });
    }

    /// <summary>The role prefix that carries a node's HTTP API base URL, where its dumps' files are fetched.</summary>
    public const string HttpRole = "http=";

    /// <summary>
    /// This node's roles: its name, and its HTTP API's URL when it has one at a fixed port that its
    /// peers can reach (an address of 0.0.0.0 is written as the node's host name, which its peers
    /// resolve). An API on loopback (the default <c>http</c>) is reachable only from this host: it
    /// is not given to peers on other hosts, whose redirects would lead back to themselves; they
    /// answer 503 for this node's dumps (docs/cluster.md).
    /// </summary>
    internal static IEnumerable<string> Roles(NetdumpSettings settings, ClusterSettings cluster)
    {
        yield return MembershipLogActor.NodeRole + cluster.NodeName;
        if (settings.Http is { Endpoint.Port: > 0 } http && (!IPAddress.IsLoopback(http.Endpoint.Address) || OnLoopback(cluster)))
        {
            var url = http.Url(http.Endpoint.Port);
            yield return HttpRole + (http.Endpoint.Address.Equals(System.Net.IPAddress.Any)
                ? url.Replace("0.0.0.0", cluster.Host, StringComparison.Ordinal)
                : url);
        }
    }

    /// <summary>The fleet's nodes meet on loopback addresses: all of them on this host.</summary>
    private static bool OnLoopback(ClusterSettings cluster) =>
        cluster.Host == "localhost" || (IPAddress.TryParse(cluster.Host, out var host) && IPAddress.IsLoopback(host));

    /// <summary>
    /// The HTTP API URL of the fleet's node named <paramref name="node"/> while it is an up and
    /// reachable member; null otherwise (the API answers 503 then, not a redirect to a node that
    /// cannot answer: a crashed node stays a member until it is downed, 20 s later).
    /// </summary>
    public static string? HttpUrlOf(ActorSystem system, string node)
    {
        var state = Akka.Cluster.Cluster.Get(system).State;
        return state.Members
            .Where(m => (m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving) && !state.Unreachable.Contains(m))
            .FirstOrDefault(m => MembershipLogActor.NameOf(m) == node)?.Roles
            .FirstOrDefault(r => r.StartsWith(HttpRole, StringComparison.Ordinal))?[HttpRole.Length..];
    }

    /// <summary>
    /// Starts this node's fleet guard singleton manager and its proxy (at
    /// <see cref="FleetGuardActor.ProxyPath"/>); the guards of every node live at <paramref name="guardPath"/>.
    /// </summary>
    public static IActorRef StartFleetGuard(ActorSystem system, ClusterSettings cluster, string guardPath)
    {
        system.ActorOf(ClusterSingletonManager.Props(
            FleetGuardActor.Props(cluster.FleetMaxConcurrentDumps, guardPath, cluster.FleetGuardTimeout),
            PoisonPill.Instance, ClusterSingletonManagerSettings.Create(system)), FleetGuardActor.ManagerName);
        return system.ActorOf(ClusterSingletonProxy.Props($"/user/{FleetGuardActor.ManagerName}", ClusterSingletonProxySettings.Create(system)),
            FleetGuardActor.ProxyPath.Split('/')[^1]);
    }
}
