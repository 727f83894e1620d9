using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>A core's writes: data at its offset (one span, or a run of datagrams in one <c>pwritev</c>), a Linux core's header, the sparse pages, and why a write is refused.</summary>
public sealed unsafe partial class CoreFile
{
    /// <summary>
    /// Writes a payload at its offset and records the range. Refuses (without writing) a range
    /// that ends past <see cref="MaxSize"/> or past 2^64, or that would be range number
    /// <see cref="MaxRanges"/> + 1; a failed write records its error.
    /// </summary>
    public CoreWriteResult Write(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_writes)
        {
            return _writesEnded ? Ended() : WriteSpan(offset, data);
        }
    }

    private CoreWriteResult WriteSpan(ulong offset, ReadOnlySpan<byte> data)
    {
        var length = (ulong)data.Length;
        if (Refuse(offset, length) is { } refused)
        {
            return refused;
        }

        if (_space is { } space && !space.TryReserve(length))
        {
            return CoreWriteResult.NoSpace;
        }

        try
        {
            _disk.Write(_handle, data, (long)offset);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastError = e.Message;
            return CoreWriteResult.Failed;
        }

        Recorded(offset, length);
        return CoreWriteResult.Written;
    }

    /// <summary>
    /// Writes a contiguous run of payloads (one <c>pwritev</c>) starting at <paramref name="offset"/>,
    /// <paramref name="length"/> bytes in all, and records the range. Same limits and errors as
    /// <see cref="Write(ulong, ReadOnlySpan{byte})"/>. The vectors are consumed.
    /// </summary>
    internal CoreWriteResult Write(ulong offset, LinuxIo.IoVec* iov, int count, ulong length)
    {
        lock (_writes)
        {
            return _writesEnded ? Ended() : WriteRun(offset, iov, count, length);
        }
    }

    private CoreWriteResult WriteRun(ulong offset, LinuxIo.IoVec* iov, int count, ulong length)
    {
        if (Refuse(offset, length) is { } refused)
        {
            return refused;
        }

        if (length == 0)
        {
            return CoreWriteResult.Written; // empty VMCOREs are valid: nothing to write
        }

        if (_space is { } space && !space.TryReserve(length))
        {
            return CoreWriteResult.NoSpace;
        }

        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            var fd = (int)_handle.DangerousGetHandle();
            var done = 0UL;
            while (count > 0)
            {
                var n = _disk.WriteVector(fd, iov, count, (long)(offset + done));
                if (n <= 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (n < 0 && errno == LinuxIo.EIntr)
                    {
                        continue;
                    }

                    LastError = n == 0 ? "short write" : Marshal.GetPInvokeErrorMessage(errno);
                    return CoreWriteResult.Failed;
                }

                done += (ulong)n;
                var left = (nuint)n;
                while (count > 0 && left >= iov->Length)
                {
                    left -= iov->Length;
                    iov++;
                    count--;
                }

                if (count > 0)
                {
                    iov->Base += left;
                    iov->Length -= left;
                }
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }

        Recorded(offset, length);
        return CoreWriteResult.Written;
    }

    /// <summary>
    /// Writes the core's own header at offset 0 (a Linux dump's ELF header: a few KiB the core
    /// cannot do without) without a reservation, so that a dump short of room still reaches
    /// netdump-nospace with a readable header; the reserve is far larger than this.
    /// </summary>
    public CoreWriteResult WriteHeader(ReadOnlySpan<byte> header)
    {
        lock (_writes)
        {
            return _writesEnded ? Ended() : WriteHeaderNow(header);
        }
    }

    private CoreWriteResult WriteHeaderNow(ReadOnlySpan<byte> header)
    {
        try
        {
            _disk.Write(_handle, header, 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LastError = e.Message;
            return CoreWriteResult.Failed;
        }

        Recorded(0, (ulong)header.Length);
        return CoreWriteResult.Written;
    }

    /// <summary>
    /// Records <paramref name="length"/> bytes at <paramref name="offset"/> as received without
    /// writing them: a page of zeros or a range the client says is not RAM, which stays a hole
    /// in the sparse file and reads as zeros once the file has its final length.
    /// </summary>
    public CoreWriteResult RecordSparse(ulong offset, ulong length)
    {
        lock (_writes)
        {
            return _writesEnded ? Ended() : RecordSparseNow(offset, length);
        }
    }

    private CoreWriteResult RecordSparseNow(ulong offset, ulong length)
    {
        if (Refuse(offset, length) is { } refused)
        {
            return refused;
        }

        lock (_lock)
        {
            _ranges.Add(offset, offset + length);
        }

        return CoreWriteResult.Written;
    }

    /// <summary>
    /// Ends the writes of a dump that stops without its pump's seal (its writer stopped by a
    /// failure or a hard stop): a write under way finishes first, and every later one is refused
    /// (so not acked), so that nothing is written, and acked, after the caller's last fsync and
    /// its report of the ranges. A normal end needs none: the pump is sealed at FINISHED, or
    /// stopped, before the writer's end.
    /// </summary>
    public void EndWrites()
    {
        lock (_writes)
        {
            _writesEnded = true;
        }
    }

    private CoreWriteResult Ended()
    {
        LastError = "the dump has ended";
        return CoreWriteResult.Failed;
    }

    /// <summary>After a write: its range, its bytes to flush, and its room no longer reserved ahead.</summary>
    private void Recorded(ulong offset, ulong length)
    {
        lock (_lock)
        {
            _ranges.Add(offset, offset + length);
        }

        Interlocked.Add(ref _unflushed, (long)length);
        _space?.Spent(length);
    }

    /// <summary>
    /// Why a write of <paramref name="length"/> bytes at <paramref name="offset"/> may not
    /// happen, or null. Called by the pump thread, the only one that adds ranges, so the count
    /// it reads cannot change before the write records its range.
    /// </summary>
    private CoreWriteResult? Refuse(ulong offset, ulong length)
    {
        if (offset > MaxSize || length > MaxSize - offset)
        {
            return CoreWriteResult.BeyondLimit;
        }

        if (_ranges.Count >= MaxRanges && length > 0)
        {
            lock (_lock)
            {
                if (!_ranges.Adjoins(offset, offset + length))
                {
                    return CoreWriteResult.TooFragmented;
                }
            }
        }

        return null;
    }
}
