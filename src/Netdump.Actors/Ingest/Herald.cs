using System.Net;

namespace Netdump.Actors.Ingest;

/// <summary>
/// A HERALD as the listener saw it: who sent it, which local address it was sent to (the
/// session must answer from that address), its seqno and the path it asked for.
/// <paramref name="PathProblem"/> is set when the payload could not be decoded as a path.
/// </summary>
public sealed record Herald(
    uint Sequence,
    IPEndPoint Client,
    IPAddress LocalAddress,
    string RequestedPath,
    string? PathProblem,
    DateTimeOffset ReceivedAt);
