using Akka.Actor;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Xunit.Abstractions;

using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Fuzzing;

/// <summary>
/// What the live fuzzing found, each cut down to the one datagram or call that shows it, on a
/// session channel over loopback with a probe as its session (as in UdpSessionChannelTests).
/// </summary>
public sealed class FuzzFindingsTests(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(NetdumpSettings.BuiltInConfig(), output: output), IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-fuzz-findings-").FullName;

    /// <summary>
    /// A VMCORE with len 0 is a valid message (its size is 24 + len) and is acked like any other;
    /// it writes nothing. Found by the live fuzzing: the batched engine hands the empty run to
    /// pwritev, which writes 0 bytes, and takes that for a "short write" that ends the dump.
    /// </summary>
    [Theory]
    [InlineData(IngestEngine.Batched)]
    [InlineData(IngestEngine.Managed)]
    public void A_zero_length_vmcore_is_acked_and_the_dump_goes_on(IngestEngine engine)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, $"vmcore-{engine}"), 1 << 20);
        using var client = Bound("127.0.0.40");
        using var channel = new UdpSessionChannel(IPAddress.Loopback, (IPEndPoint)client.LocalEndPoint!, engine: engine);
        channel.Start(core, TestActor.Tell);

        client.SendTo(Datagram(MessageType.Vmcore, 2, 4096, []), channel.LocalEndpoint);
        ExpectMsg<PumpEvent.FirstData>();
        Assert.True(client.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead), "the empty VMCORE was not acked");
        Assert.Equal(2u, ReceiveAck(client));

        // and data after it is still written and acked: the dump did not end
        client.SendTo(Datagram(MessageType.Vmcore, 3, 0, new byte[1448]), channel.LocalEndpoint);
        Assert.Equal(3u, ReceiveAck(client));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal([new ByteRange(0, 1448)], core.Ranges());
    }

    /// <summary>
    /// The session disposes its channel when the dump ends incomplete and again when it stops;
    /// the second Dispose must do nothing. Found by the live fuzzing as an Error line per
    /// incomplete dump ("Cannot access a disposed object ... Socket") from the session's PostStop.
    /// </summary>
    [Theory]
    [InlineData(IngestEngine.Batched)]
    [InlineData(IngestEngine.Managed)]
    public void A_session_channel_may_be_disposed_twice(IngestEngine engine)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, $"vmcore-dispose-{engine}"), 1 << 20);
        var channel = new UdpSessionChannel(IPAddress.Loopback, new IPEndPoint(IPAddress.Parse("127.0.0.41"), 9), engine: engine);
        channel.Start(core, TestActor.Tell);
        channel.Dispose();

        var second = Record.Exception(channel.Dispose);
        Assert.Null(second);
    }




    void IDisposable.Dispose()
    {
        Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
