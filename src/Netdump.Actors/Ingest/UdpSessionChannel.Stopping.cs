using System.Net.Sockets;

namespace Netdump.Actors.Ingest;

/// <summary>
/// How a session channel stops: the pump woken, and the socket closed once no pump uses it, so
/// that no engine ever reads, writes or acks through a closed or reused descriptor.
/// </summary>
public sealed partial class UdpSessionChannel
{
    public void Stop(Action stopped) => StopPump(stopped);

    public void Dispose() => StopPump(null);

    /// <summary>
    /// Wakes the pump and closes the socket once no pump uses it: at once, or as the pump leaves
    /// (a pump inside a write on a slow disk keeps the descriptor, so no engine ever uses a
    /// closed or reused one). Only the first call counts: the session ends a dump with
    /// <see cref="Stop(Action)"/>, then disposes the channel again when it stops.
    /// </summary>
    private void StopPump(Action? stopped)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            _whenStopped = stopped;
        }

        _ports.Closed(this);

        if (_registration is not null)
        {
            _registeredIn!.Unregister(_registration); // after this the shared pump never touches the socket
        }

        try
        {
            // wakes a receive call blocked in the pump at once (Linux ends it with no data)
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (SocketException)
        {
        }

        lock (_gate)
        {
            if (_pumpRunning && _pumpThread != Thread.CurrentThread)
            {
                _closeWhenPumpLeaves = true;
                return;
            }
        }

        Close();
    }

    /// <summary>The pump's last act: closes the socket if it was stopped while the pump ran.</summary>
    private void PumpLeft()
    {
        lock (_gate)
        {
            _pumpRunning = false;
            if (!_closeWhenPumpLeaves)
            {
                return;
            }
        }

        Close();
    }

    private void Close()
    {
        _socket.Dispose();
        _whenStopped?.Invoke();
    }
}
