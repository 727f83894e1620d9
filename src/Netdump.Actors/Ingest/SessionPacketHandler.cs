using System.Net;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest;

/// <summary>What a receive engine does with one datagram after <see cref="SessionPacketHandler.Classify"/>.</summary>
internal enum PacketVerdict
{
    /// <summary>Not acked: malformed, control (told to the session at the end of the batch; the actor acks it), or refused.</summary>
    Drop,

    /// <summary>VMCORE data to write at its offset, then ack.</summary>
    Write,

    /// <summary>A late duplicate of data already held after FINISHED: ack without writing.</summary>
    AckOnly,
}

/// <summary>
/// Every per-packet decision of a session's receive pump, shared by the receive engines:
/// header check, counters, the pump's state (has data, sealed after FINISHED,
/// failed after a refused write) and the control events told to the session actor. The engine
/// only moves bytes: it receives, writes what is <see cref="PacketVerdict.Write"/>, and acks.
/// Used by the pump thread alone, except the counters and flags read by the actor. The session
/// socket is connected, so every datagram comes from the session's client.
/// </summary>
internal sealed class SessionPacketHandler(CoreFile core, ControlEvents session, PacketMeter? meter = null)
{
    private readonly ReportBudget _dropReports = new(10);
    private long _firstDataUtcTicks;
    private bool _sealed;
    private bool _failed;
    private volatile bool _outOfRoom;
    private long _lastPacket = Environment.TickCount64;
    private long _packets;
    private int _validInBatch;
    private long _bytesInBatch;
    private int _malformedInBatch;
    private int _lateInBatch;
    private long _dropped;
    private readonly List<PumpEvent.ControlPacket> _controlsInBatch = new(2);

    /// <summary>Stands for the first data's time once the session retired an empty pump: no data is ever taken.</summary>
    private const long Retired = -1;

    /// <summary>When the first packet other than a HERALD arrived; null until one did.</summary>
    public DateTimeOffset? FirstDataAt => Volatile.Read(ref _firstDataUtcTicks) is var ticks and > 0
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : null;

    /// <summary>
    /// From the session (any thread): if no data has come, no data ever will be taken; true then.
    /// Races with <see cref="StartData"/> on one field, so exactly one of them wins.
    /// </summary>
    public bool TryRetire() => Interlocked.CompareExchange(ref _firstDataUtcTicks, Retired, 0) is 0 or Retired;

    public long LastPacketTicks => Interlocked.Read(ref _lastPacket);

    public PumpCounters Counters => new(Interlocked.Read(ref _packets), Interlocked.Read(ref _dropped));

    public CoreFile Core => core;

    /// <summary>
    /// The kernel refused to send this session's acks as one segmented send (pump thread only):
    /// its route or socket cannot have them so, and each batch goes one ack a message.
    /// </summary>
    public bool AcksUnsegmentable { get; private set; }

    /// <summary>The kernel refused a segmented send of acks for this session's socket: for good (pump thread only).</summary>
    public void RefusedSegmentedAcks() => AcksUnsegmentable = true;

    /// <summary>FINISHED arrived: no more data is written (pump thread only).</summary>
    public bool Sealed => _sealed;

    /// <summary>
    /// Decides what to do with one datagram from the client. Control messages are told to the
    /// session here.
    /// </summary>
    public PacketVerdict Classify(ReadOnlySpan<byte> datagram, out MessageHeader header)
    {
        var error = MessageHeader.TryRead(datagram, out header);
        if (error != HeaderError.None)
        {
            Interlocked.Increment(ref _dropped);
            _malformedInBatch++;
            if (_dropReports.TryTake())
            {
                var reason = error == HeaderError.UnknownType
                    ? $"unknown message type {(uint)header.Type}"
                    : MessageHeader.Describe(error);
                session(new PumpEvent.Dropped(reason));
            }

            return PacketVerdict.Drop;
        }

        _validInBatch++;
        switch (header.Type)
        {
            case MessageType.Vmcore:
                return ClassifyData(header);
            case MessageType.Herald:
                session(new PumpEvent.HeraldRetransmitted(header.Sequence, DateTimeOffset.UtcNow));
                return PacketVerdict.Drop;
            default:
                switch (StartData())
                {
                    case DataStart.Retired:
                        return PacketVerdict.Drop;
                    case DataStart.First:
                        session(PumpEvent.FirstData.Instance); // a control packet first (an empty dump's FINISHED) starts the dump too
                        break;
                }

                _sealed |= header.Type == MessageType.Finished;
                // told at the end of the batch (EndOfBatch), once the engine has written the data
                // before it: the FINISHED's end (the writer's cut, fsync and rename) must come after
                // every write, a duplicate of held data earlier in its batch included
                _controlsInBatch.Add(new PumpEvent.ControlPacket(header.Type, header.Sequence, header.Offset,
                    datagram[MessageHeader.Size..].ToArray()));
                return PacketVerdict.Drop;
        }
    }

    private PacketVerdict ClassifyData(in MessageHeader header)
    {
        if (_failed || _outOfRoom)
        {
            return PacketVerdict.Drop;
        }

        if (_sealed)
        {
            // after FINISHED only a late duplicate of data we hold is acked; nothing is written
            if (header.End is { } end && core.Covers(header.Offset, end))
            {
                return PacketVerdict.AckOnly;
            }

            Interlocked.Increment(ref _dropped);
            _lateInBatch++;
            if (_dropReports.TryTake())
            {
                session(new PumpEvent.Dropped($"{header.Length} bytes at offset {header.Offset} after FINISHED, which the dump does not hold"));
            }

            return PacketVerdict.Drop;
        }

        switch (StartData())
        {
            case DataStart.Retired:
                return PacketVerdict.Drop;
            case DataStart.First:
                session(PumpEvent.FirstData.Instance);
                break;
        }

        _bytesInBatch += header.Length;
        return PacketVerdict.Write;
    }

    private enum DataStart
    {
        First,
        Again,
        Retired,
    }

    /// <summary>Records the first data's time, once, unless the session retired the pump first.</summary>
    private DataStart StartData()
    {
        var ticks = Volatile.Read(ref _firstDataUtcTicks);
        if (ticks == 0)
        {
            ticks = Interlocked.CompareExchange(ref _firstDataUtcTicks, DateTimeOffset.UtcNow.UtcTicks, 0);
        }

        return ticks switch
        {
            0 => DataStart.First,
            Retired => DataStart.Retired,
            _ => DataStart.Again,
        };
    }

    /// <summary>
    /// Called after a write of <paramref name="length"/> bytes at <paramref name="offset"/>; a
    /// failure stops all further data (nothing more is written or acked) and tells the session.
    /// </summary>
    public bool Written(CoreWriteResult result, ulong offset, ulong length)
    {
        switch (result)
        {
            case CoreWriteResult.Written:
                return true;
            case CoreWriteResult.NoSpace:
                _outOfRoom = true;
                session(new PumpEvent.OutOfRoom(offset, length));
                return false;
            case CoreWriteResult.BeyondLimit:
                _failed = true;
                session(new PumpEvent.WriteFailed(EndReason.TooLargeWrite(length, offset, core.MaxSize)));
                return false;
            case CoreWriteResult.TooFragmented:
                _failed = true;
                session(new PumpEvent.WriteFailed(EndReason.TooFragmented(
                    $"the write of {length} bytes at offset {offset} would make more than {CoreFile.MaxRanges} separate received ranges")));
                return false;
            default:
                _failed = true;
                session(new PumpEvent.WriteFailed(EndReason.WriteFailed(offset, core.LastError)));
                return false;
        }
    }

    /// <summary>
    /// Called by the engine after each receive call, once the batch's data is written (the
    /// managed engine's batch is one datagram, and a control packet carries no data): the
    /// batch's control packets are told to the session, and the packet count and the
    /// last-packet time (the session's idle timer reads it) are updated once per batch, not per
    /// packet, and so are the metrics (<see cref="PacketMeter"/>).
    /// </summary>
    public void EndOfBatch()
    {
        foreach (var control in _controlsInBatch)
        {
            session(control);
        }

        _controlsInBatch.Clear();
        meter?.Add(_validInBatch, _bytesInBatch, _malformedInBatch, _lateInBatch);
        _bytesInBatch = 0;
        _malformedInBatch = 0;
        _lateInBatch = 0;
        if (_validInBatch > 0)
        {
            Interlocked.Add(ref _packets, _validInBatch);
            Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
            _validInBatch = 0;
        }
    }

    /// <summary>From the session: there is room again.</summary>
    public void ResumeWrites() => _outOfRoom = false;

    public void Faulted(string reason) => session(new PumpEvent.Faulted(reason));

}
