using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Netdump.App.Http;

/// <summary>
/// Who is at the other end of a loopback TCP connection: the user that owns the client's socket,
/// as the kernel lists it in <c>/proc/net/tcp</c> (<c>tcp6</c>), the row whose local address is the
/// client's end and whose remote address is ours. A dump's files are kernel memory, kept 0600 on
/// disk: without a token, the API serves them only to the server's own user and root, as the
/// file system would (docs/operations.md, "HTTP").
/// </summary>
public static class LoopbackPeer
{
    /// <summary>The uid owning the client's socket; null when it cannot be told (not Linux, not found).</summary>
    public static uint? Uid(IPAddress client, int clientPort, IPAddress local, int localPort)
    {
        client = Unmapped(client);
        local = Unmapped(local);
        if (client.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return Find("/proc/net/tcp6", Hex(client, clientPort), Hex(local, localPort));
        }

        // an IPv4 connection from a client's dual-stack socket (.NET's default) is listed among
        // the IPv6 ones, its addresses mapped (::ffff:127.0.0.1)
        return Find("/proc/net/tcp", Hex(client, clientPort), Hex(local, localPort))
            ?? Find("/proc/net/tcp6", Hex(client.MapToIPv6(), clientPort), Hex(local.MapToIPv6(), localPort));
    }

    private static uint? Find(string table, string clientEnd, string ourEnd)
    {
        try
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 7 && fields[1] == clientEnd && fields[2] == ourEnd
                    && uint.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                {
                    return uid;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>Whether the client's socket belongs to the server's own user or to root.</summary>
    public static bool IsOwnUserOrRoot(IPAddress client, int clientPort, IPAddress local, int localPort) =>
        Uid(client, clientPort, local, localPort) is { } uid && Netdump.Actors.Configuration.TrustedPath.IsServersOrRoot(uid);

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>The kernel's form: each 32-bit word of the address as a number in host order, in hex, then the port.</summary>
    private static string Hex(IPAddress address, int port)
    {
        var bytes = address.GetAddressBytes();
        var text = new System.Text.StringBuilder();
        for (var word = 0; word < bytes.Length; word += 4)
        {
            var value = BitConverter.ToUInt32(bytes, word);
            text.Append(value.ToString("X8", CultureInfo.InvariantCulture)); // read in host order, as the kernel prints it
        }

        return $"{text}:{port:X4}";
    }
}
