using System.Net.Sockets;

namespace Netdump.Actors.Native;

/// <summary>
/// Whether this kernel cuts one send into many datagrams (<c>UDP_SEGMENT</c>, Linux 4.18). A
/// kernel without it ignores the control message and would send the whole buffer as one
/// datagram, which no client takes for an ack: so it is asked once, by the socket option that
/// came with it, before any ack is sent that way.
/// </summary>
internal static class UdpSegmentation
{
    private static readonly Lazy<bool> Probe = new(Ask);

    public static bool Supported => Probe.Value;

    private static bool Ask()
    {
        if (!LinuxIo.Supported)
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            Span<byte> size = stackalloc byte[4];
            return socket.GetRawSocketOption(LinuxIo.SolUdp, LinuxIo.UdpSegment, size) == sizeof(int);
        }
        catch (SocketException)
        {
            return false; // ENOPROTOOPT: a kernel from before UDP_SEGMENT
        }
    }
}
