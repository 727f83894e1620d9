using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Netdump.Actors.Native;

namespace Netdump.Actors.Ingest;

/// <summary>
/// One receive thread for every session socket (<c>ingest_engine = epoll</c>), the C
/// reference's design: <c>epoll_wait</c>, then each ready socket drained with
/// <c>recvmmsg(MSG_DONTWAIT)</c> through the same <see cref="BatchedReceiveEngine"/> step and
/// <see cref="SessionPacketHandler"/>, so one wake-up serves every client that has data instead
/// of one thread waking per session. Owned by the listener; sessions register their socket.
/// </summary>
internal sealed unsafe class EpollPump : IDisposable
{
    private const int MaxEvents = 64;
    private readonly int _epoll;
    // written once by Dispose: the thread waits without a timeout, and this wakes it to stop
    private readonly int _wake;
    private readonly ConcurrentDictionary<int, Registration> _registrations = new();
    private readonly Thread _thread;
    private readonly object _lifecycle = new();
    private volatile bool _stopping;
    private bool _disposed;

    public EpollPump()
    {
        _epoll = LinuxIo.epoll_create1(LinuxIo.EpollCloexec);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        _wake = LinuxIo.eventfd(0, LinuxIo.EfdCloexec);
        var failed = _wake < 0 ? "eventfd" : Watch(_wake) ? null : "epoll_ctl";
        if (failed is not null)
        {
            var error = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            if (_wake >= 0)
            {
                LinuxIo.close(_wake);
            }

            LinuxIo.close(_epoll);
            throw new IOException($"{failed}: {error}");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "session-pump" };
        _thread.Start();
    }

    /// <summary>A session socket in the pump; the gate keeps it from being closed mid-drain.</summary>
    public sealed class Registration(int fd, SessionPacketHandler handler)
    {
        public int Fd { get; } = fd;
        public SessionPacketHandler Handler { get; } = handler;
        public object Gate { get; } = new();
        public bool Closed { get; set; }
    }

    /// <summary>How many sockets the pump serves.</summary>
    internal int Count => _registrations.Count;

    /// <summary>Whether its thread is still alive.</summary>
    internal bool Running => _thread.IsAlive;

    /// <summary>Adds a socket; <see cref="IOException"/> when the kernel refuses or the pump is disposed.</summary>
    public Registration Register(Socket socket, SessionPacketHandler handler)
    {
        var fd = (int)socket.Handle;
        var registration = new Registration(fd, handler);
        lock (_lifecycle)
        {
            if (_disposed)
            {
                throw new IOException("the pump is stopped");
            }

            _registrations[fd] = registration;
            if (!Watch(fd))
            {
                _registrations.TryRemove(fd, out _);
                throw new IOException($"epoll_ctl: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }

        return registration;
    }

    /// <summary>Takes a socket out; once this returns the pump will not touch it again, so it may be closed.</summary>
    public void Unregister(Registration registration)
    {
        lock (registration.Gate)
        {
            registration.Closed = true;
        }

        Remove(registration);
    }

    /// <summary>Out of the epoll set and the table; nothing once the pump is disposed (its epoll descriptor is closed).</summary>
    private void Remove(Registration registration)
    {
        lock (_lifecycle)
        {
            if (!_disposed)
            {
                var ev = stackalloc byte[16];
                LinuxIo.epoll_ctl(_epoll, LinuxIo.EpollCtlDel, registration.Fd, ev);
            }

            _registrations.TryRemove(new KeyValuePair<int, Registration>(registration.Fd, registration));
        }
    }

    /// <summary>Adds a descriptor to the epoll set for reading, its number as the event's data.</summary>
    private bool Watch(int fd)
    {
        var ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(ev, 4), LinuxIo.EpollIn);
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(ev + LinuxIo.EpollDataOffset, 4), fd);
        return LinuxIo.epoll_ctl(_epoll, LinuxIo.EpollCtlAdd, fd, ev) == 0;
    }

    private void Run()
    {
        using var engine = new BatchedReceiveEngine();
        var size = LinuxIo.EpollEventSize;
        var events = (byte*)NativeMemory.AllocZeroed((nuint)(MaxEvents * size));
        try
        {
            while (!_stopping)
            {
                // no timeout: an idle pump sleeps until a socket has data or Dispose wakes it
                var ready = LinuxIo.epoll_wait(_epoll, events, MaxEvents, -1);
                for (var i = 0; i < ready; i++)
                {
                    var fd = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(events + i * size + LinuxIo.EpollDataOffset, 4));
                    if (_registrations.TryGetValue(fd, out var registration))
                    {
                        Drain(engine, registration);
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    private void Drain(BatchedReceiveEngine engine, Registration registration)
    {
        lock (registration.Gate)
        {
            if (registration.Closed)
            {
                return;
            }

            try
            {
                int count;
                do
                {
                    count = engine.ReceiveBatch(registration.Fd, registration.Handler, LinuxIo.MsgDontWait, () => false);
                }
                while (count == BatchedReceiveEngine.BatchSize);

                if (count < 0 && !LinuxIo.IsTransient(-count))
                {
                    Fail(registration, $"recvmmsg: {Marshal.GetPInvokeErrorMessage(-count)}");
                }
            }
            catch (Exception e)
            {
                // one session's failure ends that session's dump, never the pump
                Fail(registration, e.Message);
            }
        }
    }

    /// <summary>
    /// A socket that failed leaves the epoll set at once: it may stay readable for ever, and
    /// epoll reports a readable socket on every wait (the session unregisters it later).
    /// </summary>
    private void Fail(Registration registration, string reason)
    {
        registration.Closed = true;
        Remove(registration);
        registration.Handler.Faulted(reason);
    }

    /// <summary>
    /// Stops the thread and closes the epoll descriptor. Sessions still registered (a listener
    /// restarting stops its sessions without waiting for them) are left alone: registering
    /// afterwards fails with <see cref="IOException"/>, and unregistering does nothing.
    /// </summary>
    public void Dispose()
    {
        _stopping = true;
        lock (_lifecycle)
        {
            if (!_disposed)
            {
                // cannot fail: the counter goes from 0 to 1 once, on an open descriptor
                ulong one = 1;
                LinuxIo.write(_wake, (byte*)&one, sizeof(ulong));
            }
        }

        _thread.Join(TimeSpan.FromSeconds(2));
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            LinuxIo.close(_epoll);
            LinuxIo.close(_wake);
        }
    }
}
