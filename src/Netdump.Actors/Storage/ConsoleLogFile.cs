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
/// text moves up to make room). Until the dump's own text passes <see cref="MaxMoved"/> it is
/// held in memory, where making room moves nothing in the file: the packets come on the Linux
/// port's thread, which serves every Linux client, and a move of the file's text there, for
/// each packet a spoofer of the client's address sent ever further back, read and wrote up to
/// 1 MiB each time. It is written out in one piece once it passes that size or the log ends.
/// Not thread-safe: its pull's lock guards it.
/// </summary>
internal sealed class ConsoleLogFile : IDisposable
{
    public const string FileName = "log";

    /// <summary>The most console text a dump's log takes.</summary>
    public const long MaxBytes = 16 << 20;

    /// <summary>
    /// Room is made before the dump's own text for a packet that came before it out of order
    /// (reordering happens within a few packets, at the dump's start) while that text is at
    /// most this long; so long it is held in memory.
    /// </summary>
    public const int MaxMoved = 1 << 20;

    private readonly FileStream _file;
    private readonly byte[] _copied;
    private long? _base; // the stream offset at file position _copied.Length; unknown until the first packet
    private long _end;

    /// <summary>
    /// The dump's own text while room may still be made before it, at <c>_held[_front..]</c>
    /// (file position <c>_copied.Length</c> onwards); null once it is in the file. Every other
    /// byte of the array is zero: room made before the text is zeros where nothing came.
    /// </summary>
    private byte[]? _held = [];
    private int _front;

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

    /// <summary>The dump's own text so far: from the end of the copied text to the end of the log.</summary>
    private long Own => _end - _copied.Length;

    /// <summary>
    /// Places console text at its stream offset; true when the log grew by it: text past its end,
    /// or before all the dump's own text (room made for it). False for text within what the log
    /// holds already: a repeat of the dump's own text (written again in place, the same bytes) or
    /// a piece of a gap that reordering left (written, but the stream had moved past it already);
    /// false too for a repeat of the copied text and text past <see cref="MaxBytes"/> (not
    /// written). Whether the client is alive is read from this: a repeat is no sign of it, as a
    /// packet anyone can send again and again. Throws <see cref="IOException"/> on a write error.
    /// </summary>
    public bool Write(uint offset, ReadOnlySpan<byte> text)
    {
        var end = _end;
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

        if (_held is not null && position + text.Length - _copied.Length > MaxMoved)
        {
            WriteHeld(0); // past the size room is made for: the text goes to the file from now on
        }

        if (_held is null)
        {
            RandomAccess.Write(_file.SafeFileHandle, text, position);
        }
        else
        {
            Hold((int)(position - _copied.Length), text);
        }

        _end = Math.Max(_end, position + text.Length);
        return _end > end;
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
    /// base by as much; false when that would move too much or pass <see cref="MaxBytes"/>. In
    /// memory: the held text gets zeros before it, taken from the room kept there (as much again
    /// as the text, when there is too little: a run of small moves copies it rarely). Text that
    /// the move takes past <see cref="MaxMoved"/> goes to the file at its new place, once.
    /// </summary>
    private bool MakeRoom(long by)
    {
        var own = Own;
        if (_held is null || own > MaxMoved || _end + by > MaxBytes)
        {
            return false;
        }

        if (own + by > MaxMoved)
        {
            WriteHeld(by);
        }
        else if (_front >= by)
        {
            _front -= (int)by;
        }
        else
        {
            var moved = (int)(own + by);
            var held = new byte[2 * moved];
            _held.AsSpan(_front, (int)own).CopyTo(held.AsSpan(moved + (int)by));
            _held = held;
            _front = moved;
        }

        _base -= by;
        _end += by;
        return true;
    }

    /// <summary>Holds <paramref name="text"/> at <paramref name="at"/> bytes into the dump's own text, the array grown (by doubling) when it ends short.</summary>
    private void Hold(int at, ReadOnlySpan<byte> text)
    {
        var needed = _front + at + text.Length;
        if (needed > _held!.Length)
        {
            var held = new byte[Math.Max(needed, Math.Min(2 * _held.Length, _front + MaxMoved))];
            _held.CopyTo(held, 0);
            _held = held;
        }

        text.CopyTo(_held.AsSpan(_front + at));
    }

    /// <summary>The held text into the file, <paramref name="by"/> bytes further up than it stood; no more is held. Throws <see cref="IOException"/>.</summary>
    private void WriteHeld(long by)
    {
        var held = _held;
        _held = null; // on a write error too: the text is lost, as a packet's would be
        if (held is not null && Own > 0)
        {
            RandomAccess.Write(_file.SafeFileHandle, held.AsSpan(_front, (int)Own), _copied.Length + by);
        }
    }

    /// <summary>
    /// The held text written and the file closed, not synced: it is synced by name with the core
    /// (<c>DumpWriterActor</c>), on a disk thread.
    /// </summary>
    public void Dispose()
    {
        WriteHeldQuietly();
        _file.Dispose();
    }

    /// <summary>The log is the dump's companion: a write error costs its text, not the dump.</summary>
    private void WriteHeldQuietly()
    {
        try
        {
            WriteHeld(0);
        }
        catch (IOException)
        {
        }
    }
}
