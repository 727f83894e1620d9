using System.Text;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Protocol.Linux;

/// <summary>Client replies built the way the RHEL4 kernel's <c>send_netdump_msg</c> lays them out, for the tests that are not about the bytes themselves.</summary>
internal static class LinuxDatagrams
{
    public static byte[] Reply(LinuxReplyCode code, uint info, ReadOnlySpan<byte> payload, uint sequence = 1, byte version = 5)
    {
        var datagram = new byte[LinuxReplyHeader.Size + payload.Length];
        new LinuxReplyHeader(version, sequence, code, info).Write(datagram);
        payload.CopyTo(datagram.AsSpan(LinuxReplyHeader.Size));
        return datagram;
    }

    public static byte[] Reply(LinuxReplyCode code, uint info, int payloadLength, uint sequence = 1) =>
        Reply(code, info, new byte[payloadLength], sequence);

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);
}
