namespace Netdump.Actors.Ingest;

/// <summary>Which loop moves a session's datagrams (setting <c>ingest_engine</c>).</summary>
public enum IngestEngine
{
    /// <summary>recvmmsg / pwritev / sendmmsg on Linux; the managed loop where that is not supported.</summary>
    Batched,

    /// <summary>One datagram per call through .NET's socket API.</summary>
    Managed,

    /// <summary>One epoll thread for all session sockets, each drained with the batched engine's step.</summary>
    Epoll,
}
