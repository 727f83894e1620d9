using Akka.Actor;
using System.Net;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Xunit.Abstractions;
using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Ingest;

/// <summary>
/// The listen port's receive thread: it waits for a HERALD without a timeout (an idle server
/// spends nothing on it), and stopping it wakes it.
/// </summary>
public sealed class HeraldReceiverTests(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(NetdumpSettings.BuiltInConfig(), output: output)
{
    [Fact]
    public void A_herald_reaches_the_listener_and_an_idle_receiver_stops_when_disposed()
    {
        using var receiver = HeraldReceiver.Bind(IPAddress.Parse("127.0.0.42"), 0);
        receiver.Start(TestActor.Tell);
        using var client = Bound("127.0.0.43");

        client.SendTo(Datagram(MessageType.Herald, 7, 0, []), receiver.LocalEndpoint);
        Assert.Equal(7u, ExpectMsg<Herald>().Sequence);

        Assert.True(receiver.Running);
        receiver.Dispose(); // the thread waits in a receive with no timeout: closing the socket wakes it
        AwaitCondition(() => !receiver.Running);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // no datagram made up by the wake-up
    }
}
