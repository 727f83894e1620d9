using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The memory: SEND_MEM with <see cref="Window"/> pages outstanding, a page written at its place
/// in the core once whole (a zero page only recorded), reserved frames recorded and skipped, and
/// the wait while there is no room.
/// </summary>
internal sealed partial class LinuxPull
{
    /// <summary>Pages asked for at once: 256 datagrams of 1 KiB in flight at 4 KiB pages.</summary>
    internal const int Window = 64;

    /// <summary>
    /// The most separate ranges of reserved frames a dump lists: a machine's memory map has tens
    /// (the firmware's holes, its devices' windows); 2.5 MB of <c>dump.json</c> at most.
    /// </summary>
    public const int MaxReservedRanges = 65_536;

    private readonly ByteRanges _reserved = new(); // in page frames
    private readonly Queue<uint> _again = [];
    private long _dataOffset;
    private ulong _nextPfn;
    private bool _outOfRoom;
    private bool _memoryDone;

    /// <summary>The page frames met so far that are not RAM (all of them once every page is in).</summary>
    public IReadOnlyList<ByteRange> ReservedFrames
    {
        get
        {
            lock (_lock)
            {
                return _reserved.ToList();
            }
        }
    }

    /// <summary>
    /// The header is written: pull the pages, each at <paramref name="dataOffset"/> + pfn × page
    /// size; while <paramref name="roomAwaited"/>, as after a page that found no room: from
    /// <see cref="ResumeWrites"/> on (SPEC §7: the free-space check, then SEND_MEM).
    /// </summary>
    public void PullMemory(long dataOffset, bool roomAwaited = false)
    {
        lock (_lock)
        {
            if (_phase != Phase.Described)
            {
                return;
            }

            _dataOffset = dataOffset;
            _phase = Phase.Pulling;
            _outOfRoom = roomAwaited;
            var now = Environment.TickCount64;
            // the client's silence counts from the first question: it is asked nothing while the
            // header is written, nor while netdump-nospace decides (which may outlast session_timeout)
            Interlocked.Exchange(ref _lastPacket, now);
            AskForPages(now);
        }
    }

    /// <summary>There is room again: take pages again.</summary>
    public void ResumeWrites()
    {
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (_outOfRoom && _phase == Phase.Pulling)
            {
                // asked nothing while netdump-nospace decided: the silence counts from here
                Interlocked.Exchange(ref _lastPacket, now);
            }

            _outOfRoom = false;
            AskForPages(now);
        }
    }

    private void AskForPages(long now)
    {
        if (_phase != Phase.Pulling || _outOfRoom)
        {
            return;
        }

        while (_outstanding.Count < Window)
        {
            uint pfn;
            if (_again.Count > 0)
            {
                pfn = _again.Dequeue();
            }
            else if (_nextPfn < _pages!.Value)
            {
                pfn = (uint)_nextPfn++;
            }
            else
            {
                break;
            }

            Ask(LinuxCommand.SendMem, pfn);
        }

        if (!_memoryDone && _outstanding.Count == 0 && _again.Count == 0 && _nextPfn >= _pages!.Value)
        {
            _memoryDone = true;
            _session(new MemoryDone(_reserved.ToList(), _pages.Value));
        }
    }

    /// <summary>A REPLY_MEM chunk of the page <paramref name="request"/> asked for; true when it was new (the page written once whole).</summary>
    private bool Chunk(LinuxReplyHeader header, Request request, ReadOnlySpan<byte> payload)
    {
        var pageSize = (int)_pageSize!.Value;
        if (header.Info >= pageSize)
        {
            Ignore(IgnoredReply.OutsideThePage, header, request);
            return false;
        }

        request.Page ??= new byte[pageSize];
        var bit = 1UL << (int)(header.Info / LinuxReplyHeader.MemChunk);
        if ((request.Chunks & bit) != 0)
        {
            if (request.Sends == 1)
            {
                Ignore(IgnoredReply.ChunkAgain, header, request);
            }

            return false; // after a resend, the page's chunks come again: expected, and no progress either
        }

        payload.CopyTo(request.Page.AsSpan((int)header.Info));
        request.Chunks |= bit;
        var chunks = pageSize / LinuxReplyHeader.MemChunk;
        if (request.Chunks != (chunks == 64 ? ulong.MaxValue : (1UL << chunks) - 1))
        {
            return true;
        }

        var pfn = request.From;
        var offset = (ulong)_dataOffset + (ulong)pfn * (ulong)pageSize;
        var result = request.Page.AsSpan().ContainsAnyExcept((byte)0)
            ? _core!.Write(offset, request.Page)
            : _core!.RecordSparse(offset, (ulong)pageSize);
        Retire(header.Sequence); // the request may be reused from here on
        switch (result)
        {
            case CoreWriteResult.Written:
                AskForPages(Environment.TickCount64);
                break;
            case CoreWriteResult.NoSpace:
                _again.Enqueue(pfn);
                if (!_outOfRoom)
                {
                    _outOfRoom = true;
                    _session(new PumpEvent.OutOfRoom(offset, (ulong)pageSize));
                }

                break;
            default:
                _phase = Phase.Stopped;
                _session(new PumpEvent.WriteFailed(result switch
                {
                    CoreWriteResult.BeyondLimit => EndReason.TooLargePage(pfn, offset, _core.MaxSize),
                    CoreWriteResult.TooFragmented => EndReason.TooFragmented($"page {pfn} would make more than {CoreFile.MaxRanges} separate received ranges"),
                    _ => EndReason.WriteFailed(offset, _core.LastError),
                }));
                break;
        }

        return true;
    }

    /// <summary>
    /// Frames [first, next RAM frame) are not RAM; next 0 (or not ahead) means none to the end.
    /// At most <see cref="MaxReservedRanges"/> separate ranges: a client that said every other
    /// frame was reserved made a <c>dump.json</c> of 119 MB, which every reader then refused (the
    /// complete dump was gone after a restart), and took 1.7 GB of the server's memory.
    /// </summary>
    private void Reserve(ulong first, ulong nextRam)
    {
        var end = nextRam > first ? Math.Min(nextRam, _pages!.Value) : _pages!.Value;
        if (_reserved.Count >= MaxReservedRanges && !_reserved.Adjoins(first, end))
        {
            _phase = Phase.Stopped;
            _session(new PumpEvent.WriteFailed(EndReason.TooFragmented(
                $"frame {first} would make more than {MaxReservedRanges} separate ranges of reserved (not RAM) frames")));
            return;
        }

        _reserved.Add(first, end);
        var pageSize = (ulong)_pageSize!.Value;
        _core!.RecordSparse((ulong)_dataOffset + first * pageSize, (end - first) * pageSize);
        _nextPfn = Math.Max(_nextPfn, end);
    }
}
