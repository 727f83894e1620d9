using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Netdump.Actors;

/// <summary>
/// Whether this node's <c>node_name</c> is its own in the fleet. A dump's fleet id starts with
/// its node's name, and a node removes the entries of its name that its disk does not hold: a
/// second node under the same name (one conf copied with its <c>--node-name</c>) removed the
/// first one's dumps from every node's catalog, for good. So the catalog writes and removes
/// nothing until this node is up and no other member carries its name; then:
/// <list type="bullet">
/// <item>an older member at another address that is reachable holds the name: this node logs it
/// and stops the server (<see cref="NodeNameInUse"/>, exit status 1), like any other error of its
/// configuration;</item>
/// <item>a younger one: this node keeps the name (the younger one stops);</item>
/// <item>an unreachable one, or this node's own earlier run at the same address: this node waits
/// until the cluster removes it (downed after <c>stable-after</c>, or replaced at once), and says
/// so once.</item>
/// </list>
/// </summary>
public sealed partial class FleetCatalogActor
{
    private readonly Dictionary<UniqueAddress, Member> _members = [];
    private readonly HashSet<UniqueAddress> _unreachableMembers = [];
    private UniqueAddress? _waitingFor;

    /// <summary>Why the server stopped: its node name is another member's.</summary>
    public sealed class NodeNameInUse(string message) : CoordinatedShutdown.Reason
    {
        public string Message { get; } = message;

        /// <summary>An error of the node's configuration, as one found before the start.</summary>
        public override int ExitCode => 1;

        public override string ToString() => Message;
    }

    private void Track(Member member)
    {
        if (member.Status == MemberStatus.Removed)
        {
            _members.Remove(member.UniqueAddress);
            _unreachableMembers.Remove(member.UniqueAddress);
        }
        else
        {
            _members[member.UniqueAddress] = member;
        }
    }

    private void Reachability(Member member, bool reachable)
    {
        if (reachable)
        {
            _unreachableMembers.Remove(member.UniqueAddress);
        }
        else
        {
            _unreachableMembers.Add(member.UniqueAddress);
        }
    }

    private void CheckName()
    {
        if (!_members.TryGetValue(_self.SelfUniqueAddress, out var me) || me.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp))
        {
            return;
        }

        var holder = _members.Values.FirstOrDefault(m => !m.UniqueAddress.Equals(me.UniqueAddress)
            && MembershipLogActor.NameOf(m) == _node
            && m.Status is not (MemberStatus.Down or MemberStatus.Exiting or MemberStatus.Removed));
        if (holder is null)
        {
            _log.Info("Fleet catalog: node name {Node} is this node's; publishing its {Count} dumps", _node, _unwritten.Count);
            StartServing();
            return;
        }

        var reachable = !_unreachableMembers.Contains(holder.UniqueAddress);
        var elsewhere = !holder.Address.Equals(me.Address);
        if (reachable && elsewhere && holder.IsOlderThan(me))
        {
            var message = $"node_name \"{_node}\" is already the name of the fleet's node at {holder.Address.Host}:{holder.Address.Port}; "
                + "each node needs its own name (--node-name): this node stops";
            _log.Error("Cluster: {Problem}", message);
            Become(() => Receive<object>(_ => { }));
            CoordinatedShutdown.Get(Context.System).Run(new NodeNameInUse(message));
        }
        else if (reachable && elsewhere)
        {
            _log.Warning("Cluster: node {Node} at {Address} joined under this node's name; it stops, this node keeps the name", _node, holder.Address);
            StartServing();
        }
        else if (!holder.UniqueAddress.Equals(_waitingFor))
        {
            _waitingFor = holder.UniqueAddress;
            _log.Warning("Fleet catalog: the name {Node} is still held by the member at {Address} ({State}); this node publishes its dumps once the cluster removes it",
                _node, holder.Address, reachable ? "an earlier run of this node" : "unreachable");
        }
    }
}
