using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Netdump.Actors.Native;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>A Linux client's IPv4 address and port as a socket gives them: a key, with nothing allocated.</summary>
/// <param name="Address">The address in network byte order, as in <c>sockaddr_in</c>.</param>
internal readonly record struct Peer(uint Address, ushort Port)
{
    public static Peer Of(IPEndPoint endpoint)
    {
        Span<byte> bytes = stackalloc byte[4];
        endpoint.Address.MapToIPv4().TryWriteBytes(bytes, out _);
        return new Peer(MemoryMarshal.Read<uint>(bytes), (ushort)endpoint.Port);
    }

    /// <summary>From a <see cref="SocketAddress"/> of the InterNetwork family (sockaddr_in's layout).</summary>
    public static Peer Of(SocketAddress address) =>
        new(MemoryMarshal.Read<uint>(address.Buffer.Span[4..8]), BinaryPrimitives.ReadUInt16BigEndian(address.Buffer.Span[2..4]));

    /// <summary>Allocates: for what leaves the packet path (a START, a log line).</summary>
    public IPEndPoint ToEndPoint() => new(new IPAddress(Address), Port);

    public void WriteTo(SocketAddress address)
    {
        BinaryPrimitives.WriteUInt16BigEndian(address.Buffer.Span[2..4], Port);
        MemoryMarshal.Write(address.Buffer.Span[4..8], Address);
    }
}

/// <summary>
/// The Linux port's datagrams in and out, for its thread alone, with nothing allocated per
/// packet. Where <c>recvmmsg</c> works (<see cref="LinuxIo.Supported"/>) one call takes up to
/// <see cref="Batch"/> datagrams with their sources, and the requests queued while they are
/// handled leave with one <c>sendmmsg</c>, as in the FreeBSD pump's
/// <see cref="BatchedReceiveEngine"/>; elsewhere one <c>ReceiveFrom</c> and one <c>SendTo</c>
/// per datagram (the fallback, like <see cref="ManagedReceiveEngine"/>). The socket is not
/// connected: every datagram carries its own address. Buffers are native and reused.
/// </summary>
internal sealed unsafe class LinuxPortIo : IDisposable
{
    public const int Batch = 64;

    /// <summary>A Linux reply is at most 1472 bytes; a longer datagram arrives truncated, and is dropped as too long.</summary>
    private const int SlotSize = 2048;

    /// <summary>The fallback's one buffer: a managed receive says nothing of a datagram cut short, so it takes any whole.</summary>
    private const int OneSlotSize = 65536;

    /// <summary>
    /// Requests queued before a send: a batch of replies asks for at most one page each, but a
    /// tick may resend a whole window for each of several clients; a full queue is sent at once.
    /// </summary>
    private const int SendCapacity = 256;

    private readonly Socket _socket;
    private readonly bool _batched;
    private readonly byte* _slots;
    private readonly LinuxIo.SockAddrIn* _sources;
    private readonly LinuxIo.IoVec* _receiveVectors;
    private readonly LinuxIo.MMsgHdr* _received;
    private readonly byte* _requests;
    private readonly LinuxIo.SockAddrIn* _targets;
    private readonly LinuxIo.IoVec* _sendVectors;
    private readonly LinuxIo.MMsgHdr* _sends;
    private readonly SocketAddress _address = new(AddressFamily.InterNetwork);
    private int _oneLength; // the fallback's datagram
    private Peer _oneFrom;
    private int _queued;

    /// <param name="batched">recvmmsg and sendmmsg; false: the managed fallback</param>
    public LinuxPortIo(Socket socket, bool batched)
    {
        _socket = socket;
        _batched = batched;
        _slots = (byte*)NativeMemory.Alloc((nuint)(batched ? Batch * SlotSize : OneSlotSize));
        _sources = (LinuxIo.SockAddrIn*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.SockAddrIn)));
        _receiveVectors = (LinuxIo.IoVec*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.IoVec)));
        _received = (LinuxIo.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(Batch * sizeof(LinuxIo.MMsgHdr)));
        _requests = (byte*)NativeMemory.AllocZeroed(SendCapacity * LinuxRequest.Size);
        _targets = (LinuxIo.SockAddrIn*)NativeMemory.AllocZeroed((nuint)(SendCapacity * sizeof(LinuxIo.SockAddrIn)));
        _sendVectors = (LinuxIo.IoVec*)NativeMemory.AllocZeroed((nuint)(SendCapacity * sizeof(LinuxIo.IoVec)));
        _sends = (LinuxIo.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(SendCapacity * sizeof(LinuxIo.MMsgHdr)));
        for (var i = 0; i < Batch; i++)
        {
            _receiveVectors[i] = new LinuxIo.IoVec { Base = _slots + (long)i * SlotSize, Length = SlotSize };
            _received[i].Header.Iov = &_receiveVectors[i];
            _received[i].Header.IovLength = 1;
            _received[i].Header.Name = &_sources[i];
        }

        for (var i = 0; i < SendCapacity; i++)
        {
            _sendVectors[i] = new LinuxIo.IoVec { Base = _requests + (long)i * LinuxRequest.Size, Length = LinuxRequest.Size };
            _sends[i].Header.Iov = &_sendVectors[i];
            _sends[i].Header.IovLength = 1;
            _sends[i].Header.Name = &_targets[i];
            _sends[i].Header.NameLength = (uint)sizeof(LinuxIo.SockAddrIn);
        }
    }

    /// <summary>
    /// Waits up to the socket's receive timeout for datagrams and takes those waiting, up to
    /// <see cref="Batch"/>. Returns how many, 0 after a timeout or an error a receive loop goes
    /// on after (<see cref="LinuxIo.IsTransient"/>), or -1 when the socket is no longer usable.
    /// </summary>
    public int Receive() => _batched ? ReceiveBatch() : ReceiveOne();

    /// <summary>Datagram <paramref name="i"/> of the last receive; false when it was longer than its buffer.</summary>
    public bool TryGet(int i, out Peer from, out ReadOnlySpan<byte> datagram)
    {
        if (!_batched)
        {
            from = _oneFrom;
            datagram = new ReadOnlySpan<byte>(_slots, Math.Min(_oneLength, SlotSize));
            return _oneLength <= SlotSize;
        }

        from = new Peer(_sources[i].Address, BinaryPrimitives.ReverseEndianness(_sources[i].Port));
        datagram = new ReadOnlySpan<byte>(_slots + (long)i * SlotSize, (int)_received[i].Length);
        return (_received[i].Header.Flags & LinuxIo.MsgTrunc) == 0;
    }

    /// <summary>Queues a request for the next <see cref="Flush"/> (sending the queue first when it is full).</summary>
    public void Queue(Peer to, in LinuxRequest request)
    {
        if (_queued == SendCapacity)
        {
            Flush();
        }

        request.Write(new Span<byte>(_requests + (long)_queued * LinuxRequest.Size, LinuxRequest.Size));
        _targets[_queued] = new LinuxIo.SockAddrIn
        {
            Family = LinuxIo.AfInet,
            Port = BinaryPrimitives.ReverseEndianness(to.Port),
            Address = to.Address,
        };
        _queued++;
    }

    /// <summary>Sends what was queued: one sendmmsg, or one SendTo each. A lost request costs its pull a timeout.</summary>
    public void Flush()
    {
        if (_batched)
        {
            var sent = 0;
            while (sent < _queued)
            {
                var n = LinuxIo.sendmmsg((int)_socket.Handle, _sends + sent, (uint)(_queued - sent), 0);
                if (n < 0)
                {
                    sent += Marshal.GetLastPInvokeError() == LinuxIo.EIntr ? 0 : 1; // skip the one that failed
                    continue;
                }

                sent += n;
            }
        }
        else
        {
            for (var i = 0; i < _queued; i++)
            {
                var target = new Peer(_targets[i].Address, BinaryPrimitives.ReverseEndianness(_targets[i].Port));
                target.WriteTo(_address);
                try
                {
                    _socket.SendTo(new ReadOnlySpan<byte>(_requests + (long)i * LinuxRequest.Size, LinuxRequest.Size), SocketFlags.None, _address);
                }
                catch (SocketException)
                {
                    // as above: the pull resends
                }
            }
        }

        _queued = 0;
    }

    private int ReceiveBatch()
    {
        for (var i = 0; i < Batch; i++)
        {
            _received[i].Header.Flags = 0;
            _received[i].Header.NameLength = (uint)sizeof(LinuxIo.SockAddrIn);
        }

        var count = LinuxIo.recvmmsg((int)_socket.Handle, _received, Batch, LinuxIo.MsgWaitForOne, null);
        return count >= 0 ? count : LinuxIo.IsTransient(Marshal.GetLastPInvokeError()) ? 0 : -1;
    }

    private int ReceiveOne()
    {
        try
        {
            _oneLength = _socket.ReceiveFrom(new Span<byte>(_slots, OneSlotSize), SocketFlags.None, _address);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock
                                             or SocketError.MessageSize or SocketError.ConnectionReset or SocketError.Interrupted)
        {
            return 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return -1;
        }

        _oneFrom = Peer.Of(_address);
        return 1;
    }

    public void Dispose()
    {
        NativeMemory.Free(_slots);
        NativeMemory.Free(_sources);
        NativeMemory.Free(_receiveVectors);
        NativeMemory.Free(_received);
        NativeMemory.Free(_requests);
        NativeMemory.Free(_targets);
        NativeMemory.Free(_sendVectors);
        NativeMemory.Free(_sends);
    }
}
