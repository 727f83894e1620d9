using System.Buffers;

namespace Netdump.Actors.Storage;

/// <summary>
/// A Linux dump's <c>log</c> as it is written: the client's recent console text (copied from
/// its console file when the dump starts), then the console stream during the dump, each
/// packet placed by its stream offset, so duplicates and reordering cost nothing (SPEC §7).
/// The stream's offsets are the client's since its boot; where the copied text ends in them is
/// what the console file knew (<c>next</c>), and may be stale: when the client booted again and
/// the packet that said so was lost, the copied text is the old boot's. So text that seems to
/// precede the dump's own is compared with the copied text it would repeat: the same bytes are a
/// duplicate; other bytes are either the client's new stream (none of the dump's own text yet:
/// it starts right after the copied text) or a packet that came out of order (the dump's own
/// text moves up to make room). Not thread-safe: its pull's lock guards it.
/// </summary>
internal sealed class ConsoleLogFile : IDisposable
{
    public const string FileName = "log";

    /// <summary>The most console text a dump's log takes.</summary>
    public const long MaxBytes = 16 << 20;

    /// <summary>
    /// The most of the dump's own text that is moved to make room for a packet that came before
    /// it out of order (reordering happens within a few packets, at the dump's start).
    /// </summary>
    public const int MaxMoved = 1 << 20;

    private readonly FileStream _file;
    private readonly byte[] _copied;
    private long? _base; // the stream offset at file position _copied.Length; unknown until the first packet
    private long _end;

    private ConsoleLogFile(FileStream file, byte[] copied, long next)
    {
        _file = file;
        _copied = copied;
        _end = copied.Length;
        // without copied text (or after a restart of the server, the stream's position unknown)
        // the first packet sets it
        _base = copied.Length > 0 && next > 0 ? next : null;
    }

    /// <summary>Creates <paramref name="path"/> with the copied text; throws <see cref="IOException"/>.</summary>
    public static ConsoleLogFile Create(string path, byte[] copied, long next)
    {
        var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            file.Write(copied);
            return new ConsoleLogFile(file, copied, next);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Places console text at its stream offset; true when it wrote text (a repeat of the dump's
    /// own text is written again in place, the same bytes; a repeat of the copied text and text
    /// past <see cref="MaxBytes"/> are not). Throws <see cref="IOException"/> on a write error.
    /// </summary>
    public bool Write(uint offset, ReadOnlySpan<byte> text)
    {
        long at = offset;
        var streamBase = _base ??= at;
        if (at < streamBase)
        {
            var before = (int)Math.Min(streamBase - at, text.Length); // the part that would precede the dump's own text
            if (RepeatsCopied(at, streamBase, text[..before]))
            {
                text = text[before..];
                at += before;
            }
            else if (_end == _copied.Length)
            {
                _base = at; // not the copied text's stream: the client's new one starts after it
            }
            else if (!MakeRoom(streamBase - at))
            {
                return false;
            }
        }

        if (text.IsEmpty)
        {
            return false;
        }

        var position = _copied.Length + (at - _base.Value);
        if (position + text.Length > MaxBytes)
        {
            return false;
        }

        RandomAccess.Write(_file.SafeFileHandle, text, position);
        _end = Math.Max(_end, position + text.Length);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="part"/>, at stream offset <paramref name="at"/> before the dump's
    /// own text, is the copied text again. Text older than all the copied text is not: netconsole
    /// never sends text again, so text that far back is a new stream's.
    /// </summary>
    private bool RepeatsCopied(long at, long streamBase, ReadOnlySpan<byte> part)
    {
        var position = _copied.Length - (streamBase - at);
        return position >= 0 && _copied.AsSpan((int)position, part.Length).SequenceEqual(part);
    }

    /// <summary>
    /// Moves the dump's own text <paramref name="by"/> bytes up, zeros where it was, and lowers the
    /// base by as much; false when that would move too much or pass <see cref="MaxBytes"/>.
    /// </summary>
    private bool MakeRoom(long by)
    {
        var own = _end - _copied.Length;
        if (own > MaxMoved || _end + by > MaxBytes)
        {
            return false;
        }

        var handle = _file.SafeFileHandle;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(own, by));
        try
        {
            var moved = buffer.AsSpan(0, (int)own);
            RandomAccess.Read(handle, moved, _copied.Length);
            RandomAccess.Write(handle, moved, _copied.Length + by);
            var gap = buffer.AsSpan(0, (int)Math.Min(by, own));
            gap.Clear();
            RandomAccess.Write(handle, gap, _copied.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _base -= by;
        _end += by;
        return true;
    }

    /// <summary>Makes the log durable (it is final).</summary>
    public void Flush() => _file.Flush(flushToDisk: true);

    public void Dispose() => _file.Dispose();
}
