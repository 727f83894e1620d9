using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Ingest;
using Netdump.Actors.Native;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

using static Netdump.Tests.Ingest.Loopback;

namespace Netdump.Tests.Ingest;

/// <summary>
/// The batched engine's acks on the wire: however they are sent, the client gets one 4-byte
/// datagram per written packet, in order. A client socket with UDP_GRO on takes a segmented
/// send whole (one datagram of all its acks), which shows how a batch left the server.
/// </summary>
public sealed class BatchedReceiveEngineTests : IDisposable
{
    private const int SolSocket = 1;
    private const int SoNoCheck = 11;
    private const int UdpGro = 104;
    private const int Packets = 16;

    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-engine-").FullName;

    public static TheoryData<bool> SegmentedOrNot => new() { true, false };


    [Fact]
    public void The_kernel_is_found_to_segment_sends_from_Linux_4_18_on()
    {
        Assert.Equal(Environment.OSVersion.Version >= new Version(4, 18), UdpSegmentation.Supported);
    }

    [Theory]
    [MemberData(nameof(SegmentedOrNot))]
    public void Every_written_packet_is_acked_by_a_4_byte_datagram_of_its_own_in_order(bool segmentAcks)
    {
        using var client = Bound("127.0.0.40");
        var (batches, datagrams) = Exchange(client, segmentAcks, session => { });

        Assert.Equal(Enumerable.Range(1, Packets).Select(i => (uint)i), datagrams.SelectMany(Sequences));
        Assert.All(datagrams, datagram => Assert.Equal(Ack.Size, datagram.Length));
        Assert.Equal(Packets, batches.Sum());
    }

    [Theory]
    [MemberData(nameof(SegmentedOrNot))]
    public void A_batch_of_acks_leaves_as_one_segmented_send_or_as_one_datagram_each(bool segmentAcks)
    {
        using var client = Bound("127.0.0.41");
        client.SetRawSocketOption(LinuxIo.SolUdp, UdpGro, BitConverter.GetBytes(1)); // takes a segmented send whole
        var (batches, datagrams) = Exchange(client, segmentAcks, session => { });

        Assert.Equal(Enumerable.Range(1, Packets).Select(i => (uint)i), datagrams.SelectMany(Sequences));
        Assert.Contains(batches, n => n > 1);
        var expected = segmentAcks && UdpSegmentation.Supported // Linux 4.18; before it, one send each
            ? batches.Select(n => n * Ack.Size) // a batch's acks in one send
            : batches.SelectMany(n => Enumerable.Repeat(Ack.Size, n));
        Assert.Equal(expected, datagrams.Select(datagram => datagram.Length));
    }

    [Fact]
    public void A_socket_the_kernel_will_not_segment_for_gets_its_acks_one_by_one()
    {
        using var client = Bound("127.0.0.42");
        client.SetRawSocketOption(LinuxIo.SolUdp, UdpGro, BitConverter.GetBytes(1));
        // without UDP checksums the kernel refuses a segmented send (EINVAL), as it does with EIO
        // on an IPsec route: the engine sends that batch as before
        var (batches, datagrams) = Exchange(client, segmentAcks: true, session => session.SetRawSocketOption(SolSocket, SoNoCheck, BitConverter.GetBytes(1)));

        Assert.Equal(Enumerable.Range(1, Packets).Select(i => (uint)i), datagrams.SelectMany(Sequences));
        Assert.Contains(batches, n => n > 1);
        Assert.All(datagrams, datagram => Assert.Equal(Ack.Size, datagram.Length));
    }

    private static IEnumerable<uint> Sequences(byte[] datagram) =>
        datagram.Chunk(Ack.Size).Select(ack => Ack.TryRead(ack, out var sequence) ? sequence : throw new InvalidDataException("not an ack"));

    /// <summary>
    /// Sends <see cref="Packets"/> data packets to a session socket and lets the engine take
    /// them: its first receive waits (up to the socket's timeout) for a whole batch, so they come
    /// in one batch unless this machine is very slow. Returns each batch's size and every
    /// datagram the client received.
    /// </summary>
    private (List<int> Batches, List<byte[]> Datagrams) Exchange(Socket client, bool segmentAcks, Action<Socket> prepare)
    {
        using var core = CoreFile.Create(Path.Combine(_dir, $"vmcore-{Guid.NewGuid():N}"), 1 << 20);
        using var session = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 300 };
        session.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        session.Connect(client.LocalEndPoint!);
        prepare(session);
        var handler = new SessionPacketHandler(core, _ => { });
        using var engine = new BatchedReceiveEngine(segmentAcks);

        var payload = new byte[1448];
        for (var i = 0; i < Packets; i++)
        {
            client.SendTo(Datagram(MessageType.Vmcore, (uint)i + 1, (ulong)i * 1448, payload), session.LocalEndPoint!);
        }

        var batches = new List<int>();
        var flags = 0; // the first batch: until 64 datagrams or the timeout
        while (batches.Sum() < Packets)
        {
            var n = engine.ReceiveBatch((int)session.Handle, handler, flags, () => false);
            Assert.True(n > 0, $"the engine found {batches.Sum()} of {Packets} packets (errno {-n} after)");
            batches.Add(n);
            flags = LinuxIo.MsgWaitForOne;
        }

        Assert.Equal([new ByteRange(0, Packets * 1448UL)], core.Ranges());
        var datagrams = new List<byte[]>();
        var buffer = new byte[4096];
        for (var acked = 0; acked < Packets;)
        {
            var length = client.Receive(buffer);
            datagrams.Add(buffer[..length]);
            acked += length / Ack.Size;
        }

        Assert.False(client.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), "more acks than packets");
        return (batches, datagrams);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
