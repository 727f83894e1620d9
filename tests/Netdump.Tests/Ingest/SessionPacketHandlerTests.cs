using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Ingest;

/// <summary>The pump's per-packet decisions, one datagram at a time, without a socket.</summary>
public sealed class SessionPacketHandlerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-handler-").FullName;

    [Fact]
    public void A_control_packet_is_told_to_the_session_only_at_the_end_of_its_batch_after_the_data_before_it()
    {
        using var core = CoreFile.Create(Path.Combine(_dir, "vmcore-incomplete"), 1 << 20);
        var told = new List<object>();
        var handler = new SessionPacketHandler(core, told.Add);

        // one batch: a duplicate of held data, then FINISHED; the engine writes the data after
        // classifying the whole batch, and the session must not end the dump before that
        Assert.Equal(PacketVerdict.Write, handler.Classify(Datagram(MessageType.Vmcore, 1, 0, new byte[512]), out _));
        Assert.Equal(PacketVerdict.Drop, handler.Classify(Datagram(MessageType.Finished, 2, 0, []), out _));
        Assert.DoesNotContain(told, e => e is PumpEvent.ControlPacket);

        handler.EndOfBatch();

        var finished = Assert.Single(told.OfType<PumpEvent.ControlPacket>());
        Assert.Equal((MessageType.Finished, 2u), (finished.Type, finished.Sequence));
        handler.EndOfBatch();
        Assert.Single(told.OfType<PumpEvent.ControlPacket>()); // told once
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
