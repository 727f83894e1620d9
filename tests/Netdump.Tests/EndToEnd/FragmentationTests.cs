using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A client that scatters tiny writes (issue 13: 1-byte writes at descending offsets, each a
/// range of its own). No FreeBSD client writes so; the dump ends "too fragmented" at
/// <see cref="CoreFile.MaxRanges"/> ranges, keeping every byte acked before.
/// </summary>
public sealed class FragmentationTests : IAsyncLifetime
{
    private const string Client = "127.0.0.28";
    private const int Window = 64; // a FreeBSD client's most packets in flight

    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Descending_one_byte_writes_past_the_bound_end_the_dump_too_fragmented_and_keep_what_was_acked()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 200 };
        socket.Bind(new IPEndPoint(IPAddress.Parse(Client), 0));
        var session = Herald(socket);

        // range k (k = 0 .. MaxRanges - 1) is the byte at offset 2 * (MaxRanges - k), a gap
        // below each: every write is a range of its own, each before all the others
        const int ranges = CoreFile.MaxRanges;
        var sequence = 2u;
        for (var first = 0; first < ranges; first += Window)
        {
            var packets = Enumerable.Range(first, Math.Min(Window, ranges - first))
                .Select(k => Data(sequence++, Offset(k)))
                .ToList();
            SendUntilAcked(socket, session, packets);
        }

        // one more range: refused, never acked, and the dump ends
        socket.SendTo(Data(sequence, 0), session);
        var dir = _server.SingleDumpOf(Client);
        var json = await ServerHarness.WaitForEndAsync(dir);

        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.StartsWith("too fragmented", json.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal((ulong)ranges, json.GetProperty("bytes_received").GetUInt64());
        Assert.Equal(ranges, json.GetProperty("ranges").GetArrayLength());
        await _server.WaitForLogAsync(Client, "too fragmented");
        var core = File.ReadAllBytes(Path.Combine(dir, "vmcore-incomplete"));
        Assert.Equal((int)Offset(0) + 1, core.Length);
        for (var k = 0; k < ranges; k++)
        {
            Assert.Equal(ByteAt(Offset(k)), core[Offset(k)]);
        }

        Assert.Equal(0, core[0]); // the refused write was not written
    }

    private static ulong Offset(int k) => 2UL * (ulong)(CoreFile.MaxRanges - k);

    private static byte ByteAt(ulong offset) => (byte)((offset / 2 % 255) + 1);

    private static byte[] Data(uint sequence, ulong offset)
    {
        var datagram = new byte[MessageHeader.Size + 1];
        new MessageHeader(MessageType.Vmcore, sequence, offset, 1, 0).Write(datagram);
        datagram[MessageHeader.Size] = ByteAt(offset);
        return datagram;
    }

    /// <summary>Sends the HERALD until it is acked; returns the session's endpoint (the ack's source).</summary>
    private IPEndPoint Herald(Socket socket)
    {
        var payload = HeraldPayload.Encode("");
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(MessageType.Herald, 1, 0, (uint)payload.Length, 0).Write(datagram);
        payload.CopyTo(datagram, MessageHeader.Size);
        var buffer = new byte[16];
        for (var attempt = 0; attempt < 50; attempt++)
        {
            socket.SendTo(datagram, _server.Endpoint);
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                var n = socket.ReceiveFrom(buffer, ref from);
                if (Ack.TryRead(buffer.AsSpan(0, n), out var acked) && acked == 1)
                {
                    return (IPEndPoint)from;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        throw new TimeoutException("the HERALD was never acked");
    }

    /// <summary>What a FreeBSD client does with a burst: send it, then resend whatever was not acked.</summary>
    private static void SendUntilAcked(Socket socket, IPEndPoint session, List<byte[]> packets)
    {
        var waiting = packets.ToDictionary(p => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4, 4)));
        var buffer = new byte[16];
        for (var attempt = 0; attempt < 50 && waiting.Count > 0; attempt++)
        {
            foreach (var packet in waiting.Values)
            {
                socket.SendTo(packet, session);
            }

            try
            {
                while (waiting.Count > 0)
                {
                    var n = socket.Receive(buffer);
                    if (Ack.TryRead(buffer.AsSpan(0, n), out var acked))
                    {
                        waiting.Remove(acked);
                    }
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
            }
        }

        Assert.True(waiting.Count == 0, $"{waiting.Count} packets of a burst were never acked");
    }
}
