using System.Net;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using static Netdump.Actors.ConcurrencyGuardActor;

namespace Netdump.Tests.Cluster;

/// <summary>
/// What a node's guard tells a new fleet guard at its recount (a hand-over of the singleton):
/// the slots it holds, not those still asked of the fleet. The fleet guard's proxy is a probe.
/// </summary>
public sealed class GuardSlotsReportSpec : Akka.TestKit.Xunit2.TestKit
{
    public GuardSlotsReportSpec() : base(NetdumpSettings.BuiltInConfig())
    {
    }

    private sealed class ForwardTo : ReceiveActor
    {
        public ForwardTo(IActorRef target) => ReceiveAny(message => target.Forward(message));
    }

    /// <summary>A node's guard under a fleet limit of 2, whose fleet guard proxy is the returned probe.</summary>
    private (IActorRef Guard, Akka.TestKit.TestProbe Fleet) StartGuard(TimeSpan fleetGuardTimeout)
    {
        var fleet = CreateTestProbe();
        Sys.ActorOf(Akka.Actor.Props.Create(() => new ForwardTo(fleet.Ref)), FleetGuardActor.ProxyPath.Split('/')[^1]);
        var settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            MaxConcurrentDumps = 4,
            Cluster = new ClusterSettings("n1", "127.0.0.1", 20090, [], FleetMaxConcurrentDumps: 2, FleetGuardTimeout: fleetGuardTimeout),
        };
        return (Sys.ActorOf(ConcurrencyGuardActor.Props(settings)), fleet);
    }

    [Fact]
    public async Task A_slot_still_asked_of_the_fleet_is_not_reported_as_held_to_a_new_fleet_guard()
    {
        // during a hand-over, a request the old fleet guard never answered is buffered by the proxy
        // and decided by the new one after its recount; reported as held, it was granted over a
        // full fleet's limit
        var (guard, fleet) = StartGuard(TimeSpan.FromMinutes(5));
        var granted = CreateTestProbe();
        var asking = CreateTestProbe();
        guard.Tell(new RequestSlot(IPAddress.Parse("192.0.2.1")), granted.Ref);
        Assert.Equal(granted.Ref, (await fleet.ExpectMsgAsync<FleetGuardActor.Acquire>()).Session);
        guard.Tell(new FleetGuardActor.Granted(granted.Ref), fleet.Ref);
        await granted.ExpectMsgAsync<SlotGranted>();
        guard.Tell(new RequestSlot(IPAddress.Parse("192.0.2.2")), asking.Ref);
        Assert.Equal(asking.Ref, (await fleet.ExpectMsgAsync<FleetGuardActor.Acquire>()).Session);

        guard.Tell(new FleetGuardActor.ReportSlots());

        Assert.Equal([granted.Ref], (await ExpectMsgAsync<FleetGuardActor.SlotsReport>()).Sessions);
        await asking.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // still waiting for the fleet's answer

        // the old fleet guard's grant, in flight during the hand-over: the new one is told of it
        guard.Tell(new FleetGuardActor.Granted(asking.Ref), fleet.Ref);
        await asking.ExpectMsgAsync<SlotGranted>();
        Assert.Equal(asking.Ref, (await fleet.ExpectMsgAsync<FleetGuardActor.Adopt>()).Session);
    }

    [Fact]
    public async Task When_the_fleet_answers_again_the_dumps_taken_alone_meanwhile_are_put_to_it_again()
    {
        // what the node told the fleet guard while it did not answer (a partition) may be lost
        var (guard, fleet) = StartGuard(TimeSpan.FromMilliseconds(200));
        var alone = CreateTestProbe();
        guard.Tell(new RequestSlot(IPAddress.Parse("192.0.2.1")), alone.Ref);
        await fleet.ExpectMsgAsync<FleetGuardActor.Acquire>();
        await alone.ExpectMsgAsync<SlotGranted>(); // after the timeout: decided alone
        Assert.Equal(alone.Ref, (await fleet.ExpectMsgAsync<FleetGuardActor.Adopt>()).Session);

        var next = CreateTestProbe();
        guard.Tell(new RequestSlot(IPAddress.Parse("192.0.2.2")), next.Ref);
        await fleet.ExpectMsgAsync<FleetGuardActor.Acquire>();
        guard.Tell(new FleetGuardActor.Granted(next.Ref), fleet.Ref);

        Assert.Equal(alone.Ref, (await fleet.ExpectMsgAsync<FleetGuardActor.Adopt>()).Session);
        await next.ExpectMsgAsync<SlotGranted>();
        await fleet.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100)); // once: the fleet answers, it is not silent now
    }
}
