using System.Net;

namespace Netdump.Actors.Ingest;

/// <summary>
/// A HERALD as the listener saw it: who sent it, which local address it was sent to (the
/// session must answer from that address), its seqno and the path it asked for.
/// <paramref name="PathProblem"/> is set when the payload could not be decoded as a path.
/// A Linux client's REPLY_START_NETDUMP is its HERALD: <paramref name="Linux"/> holds what it
/// said (machine, version, magic); null for a FreeBSD client.
/// </summary>
public sealed record Herald(
    uint Sequence,
    IPEndPoint Client,
    IPAddress LocalAddress,
    string RequestedPath,
    string? PathProblem,
    DateTimeOffset ReceivedAt,
    Protocol.Linux.LinuxStart? Linux = null)
{
    /// <summary>Which protocol the client speaks.</summary>
    public Dialect Dialect => Linux is null ? Dialect.FreeBsd : Dialect.Linux;
}

/// <summary>The two netdump protocols: FreeBSD's push (SPEC §2) and Red Hat's pull (SPEC §7).</summary>
public enum Dialect
{
    FreeBsd,
    Linux,
}
