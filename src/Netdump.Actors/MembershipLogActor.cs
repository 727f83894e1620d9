using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>
/// Logs the fleet's membership changes (SPEC §8), one line each, with the node's name (its
/// <see cref="NodeRole"/>): joined, up, unreachable, reachable again, leaving, removed or downed.
/// Akka's own cluster log is verbose and names addresses only; this is what an operator reads.
/// </summary>
public sealed class MembershipLogActor : ReceiveActor
{
    /// <summary>The role prefix that carries a node's <c>node_name</c> in the cluster membership.</summary>
    public const string NodeRole = "node=";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public MembershipLogActor()
    {
        Receive<ClusterEvent.MemberUp>(e => _log.Info("Cluster: node {Node} is up ({Address})", NameOf(e.Member), e.Member.Address));
        Receive<ClusterEvent.MemberJoined>(e => _log.Info("Cluster: node {Node} is joining ({Address})", NameOf(e.Member), e.Member.Address));
        Receive<ClusterEvent.MemberLeft>(e => _log.Info("Cluster: node {Node} is leaving", NameOf(e.Member)));
        Receive<ClusterEvent.MemberRemoved>(e => _log.Warning("Cluster: node {Node} removed (was {Status}); its dumps stay in the catalog, marked unreachable",
            NameOf(e.Member), e.PreviousStatus));
        Receive<ClusterEvent.UnreachableMember>(e => _log.Warning("Cluster: node {Node} is unreachable ({Address})", NameOf(e.Member), e.Member.Address));
        Receive<ClusterEvent.ReachableMember>(e => _log.Info("Cluster: node {Node} is reachable again", NameOf(e.Member)));
        Receive<ClusterEvent.LeaderChanged>(e => _log.Info("Cluster: leader is {Leader}", e.Leader?.ToString() ?? "none"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    public static Props Props() => ActorProps.Of(() => new MembershipLogActor());

    /// <summary>A member's <c>node_name</c>, or its address when it carries none.</summary>
    public static string NameOf(Member member) =>
        member.Roles.FirstOrDefault(r => r.StartsWith(NodeRole, StringComparison.Ordinal)) is { } role ? role[NodeRole.Length..] : member.Address.ToString();

    protected override void PreStart() => Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
        typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
