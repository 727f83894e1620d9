using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Netdump.App.Daemon;

/// <summary>
/// An exclusive lock on a whole file, held from <see cref="TryAcquire"/> until <see cref="Dispose"/>
/// or the end of the process: the kernel drops it with the last descriptor, so a server that
/// was killed holds nothing and its pid, even if the system has given it to another program,
/// blocks no start. The descriptor is close-on-exec, so no script inherits the lock, and the
/// re-executed daemon (<see cref="Daemonizer"/>) takes its own: nothing forks while it is held.
/// <para>
/// It is an open file description lock (fcntl F_OFD_SETLK, "OFDLCK" in /proc/locks), not a
/// flock(2): .NET takes a shared flock whenever it opens a file (File.ReadAllText included), so
/// an exclusive flock would make every .NET reader of a pidfile fail; and unlike a classic
/// fcntl lock it is not dropped when some other descriptor of the same file is closed.
/// </para>
/// </summary>
internal sealed class FileLock : IDisposable
{
    private readonly FileStream _file;

    private FileLock(FileStream file) => _file = file;

    /// <summary>
    /// Opens <paramref name="path"/> (creating it with <paramref name="mode"/>; with
    /// <paramref name="createNew"/> only a new file) and locks it. Null when another process
    /// holds the lock; <see cref="IOException"/> with the reason when the file cannot be opened
    /// or locked at all.
    /// </summary>
    public static FileLock? TryAcquire(string path, UnixFileMode mode, bool createNew = false)
    {
        var flags = Posix.ORdWr | Posix.OCreat | Posix.OCloExec | (createNew ? Posix.OExcl : 0);
        var fd = Posix.Open(path, flags, (int)mode);
        if (fd < 0)
        {
            throw Posix.LastError($"cannot open {path}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var region = new Posix.FileRegionLock { Type = Posix.FWriteLock };
        if (Posix.Fcntl(fd, Posix.FOfdSetLock, ref region) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            handle.Dispose();
            return error is Posix.EWOULDBLOCK or Posix.EACCES
                ? null
                : throw new IOException($"cannot lock {path}: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        return new FileLock(new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0));
    }

    /// <summary>
    /// Whether some process holds the lock on the file at <paramref name="path"/>; false when
    /// there is no such file. Throws <see cref="IOException"/> when it cannot be told.
    /// </summary>
    public static bool IsHeld(string path)
    {
        var fd = Posix.Open(path, Posix.OCloExec, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError() == Posix.ENOENT ? false : throw Posix.LastError($"cannot open {path}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);

        // Asks whether a write lock could be had, without taking one: F_UNLCK means nobody holds it.
        var region = new Posix.FileRegionLock { Type = Posix.FWriteLock };
        if (Posix.Fcntl(fd, Posix.FOfdGetLock, ref region) != 0)
        {
            throw Posix.LastError($"cannot test the lock on {path}");
        }

        return region.Type != Posix.FUnlock;
    }

    /// <summary>Replaces the file's content with <paramref name="pid"/> and a newline, on disk before it returns.</summary>
    public void WritePid(int pid)
    {
        _file.SetLength(0);
        _file.Position = 0;
        _file.Write(Encoding.ASCII.GetBytes(pid.ToString(CultureInfo.InvariantCulture) + "\n"));
        _file.Flush(flushToDisk: true);
    }

    /// <summary>Releases the lock (closing the file). The file itself stays.</summary>
    public void Dispose() => _file.Dispose();
}
