using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;

namespace Netdump.Tests.Ingest;

/// <summary>A port is taken back from a lingering session only where it frees one: on the same local address.</summary>
public sealed class SessionPortsTests
{
    private static Socket Udp() => new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    [Fact]
    public void A_full_range_takes_back_a_lingering_port_on_its_own_address_and_never_on_another()
    {
        var port = 21_000 + Random.Shared.Next(0, 11_000);
        var ports = new SessionPorts(new PortRange(port, port));
        var a = IPAddress.Parse("127.0.0.41");
        var b = IPAddress.Parse("127.0.0.42");
        using var client = Udp();
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var lingering = new UdpSessionChannel(a, (IPEndPoint)client.LocalEndPoint!, ports, IngestEngine.Managed, pumps: null);
        lingering.Lingering();
        using var holder = Udp(); // b's only port, held by a dump being received
        holder.Bind(new IPEndPoint(b, port));

        using var onB = Udp();
        Assert.Throws<SocketException>(() => ports.Bind(onB, b));
        Assert.Equal(port, lingering.LocalEndpoint.Port); // a's lingering session keeps its port

        using var onA = Udp();
        ports.Bind(onA, a);
        Assert.Equal(new IPEndPoint(a, port), onA.LocalEndPoint);
    }
}
