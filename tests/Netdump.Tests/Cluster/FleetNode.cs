using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;
using Netdump.App.Hosting;

namespace Netdump.Tests.Cluster;

/// <summary>
/// One node of an in-process fleet: an actor system named as the server's, composed by the
/// production <see cref="NetdumpCluster.WithNetdumpCluster"/> on its own loopback address
/// (127.0.0.x) and a free port, with short gossip and failure-detector intervals. Its guard sits
/// where the server's does (<see cref="UdpListenerActor.GuardPath"/>) under a bare parent.
/// </summary>
public sealed class FleetNode : IAsyncDisposable
{
    /// <summary>Seconds, not minutes: every interval of membership, singleton and gossip shortened.</summary>
    public const string FastCluster = """
        akka.loglevel = INFO
        akka.stdout-loglevel = WARNING
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.cluster.failure-detector.expected-response-after = 200ms
        akka.cluster.unreachable-nodes-reaper-interval = 200ms
        akka.cluster.gossip-interval = 200ms
        akka.cluster.leader-actions-interval = 200ms
        akka.cluster.periodic-tasks-initial-delay = 100ms
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.down-removal-margin = 0s
        akka.cluster.singleton.hand-over-retry-interval = 200ms
        akka.cluster.singleton-proxy.singleton-identification-interval = 200ms
        akka.cluster.distributed-data.gossip-interval = 200ms
        akka.cluster.distributed-data.notify-subscribers-interval = 100ms
        akka.remote.retry-gate-closed-for = 500ms
        akka.coordinated-shutdown.exit-clr = off
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        """;

    private readonly IHost _host;

    private FleetNode(IHost host, NetdumpSettings settings)
    {
        _host = host;
        Settings = settings;
        System = host.Services.GetRequiredService<ActorSystem>();
    }

    public ActorSystem System { get; }

    public NetdumpSettings Settings { get; }

    public Address Address => Akka.Cluster.Cluster.Get(System).SelfAddress;

    /// <summary>This node's guard, at the server's path.</summary>
    public IActorRef Guard { get; private set; } = ActorRefs.Nobody;

    /// <summary>This node's proxy to the fleet guard.</summary>
    public ActorSelection FleetGuard => System.ActorSelection(FleetGuardActor.ProxyPath);

    /// <summary>A free TCP port on <paramref name="address"/> (released for the node to take).</summary>
    public static int FreePort(IPAddress address)
    {
        var listener = new TcpListener(address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Starts node <paramref name="index"/> (127.0.0.index+10) seeded by <paramref name="seed"/>, named node<i>index</i> unless <paramref name="name"/> is given.</summary>
    public static async Task<FleetNode> StartAsync(int index, string seed, int port, IReadOnlyDictionary<string, object?> keys, string? dumpDirectory = null, string? name = null)
    {
        var address = $"127.0.0.{10 + index}";
        var all = new Dictionary<string, object?>(keys)
        {
            ["addr"] = address,
            ["cluster"] = true,
            ["cluster_seeds"] = seed,
            ["cluster_port"] = port,
            ["node_name"] = name ?? $"node{index}",
            ["dumpdir"] = dumpDirectory ?? Path.GetTempPath(),
            ["http"] = "off",
        };
        var config = OperatorConfig.BuildConfig(all);
        var settings = NetdumpSettings.Create(config);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddAkka(NetdumpHost.ActorSystemName, (akka, _) =>
            akka.AddHocon(ConfigurationFactory.ParseString(FastCluster).WithFallback(config), HoconAddMode.Replace)
                .WithNetdumpCluster(settings, NetdumpHost.ActorSystemName));
        var host = builder.Build();
        await host.StartAsync();
        var node = new FleetNode(host, settings);
        var parent = node.System.ActorOf(Props.Create(() => new GuardParent(settings)), "listener");
        node.Guard = await parent.Ask<IActorRef>("guard", TimeSpan.FromSeconds(5));
        return node;
    }

    /// <summary>The seed string of a node about to start at <paramref name="index"/> on <paramref name="port"/>.</summary>
    public static string Seed(int index, int port) => $"127.0.0.{10 + index}:{port}";

    /// <summary>Leaves the cluster and stops, as a server does on SIGTERM.</summary>
    public async Task LeaveAsync() => await _host.StopAsync();

    /// <summary>Stops the actor system without leaving: to the others, a node that crashed.</summary>
    public Task CrashAsync() => System.Terminate();

    public async ValueTask DisposeAsync()
    {
        await System.Terminate();
        _host.Dispose();
    }

    /// <summary>The guard's parent, named as the listener so the guard has the server's path.</summary>
    private sealed class GuardParent : ReceiveActor
    {
        public GuardParent(NetdumpSettings settings)
        {
            var guard = Context.ActorOf(ConcurrencyGuardActor.Props(settings), UdpListenerActor.GuardName);
            Receive<string>(_ => Sender.Tell(guard));
            Receive<UdpListenerActor.ListSessions>(_ => Sender.Tell(new UdpListenerActor.Sessions([])));
        }
    }
}
