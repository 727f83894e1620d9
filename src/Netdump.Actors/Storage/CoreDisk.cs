using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>
/// The disk operations a dump's core goes through: positional writes, vectored writes and
/// fsync, and the fsync of the directories that hold it. <see cref="Real"/> is the file system; tests derive from it to inject write errors
/// and fsync failures where a real disk cannot be made to fail on demand.
/// </summary>
public class CoreDisk
{
    public static readonly CoreDisk Real = new();

    public virtual void Write(SafeFileHandle file, ReadOnlySpan<byte> data, long offset) => RandomAccess.Write(file, data, offset);

    /// <summary><c>pwritev</c>: bytes written, or -1 with the errno in <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.</summary>
    internal virtual unsafe nint WriteVector(int fd, LinuxIo.IoVec* iov, int count, long offset) => LinuxIo.pwritev(fd, iov, count, offset);

    public virtual void FlushToDisk(SafeFileHandle file) => RandomAccess.FlushToDisk(file);

    /// <summary>
    /// Makes a file written and closed by someone else durable, by its name: opened as a
    /// regular file only (<see cref="RegularFile"/>: never through a link, never waiting on a
    /// FIFO left under its name). <see cref="FileNotFoundException"/> when there is none,
    /// <see cref="IOException"/> on any other failure.
    /// </summary>
    public virtual void FsyncFile(string path)
    {
        using var file = RegularFile.OpenRead(path);
        RandomAccess.FlushToDisk(file);
    }

    /// <summary>Makes the entries of a directory durable; <see cref="IOException"/> on failure.</summary>
    public virtual void FsyncDirectory(string path) => FileSystemSync.FsyncDirectory(path);
}
