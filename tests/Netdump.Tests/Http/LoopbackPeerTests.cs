using System.Net;
using System.Net.Sockets;
using Netdump.App.Http;

namespace Netdump.Tests.Http;

/// <summary>
/// Who owns the client end of a loopback connection, read from /proc/net/tcp and tcp6: the
/// gate on a dump's files without a token (<c>ApiContractTests</c> asks as another user).
/// </summary>
public sealed class LoopbackPeerTests
{
    [Theory]
    [InlineData(AddressFamily.InterNetwork)] // a plain IPv4 socket: /proc/net/tcp
    [InlineData(AddressFamily.InterNetworkV6)] // .NET's default dual-stack socket: tcp6, the address mapped
    public void The_owner_of_a_loopback_clients_socket_is_this_process_user(AddressFamily family)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = family == AddressFamily.InterNetwork
            ? new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        client.Connect(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = listener.AcceptSocket();
        var remote = (IPEndPoint)accepted.RemoteEndPoint!;
        var local = (IPEndPoint)accepted.LocalEndPoint!;

        Assert.Equal(Netdump.Tests.Storage.Tmpfs.EffectiveUid, LoopbackPeer.Uid(remote.Address, remote.Port, local.Address, local.Port));
        Assert.True(LoopbackPeer.IsOwnUserOrRoot(remote.Address, remote.Port, local.Address, local.Port));
    }

    [Fact]
    public void A_connection_the_kernel_does_not_list_has_no_owner()
    {
        // the ports of no connection: unknown, and so refused by the gate, never taken for ours
        Assert.Null(LoopbackPeer.Uid(IPAddress.Loopback, 1, IPAddress.Loopback, 2));
        Assert.False(LoopbackPeer.IsOwnUserOrRoot(IPAddress.Loopback, 1, IPAddress.Loopback, 2));
    }
}
