using System.Net.Sockets;
using System.Runtime.InteropServices;
using Netdump.Actors.Native;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Ingest;

/// <summary>
/// The Linux receive engine, netdumpd's and the C reference's design: one <c>recvmmsg</c>
/// drains up to a whole burst, each run of contiguous VMCORE payloads is written with one
/// <c>pwritev</c>, and one send carries every ack of the batch on the connected session socket
/// (so to the packets' source, the only one it hears). An ack leaves only after its bytes were
/// written. The acks of a batch are one buffer cut into 4-byte datagrams by the kernel
/// (<c>UDP_SEGMENT</c>): on the wire the same datagrams as one <c>sendmmsg</c> of them, for a
/// fraction of its CPU, since the whole batch goes down the network stack once
/// (docs/performance.md, "Acks as one segmented send"). Where the kernel lacks it, or refuses it
/// for a socket's route (IPsec), the batch goes as a <c>sendmmsg</c> as before. Buffers are
/// native and reused: nothing is allocated per packet, and receive slots the kernel never fills
/// (they are sized for 64 KiB datagrams) are never made resident.
/// </summary>
internal sealed unsafe class BatchedReceiveEngine : IDisposable
{
    private const int Batch = 64;
    private const int SlotSize = 65536;

    private readonly byte* _slots;
    private readonly LinuxIo.IoVec* _receiveVectors;
    private readonly LinuxIo.MMsgHdr* _received;
    private readonly uint* _ackWords;
    private readonly LinuxIo.IoVec* _ackVectors;
    private readonly LinuxIo.MMsgHdr* _acks;
    private readonly LinuxIo.IoVec* _runVectors;
    private readonly int* _runAcks;
    private readonly LinuxIo.IoVec* _segmentedVector;
    private readonly LinuxIo.MsgHdr* _segmented;

    public BatchedReceiveEngine()
    {
        _slots = (byte*)NativeMemory.Alloc((nuint)Batch * SlotSize);
        _receiveVectors = (LinuxIo.IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.IoVec)));
        _received = (LinuxIo.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.MMsgHdr)));
        _ackWords = (uint*)NativeMemory.AllocZeroed(Batch * sizeof(uint));
        _ackVectors = (LinuxIo.IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.IoVec)));
        _acks = (LinuxIo.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.MMsgHdr)));
        _runVectors = (LinuxIo.IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.IoVec)));
        _runAcks = (int*)NativeMemory.AllocZeroed(Batch * sizeof(int));
        for (var i = 0; i < Batch; i++)
        {
            _receiveVectors[i] = new LinuxIo.IoVec { Base = _slots + (long)i * SlotSize, Length = SlotSize };
            _received[i].Header.Iov = &_receiveVectors[i];
            _received[i].Header.IovLength = 1;
            _ackVectors[i] = new LinuxIo.IoVec { Base = (byte*)&_ackWords[i], Length = Ack.Size };
            _acks[i].Header.Iov = &_ackVectors[i];
            _acks[i].Header.IovLength = 1;
        }

        // one message whose only vector is every ack word of the batch, and whose control
        // message asks the kernel for datagrams of Ack.Size bytes
        var control = sizeof(LinuxIo.ControlHeader) + sizeof(ulong); // CMSG_SPACE(sizeof(u16))
        _segmented = (LinuxIo.MsgHdr*)NativeMemory.AllocZeroed((nuint)(sizeof(LinuxIo.MsgHdr) + sizeof(LinuxIo.IoVec) + control));
        _segmentedVector = (LinuxIo.IoVec*)(_segmented + 1);
        var header = (LinuxIo.ControlHeader*)(_segmentedVector + 1);
        *_segmentedVector = new LinuxIo.IoVec { Base = (byte*)_ackWords };
        *header = new LinuxIo.ControlHeader
        {
            Length = (nuint)(sizeof(LinuxIo.ControlHeader) + sizeof(ushort)),
            Level = LinuxIo.SolUdp,
            Type = LinuxIo.UdpSegment,
        };
        *(ushort*)(header + 1) = Ack.Size;
        _segmented->Iov = _segmentedVector;
        _segmented->IovLength = 1;
        _segmented->Control = header;
        _segmented->ControlLength = (nuint)control;
    }

    public static bool Supported => LinuxIo.Supported;

    public void Run(Socket socket, SessionPacketHandler handler, Func<bool> stopping)
    {
        var fd = (int)socket.Handle;
        while (!stopping())
        {
            var count = ReceiveBatch(fd, handler, LinuxIo.MsgWaitForOne, stopping);
            if (count < 0 && !LinuxIo.IsTransient(-count))
            {
                if (!stopping())
                {
                    handler.Faulted($"recvmmsg: {Marshal.GetPInvokeErrorMessage(-count)}");
                }

                return;
            }
        }
    }

    /// <summary>
    /// One step: a <c>recvmmsg</c> with <paramref name="flags"/>, then the batch's writes and
    /// acks. Returns the datagrams handled, or minus the errno (EAGAIN: the timeout, or nothing
    /// waiting with MSG_DONTWAIT). Used by <see cref="Run"/> and by <see cref="EpollPump"/>.
    /// </summary>
    public int ReceiveBatch(int fd, SessionPacketHandler handler, int flags, Func<bool> stopping)
    {
        for (var i = 0; i < Batch; i++)
        {
            _received[i].Header.Flags = 0;
        }

        var count = LinuxIo.recvmmsg(fd, _received, Batch, flags, null);
        if (count < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        if (stopping())
        {
            return 0;
        }

        var acks = Process(handler, count);
        handler.EndOfBatch();
        SendAcks(fd, handler, acks);
        return count;
    }

    public const int BatchSize = Batch;

    /// <summary>Classifies a batch, writes its contiguous runs and returns how many acks are ready.</summary>
    private int Process(SessionPacketHandler handler, int count)
    {
        var acks = 0;
        var runCount = 0;
        var runStart = 0UL;
        var runLength = 0UL;
        for (var i = 0; i < count; i++)
        {
            var slot = _slots + (long)i * SlotSize;
            var datagram = new ReadOnlySpan<byte>(slot, (int)_received[i].Length);
            switch (handler.Classify(datagram, out var header))
            {
                case PacketVerdict.Write:
                    if (runCount > 0 && header.Offset != runStart + runLength)
                    {
                        acks = FlushRun(handler, runStart, runLength, runCount, acks);
                        runCount = 0;
                    }

                    if (runCount == 0)
                    {
                        runStart = header.Offset;
                        runLength = 0;
                    }

                    _runVectors[runCount] = new LinuxIo.IoVec { Base = slot + MessageHeader.Size, Length = header.Length };
                    _runAcks[runCount++] = i;
                    runLength += header.Length;
                    break;
                case PacketVerdict.AckOnly:
                    acks = QueueAck(header.Sequence, acks);
                    break;
            }
        }

        return runCount > 0 ? FlushRun(handler, runStart, runLength, runCount, acks) : acks;
    }

    private int FlushRun(SessionPacketHandler handler, ulong start, ulong length, int count, int acks)
    {
        var result = handler.Core.Write(start, _runVectors, count, length);
        if (!handler.Written(result, start, length))
        {
            return acks;
        }

        for (var r = 0; r < count; r++)
        {
            var i = _runAcks[r];
            var sequence = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_slots + (long)i * SlotSize + 4, 4));
            acks = QueueAck(sequence, acks);
        }

        return acks;
    }

    private int QueueAck(uint sequence, int acks)
    {
        Ack.Write(new Span<byte>(&_ackWords[acks], Ack.Size), sequence);
        return acks + 1;
    }

    /// <summary>
    /// At most this many acks in one segmented send: kernels before 5.16 counted the IP and UDP
    /// headers against UDP_MAX_SEGMENTS times the segment size (256 bytes for 4-byte acks) and
    /// refused a send of 58 acks or more, a full batch's.
    /// </summary>
    private const int SegmentsPerSend = 32;

    private void SendAcks(int fd, SessionPacketHandler handler, int count)
    {
        var sent = 0;
        // only where the kernel has it: an older one would send the whole batch as one datagram
        if (UdpSegmentation.Supported && !handler.AcksUnsegmentable)
        {
            while (count - sent > 1 && SendSegmented(fd, handler, sent, Math.Min(count - sent, SegmentsPerSend)) is var n and > 0)
            {
                sent += n;
            }
        }

        SendEach(fd, sent, count);
    }

    /// <summary>
    /// Acks <paramref name="first"/> on, <paramref name="count"/> of them, in one send; returns
    /// how many left, or 0 if the kernel refused them (the caller then sends them one by one). A
    /// refusal for the socket's sake (its route cannot be segmented for, as with IPsec: EIO;
    /// its options: EINVAL) holds for the rest of the session; any other (an ICMP error this
    /// send reported) for this batch only.
    /// </summary>
    private int SendSegmented(int fd, SessionPacketHandler handler, int first, int count)
    {
        _segmentedVector->Base = (byte*)(_ackWords + first);
        _segmentedVector->Length = (nuint)(count * Ack.Size);
        while (true)
        {
            if (LinuxIo.sendmsg(fd, _segmented, 0) >= 0)
            {
                return count;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno == LinuxIo.EIntr)
            {
                continue;
            }

            if (errno is LinuxIo.EIo or LinuxIo.EInval or LinuxIo.EOpNotSupp)
            {
                handler.RefusedSegmentedAcks();
            }

            return 0;
        }
    }

    private void SendEach(int fd, int sent, int count)
    {
        while (sent < count)
        {
            var n = LinuxIo.sendmmsg(fd, _acks + sent, (uint)(count - sent), 0);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == LinuxIo.EIntr)
                {
                    continue;
                }

                sent++; // skip the ack that failed; a lost ack costs nothing, the client resends
                continue;
            }

            sent += n;
        }
    }

    public void Dispose()
    {
        NativeMemory.Free(_slots);
        NativeMemory.Free(_receiveVectors);
        NativeMemory.Free(_received);
        NativeMemory.Free(_ackWords);
        NativeMemory.Free(_ackVectors);
        NativeMemory.Free(_acks);
        NativeMemory.Free(_runVectors);
        NativeMemory.Free(_runAcks);
        NativeMemory.Free(_segmented);
    }
}
