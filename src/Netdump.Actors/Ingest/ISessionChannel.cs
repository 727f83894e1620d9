using System.Net;
using Netdump.Actors.Configuration;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest;

/// <summary>
/// A session's socket and its receive pump, as the <c>ClientSessionActor</c> sees them. The real
/// one is <see cref="UdpSessionChannel"/>; actor tests put a fake in its place.
/// </summary>
public interface ISessionChannel : IDisposable
{
    /// <summary>The address and ephemeral port the session answers from.</summary>
    IPEndPoint LocalEndpoint { get; }

    /// <summary>
    /// Starts the receive pump: it writes and acks VMCORE data into <paramref name="core"/>
    /// inline and tells <paramref name="session"/> (a delegate: the session decides where each
    /// goes) the <see cref="PumpEvent"/>s.
    /// </summary>
    void Start(CoreFile core, ControlEvents session);

    /// <summary>Sends a 4-byte ack to the client (the socket is connected to it). Safe from any thread.</summary>
    void SendAck(uint sequence);

    /// <summary><see cref="Environment.TickCount64"/> of the last valid packet from the client.</summary>
    long LastPacketTicks { get; }

    /// <summary>When the first packet other than a HERALD arrived from the client; null until one did.</summary>
    DateTimeOffset? FirstDataAt { get; }

    /// <summary>What the pump counted: packets handled and datagrams dropped.</summary>
    PumpCounters Counters { get; }

    /// <summary>
    /// If nothing but HERALDs has arrived, makes the pump refuse every later packet (nothing
    /// written, nothing acked) and returns true; the check and the refusal are one atomic step
    /// against the pump's first data. False once data has arrived. Safe from any thread.
    /// </summary>
    bool TryRetireIfEmpty();

    /// <summary>
    /// The dump is over and the socket only re-acks a retransmitted FINISHED: its port may be
    /// taken back (the socket closed) when a new dump finds every session port taken.
    /// </summary>
    void Lingering();

    /// <summary>
    /// Stops the pump (nothing more is written or acked) without waiting for it:
    /// <paramref name="stopped"/> is called once nothing touches the core again, at once when no
    /// pump is inside a write, else from the pump's thread as it leaves. The session finishes the
    /// dump only then, so no write races the writer's final fsync. <see cref="IDisposable.Dispose"/>
    /// stops the same way with no one to tell; only the first of the two counts.
    /// </summary>
    void Stop(Action stopped);

    /// <summary>There is room again after the pump ran out of it (<see cref="PumpEvent.OutOfRoom"/>): take data again.</summary>
    void ResumeWrites();

    /// <summary>
    /// The server is done with the client (its dump is final and netdump-reboot has run, or it
    /// was refused): a Linux client is told to reboot; a FreeBSD client cannot be told anything.
    /// </summary>
    void LetGo()
    {
    }

    /// <summary>
    /// A newer dump of the client took over (a HERALD or START from it again, of either
    /// dialect): the client is dumping again, so letting this dump's client go must not reboot it.
    /// </summary>
    void Superseded()
    {
    }
}

/// <summary>A snapshot of a pump's counters.</summary>
public readonly record struct PumpCounters(long Packets, long Dropped);

/// <summary>
/// Creates the channel of a new session: a socket bound to the local address the HERALD was sent
/// to (on a port of <c>session_ports</c> when set) and connected to the HERALD's source
/// <paramref name="client"/>, so the kernel delivers it datagrams from that address and port only.
/// Throws <see cref="System.Net.Sockets.SocketException"/> when no port is free.
/// </summary>
public delegate ISessionChannel SessionChannelFactory(IPAddress local, IPEndPoint client);

/// <summary>The control events a receive pump tells its session actor (data never travels this way).</summary>
public static class PumpEvent
{
    /// <summary>
    /// A HERALD that reached the session socket (so from the session's client: the socket is
    /// connected), stamped when the pump read it.
    /// </summary>
    public sealed record HeraldRetransmitted(uint Sequence, DateTimeOffset ReceivedAt);

    /// <summary>A KDH, EKCD_KEY or FINISHED message, with its own copy of the payload.</summary>
    public sealed record ControlPacket(MessageType Type, uint Sequence, ulong Offset, ReadOnlyMemory<byte> Payload);

    /// <summary>The first packet other than a HERALD arrived (the dump is no longer empty); told before that packet's own event.</summary>
    public sealed class FirstData
    {
        public static readonly FirstData Instance = new();
        private FirstData() { }
    }

    /// <summary>A write was refused or failed; the pump stopped acking data.</summary>
    public sealed record WriteFailed(EndReason Reason);

    /// <summary>
    /// A write found no room (<see cref="Storage.DiskSpace"/>): the pump takes no data (nor acks
    /// it; the client resends) until the session tells it <see cref="ISessionChannel.ResumeWrites"/>.
    /// </summary>
    public sealed record OutOfRoom(ulong Offset, ulong Length);

    /// <summary>A datagram from the client that was dropped; reported a few times per second at most.</summary>
    public sealed record Dropped(string Reason);

    /// <summary>The pump stopped on an unexpected error.</summary>
    public sealed record Faulted(string Reason);
}
