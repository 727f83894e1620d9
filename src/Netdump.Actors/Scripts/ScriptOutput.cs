using System.Text;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Scripts;

/// <summary>
/// What one script run may put in the log: its stdout and stderr read in fixed chunks and cut
/// into lines, each line cleaned like any client text and cut to <see cref="MaxLineBytes"/>,
/// at most <see cref="MaxRunLines"/> lines and <see cref="MaxRunBytes"/> bytes for the run,
/// then <see cref="CutNote"/> saying how much was not logged. The pipes are drained to their
/// end whatever the limits, so a script never blocks on a full pipe and ends (or hits its
/// time limit) as it would unread; the server's memory does not depend on what it prints.
/// Both streams' pumps share one instance, on pool threads.
/// </summary>
internal sealed class ScriptOutput
{
    /// <summary>
    /// The longest line logged, in bytes of the script's output. A hook's status line fits many
    /// times over; a line longer than this is a dump of data (one unbounded line once took the
    /// server's memory to gigabytes and went whole into the log), and its start is enough to tell what.
    /// </summary>
    public const int MaxLineBytes = 1024;

    /// <summary>
    /// The most lines one run logs. Every log line costs CPU (docs/performance.md) and a screen
    /// of the operator's log; a thousand is far more than a hook has to say.
    /// </summary>
    public const int MaxRunLines = 1000;

    /// <summary>
    /// The most bytes one run logs, line ends not counted: 64 lines of the longest kind. Keeps a
    /// run's share of the log (and of a journal's rate limit) small whatever the line lengths.
    /// </summary>
    public const int MaxRunBytes = 64 * 1024;

    /// <summary>How much is read from a pipe at once: one Linux pipe buffer holds 64 KiB.</summary>
    private const int ReadBytes = 16 * 1024;

    private readonly Action<string> _logStdout;
    private readonly Action<string> _logStderr;
    private readonly object _gate = new();

    // Guarded by _gate: what the script printed, what of it reached the log, and why the rest did not.
    private long _printed;
    private long _shown;
    private int _linesLogged;
    private int _bytesLogged;
    private int _linesShortened;
    private int _linesDropped;
    private volatile bool _full; // also read outside the gate, where a stale false only costs the slow path
    private bool _closed;

    public ScriptOutput(Action<string> logStdout, Action<string> logStderr)
    {
        _logStdout = logStdout;
        _logStderr = logStderr;
    }

    public Task PumpStdoutAsync(Stream pipe) => PumpAsync(pipe, _logStdout);

    public Task PumpStderrAsync(Stream pipe) => PumpAsync(pipe, _logStderr);

    /// <summary>
    /// Ends the logging of this run: no line is logged after this, even from a pump still
    /// reading a pipe a background child holds open. Returns what was not logged, or null
    /// when everything was.
    /// </summary>
    public CutNote? Close()
    {
        lock (_gate)
        {
            _closed = true;
            return _printed == _shown ? null : new CutNote(_printed - _shown, _printed, _linesShortened, _linesDropped);
        }
    }

    /// <summary>What a run's limits kept out of the log, for the one line that says so.</summary>
    public sealed record CutNote(long BytesCut, long BytesPrinted, int LinesShortened, int LinesDropped)
    {
        public override string ToString() =>
            $"{BytesCut} of {BytesPrinted} bytes not logged ({LinesShortened} {Lines(LinesShortened)} cut to {MaxLineBytes} bytes, " +
            $"{LinesDropped} {Lines(LinesDropped)} past the limit of {MaxRunLines} lines or {MaxRunBytes} bytes per run)";

        private static string Lines(int count) => count == 1 ? "line" : "lines";
    }

    private async Task PumpAsync(Stream pipe, Action<string> logLine)
    {
        var buffer = new byte[ReadBytes];
        var line = new byte[MaxLineBytes];
        var kept = 0;
        long length = 0;
        try
        {
            int read;
            while ((read = await pipe.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_gate)
                {
                    _printed += read;
                }

                var rest = buffer.AsSpan(0, read);
                if (_full)
                {
                    // Past the run's limits nothing more is logged: the lines are only counted,
                    // at the speed of a vectorised search rather than one line at a time.
                    var ends = rest.Count((byte)'\n');
                    if (ends > 0)
                    {
                        Drop(ends);
                        length = rest.Length - 1 - rest.LastIndexOf((byte)'\n');
                    }
                    else
                    {
                        length += rest.Length;
                    }

                    continue;
                }

                while (!rest.IsEmpty)
                {
                    var end = rest.IndexOf((byte)'\n');
                    var part = end < 0 ? rest : rest[..end];
                    var room = Math.Min(part.Length, MaxLineBytes - kept);
                    part[..room].CopyTo(line.AsSpan(kept));
                    kept += room;
                    length += part.Length;
                    if (end < 0)
                    {
                        break;
                    }

                    EndLine(line.AsSpan(0, kept), length, terminated: true, logLine);
                    kept = 0;
                    length = 0;
                    rest = rest[(end + 1)..];
                }
            }

            if (length > 0)
            {
                EndLine(line.AsSpan(0, kept), length, terminated: false, logLine);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The pipe went away with the process (or was closed under a pending read after the
            // drain grace); what was read has been logged or counted.
        }
    }

    /// <summary>
    /// One line has ended: <paramref name="kept"/> holds its first bytes, <paramref name="length"/>
    /// is how long it was (its line end not counted).
    /// </summary>
    private void EndLine(ReadOnlySpan<byte> kept, long length, bool terminated, Action<string> logLine)
    {
        // A cut line ends where its last whole character does: half a character would log as U+FFFD.
        var shown = length > kept.Length ? WholeCharacters(kept) : kept;
        lock (_gate)
        {
            _full |= _closed || _linesLogged == MaxRunLines || _bytesLogged + shown.Length > MaxRunBytes;
            if (_full)
            {
                // Once full, nothing more: a short line after a dropped long one would read as if it followed it.
                _linesDropped++;
                return;
            }

            _linesLogged++;
            _bytesLogged += shown.Length;
            _shown += shown.Length + (terminated ? 1 : 0);
            if (length > shown.Length)
            {
                _linesShortened++;
            }

            // Decoded only once it is known to be logged: a script past its limits costs no
            // more than the reading. Logged under the gate, so that Close() has the last word.
            logLine(DumpReport.OneLine(Encoding.UTF8.GetString(shown)));
        }
    }

    private void Drop(int lines)
    {
        lock (_gate)
        {
            _linesDropped += lines;
        }
    }

    /// <summary><paramref name="bytes"/> without a UTF-8 sequence its end cuts in two.</summary>
    private static ReadOnlySpan<byte> WholeCharacters(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: its lead is further back
            }

            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? bytes[..^back] : bytes;
        }

        return bytes;
    }
}
