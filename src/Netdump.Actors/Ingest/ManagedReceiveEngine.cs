using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Ingest;

/// <summary>
/// The portable receive engine: one datagram per call on the connected session socket.
/// <c>Receive</c> → classify → positional write → 4-byte ack, with no allocation per packet.
/// The fallback where <see cref="BatchedReceiveEngine"/> is not supported (and a check on it).
/// </summary>
internal static class ManagedReceiveEngine
{
    private const int BufferSize = 65536;

    /// <summary>
    /// Runs until <paramref name="stopping"/>. The buffer is native memory, not a managed array:
    /// a session on this engine keeps it through its 30 s linger time, and thousands of pinned
    /// 64 KiB arrays would weigh on every garbage collection.
    /// </summary>
    public static unsafe void Run(Socket socket, SessionPacketHandler handler, Func<bool> stopping)
    {
        var memory = (byte*)NativeMemory.Alloc(BufferSize);
        try
        {
            Run(socket, handler, stopping, new Span<byte>(memory, BufferSize));
        }
        finally
        {
            NativeMemory.Free(memory);
        }
    }

    private static void Run(Socket socket, SessionPacketHandler handler, Func<bool> stopping, Span<byte> buffer)
    {
        Span<byte> ack = stackalloc byte[Ack.Size];
        while (!stopping())
        {
            int length;
            try
            {
                length = socket.Receive(buffer, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                                                or SocketError.MessageSize or SocketError.ConnectionReset or SocketError.ConnectionRefused
                                                or SocketError.HostUnreachable or SocketError.HostDown or SocketError.NetworkUnreachable
                                                or SocketError.Interrupted)
            {
                continue;
            }

            if (stopping())
            {
                return;
            }

            var datagram = buffer[..length];
            var verdict = handler.Classify(datagram, out var header);
            handler.EndOfBatch(); // a batch of one
            if (verdict == PacketVerdict.Write)
            {
                var payload = datagram[MessageHeader.Size..];
                var result = handler.Core.Write(header.Offset, payload);
                if (!handler.Written(result, header.Offset, (ulong)payload.Length))
                {
                    continue;
                }
            }
            else if (verdict == PacketVerdict.Drop)
            {
                continue;
            }

            Ack.Write(ack, header.Sequence);
            try
            {
                socket.Send(ack, SocketFlags.None);
            }
            catch (SocketException)
            {
                // one lost ack costs nothing: the client resends the packet
            }
        }
    }
}
