using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The dump's <c>log</c>: the client's recent console text, then what it prints during the dump,
/// placed by stream offset; after the memory, SHOW_STATE and its task list until the console is
/// quiet for <see cref="QuietTime"/>.
/// </summary>
internal sealed partial class LinuxPull
{
    /// <summary>How long the console must stay quiet after SHOW_STATE before the dump is closed.</summary>
    /// <remarks>
    /// The kernel prints the task list before it answers SHOW_STATE, and netconsole sends each
    /// line as it is printed: what is still on its way after the answer arrives within a LAN's
    /// round trips. Every new line starts the wait again.
    /// </remarks>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(500);

    /// <summary>SHOW_STATE is resent only after this long without its answer or console text (each one prints the whole task list).</summary>
    internal static readonly TimeSpan ShowStateTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The longest the console is collected after SHOW_STATE, however much it talks.</summary>
    internal static readonly TimeSpan ShowStateDeadline = TimeSpan.FromSeconds(30);

    /// <summary>How often SHOW_STATE is sent before the server closes the dump without its answer.</summary>
    internal const int ShowStateSends = 3;

    private ConsoleLogFile? _log;
    private long _showStateAt;

    /// <summary>The memory is final: ask for the task list, into the log.</summary>
    public void ShowState()
    {
        lock (_lock)
        {
            if (_phase == Phase.Pulling)
            {
                _phase = Phase.ShowingState;
                _lastLog = _showStateAt = Environment.TickCount64;
                Ask(LinuxCommand.ShowState, 0);
            }
        }
    }

    /// <summary>Console text during the dump, placed by its stream offset; false when this pull takes no more text.</summary>
    public bool Log(uint offset, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            if (_log is null)
            {
                return false;
            }

            try
            {
                if (_log.Write(offset, text) && _phase == Phase.ShowingState)
                {
                    // the task list SHOW_STATE asked for: text that moves the stream on is the
                    // client alive and answering (until ShowStateDeadline at most). Not during the
                    // pull: console text is matched by address only (netconsole sends it from its
                    // own port, 6664, not the START's), so anyone can send it again and again, and
                    // a dead client would keep its dump and its slot; only answers count there
                    _lastLog = Environment.TickCount64;
                    Interlocked.Exchange(ref _lastPacket, _lastLog);
                }
            }
            catch (IOException)
            {
                // the log is the dump's companion: a write error costs its text, not the dump
            }

            return true;
        }
    }

    /// <summary>
    /// A startup line from the client's address (<c>[...network console startup...]</c>): while
    /// its memory is pulled its console is silent, so the client booted again, and what it prints
    /// from now on is its new boot's, for its console file, not this dump's log, which ends here
    /// (the dump, whose client will answer no more, ends at its timeout); true then. Not while
    /// the task list SHOW_STATE asked for streams in: the client is answering, and the line is
    /// someone else's.
    /// </summary>
    public bool ClientBooted()
    {
        lock (_lock)
        {
            if (_phase is not (Phase.Acking or Phase.Querying or Phase.Described or Phase.Pulling))
            {
                return false;
            }

            _log?.Dispose();
            _log = null;
            return true;
        }
    }

    private void OpenLog(string path)
    {
        try
        {
            var (recent, next) = _port.RecentConsole(Client.Address);
            _log = ConsoleLogFile.Create(path, recent, next);
        }
        catch (IOException)
        {
            _log = null; // no log: the dump goes on without the console text
        }
    }
}
