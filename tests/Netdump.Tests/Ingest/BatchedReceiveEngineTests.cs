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
/// send whole (one datagram of all its acks), which shows how a batch left the server. The
/// other way, one ack a message, is what a socket the kernel will not segment for gets: one
/// without UDP checksums (SO_NO_CHECK), which the kernel refuses with EINVAL as it refuses an
/// IPsec route with EIO.
/// </summary>
public sealed class BatchedReceiveEngineTests : IDisposable
{
    private const int SolSocket = 1;
    private const int SoNoCheck = 11;
    private const int UdpGro = 104;
    private const int PayloadSize = 1448;

    /// <summary>The most acks one segmented send carries (the engine's limit, for kernels before 5.16).</summary>
    private const int SegmentsPerSend = 32;

    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-engine-").FullName;

    /// <summary>Whether the kernel will segment for the session's socket.</summary>
    public static TheoryData<bool> SegmentedOrNot => new() { true, false };

    [Fact]
    public void The_kernel_is_found_to_segment_sends_from_Linux_4_18_on()
    {
        // one way only: an older kernel may have it backported
        if (Environment.OSVersion.Version >= new Version(4, 18))
        {
            Assert.True(UdpSegmentation.Supported);
        }
    }

    [Theory]
    [MemberData(nameof(SegmentedOrNot))]
    public void Every_written_packet_is_acked_by_a_4_byte_datagram_of_its_own_in_order(bool segmentable)
    {
        using var client = Bound("127.0.0.40");
        using var session = new EngineSession(_dir, client, segmentable);
        Assert.All(session.Round(first: 1, packets: 16).Datagrams, datagram => Assert.Equal(Ack.Size, datagram.Length));
    }

    [Theory]
    [MemberData(nameof(SegmentedOrNot))]
    public void A_batch_of_acks_leaves_as_one_segmented_send_or_as_one_datagram_each(bool segmentable)
    {
        using var client = GroClient("127.0.0.41");
        using var session = new EngineSession(_dir, client, segmentable);
        var (batches, datagrams) = session.Round(first: 1, packets: 16);

        Assert.Equal(Expected(batches, segmentable && UdpSegmentation.Supported), datagrams.Select(datagram => datagram.Length));
    }

    [Fact]
    public void A_full_batch_leaves_in_segmented_sends_of_at_most_32_acks()
    {
        using var client = GroClient("127.0.0.43");
        using var session = new EngineSession(_dir, client, segmentable: true);
        var (batches, datagrams) = session.Round(first: 1, packets: BatchedReceiveEngine.BatchSize);

        Assert.Contains(batches, n => n > SegmentsPerSend);
        Assert.Equal(Expected(batches, UdpSegmentation.Supported), datagrams.Select(datagram => datagram.Length));
    }

    [Fact]
    public void A_socket_the_kernel_will_not_segment_for_gets_its_acks_one_by_one_for_the_rest_of_its_session()
    {
        using var client = GroClient("127.0.0.42");
        using var session = new EngineSession(_dir, client, segmentable: false);
        // refused once: that batch goes one ack a message, and so does every later one, even
        // when the socket could have them segmented again
        Assert.All(session.Round(first: 1, packets: 16).Datagrams, datagram => Assert.Equal(Ack.Size, datagram.Length));

        session.Socket.SetRawSocketOption(SolSocket, SoNoCheck, BitConverter.GetBytes(0));
        Assert.All(session.Round(first: 17, packets: 16).Datagrams, datagram => Assert.Equal(Ack.Size, datagram.Length));
    }

    private static Socket GroClient(string address)
    {
        var client = Bound(address);
        client.SetRawSocketOption(LinuxIo.SolUdp, UdpGro, BitConverter.GetBytes(1)); // takes a segmented send whole
        return client;
    }

    /// <summary>The datagram lengths a GRO client receives for these batches.</summary>
    private static IEnumerable<int> Expected(IEnumerable<int> batches, bool segmented) =>
        batches.SelectMany(n => segmented
            ? Enumerable.Range(0, (n + SegmentsPerSend - 1) / SegmentsPerSend).Select(i => Math.Min(SegmentsPerSend, n - i * SegmentsPerSend) * Ack.Size)
            : Enumerable.Repeat(Ack.Size, n));

    private static IEnumerable<uint> Sequences(int first, int count) => Enumerable.Range(first, count).Select(i => (uint)i);

    private static IEnumerable<uint> Acks(byte[] datagram) =>
        datagram.Chunk(Ack.Size).Select(ack => Ack.TryRead(ack, out var sequence) ? sequence : throw new InvalidDataException("not an ack"));

    /// <summary>A session socket connected to the client, its handler and an engine: what a pump thread holds for one dump.</summary>
    private sealed class EngineSession : IDisposable
    {
        private readonly Socket _client;
        private readonly CoreFile _core;
        private readonly SessionPacketHandler _handler;
        private readonly BatchedReceiveEngine _engine;

        public EngineSession(string dir, Socket client, bool segmentable)
        {
            _client = client;
            _core = CoreFile.Create(Path.Combine(dir, $"vmcore-{Guid.NewGuid():N}"), 1 << 20);
            // room for a whole batch of full datagrams queued at once
            Socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 300, ReceiveBufferSize = 1 << 20 };
            Socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Socket.Connect(client.LocalEndPoint!);
            Socket.SetRawSocketOption(SolSocket, SoNoCheck, BitConverter.GetBytes(segmentable ? 0 : 1));
            _handler = new SessionPacketHandler(_core, _ => { });
            _engine = new BatchedReceiveEngine();
        }

        public Socket Socket { get; }

        /// <summary>
        /// Sends <paramref name="packets"/> data packets from sequence number <paramref name="first"/>
        /// on and lets the engine take them: its first receive waits (up to the socket's timeout)
        /// for a whole batch, so they come in one batch unless this machine is very slow. Returns
        /// each batch's size and every datagram the client received, once each packet's ack is
        /// found among them in order.
        /// </summary>
        public (List<int> Batches, List<byte[]> Datagrams) Round(int first, int packets)
        {
            var payload = new byte[PayloadSize];
            for (var i = 0; i < packets; i++)
            {
                var sequence = first + i;
                _client.SendTo(Datagram(MessageType.Vmcore, (uint)sequence, (ulong)(sequence - 1) * PayloadSize, payload), Socket.LocalEndPoint!);
            }

            var batches = new List<int>();
            var flags = 0; // the first batch: until a whole batch or the timeout
            while (batches.Sum() < packets)
            {
                var n = _engine.ReceiveBatch((int)Socket.Handle, _handler, flags, () => false);
                Assert.True(n > 0, $"the engine found {batches.Sum()} of {packets} packets (errno {-n} after)");
                batches.Add(n);
                flags = LinuxIo.MsgWaitForOne;
            }

            Assert.Equal([new ByteRange(0, (ulong)(first - 1 + packets) * PayloadSize)], _core.Ranges());
            var datagrams = new List<byte[]>();
            var buffer = new byte[4096];
            for (var acked = 0; acked < packets;)
            {
                var length = _client.Receive(buffer);
                datagrams.Add(buffer[..length]);
                acked += length / Ack.Size;
            }

            Assert.False(_client.Poll(TimeSpan.FromMilliseconds(100), SelectMode.SelectRead), "more acks than packets");
            Assert.Equal(Sequences(first, packets), datagrams.SelectMany(Acks)); // every packet acked once, in order
            Assert.Contains(batches, n => n > 1); // what the tests are about: several acks at once
            return (batches, datagrams);
        }

        public void Dispose()
        {
            _engine.Dispose();
            Socket.Dispose();
            _core.Dispose();
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
