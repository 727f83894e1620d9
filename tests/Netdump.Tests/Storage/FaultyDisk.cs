using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>
/// A disk that fails on demand (writes at or past an offset fail with EIO; a core fsync, a
/// file's fsync by name or a directory fsync can fail) and records every fsync that succeeded,
/// in order ("core", or "file " or "dir " and the path).
/// </summary>
internal sealed class FaultyDisk : CoreDisk
{
    private const int EIO = 5;

    public long FailWritesFrom { get; set; } = long.MaxValue;

    public volatile bool FailFsync;

    public volatile bool FailDirectoryFsync;

    public volatile bool FailFileFsync;

    public ConcurrentQueue<string> Fsyncs { get; } = new();

    public override void Write(SafeFileHandle file, ReadOnlySpan<byte> data, long offset)
    {
        if (offset + data.Length > FailWritesFrom)
        {
            throw new IOException("Input/output error");
        }

        base.Write(file, data, offset);
    }

    internal override unsafe nint WriteVector(int fd, LinuxIo.IoVec* iov, int count, long offset)
    {
        long length = 0;
        for (var i = 0; i < count; i++)
        {
            length += (long)iov[i].Length;
        }

        if (offset + length > FailWritesFrom)
        {
            Marshal.SetLastPInvokeError(EIO);
            return -1;
        }

        return base.WriteVector(fd, iov, count, offset);
    }

    public override void FlushToDisk(SafeFileHandle file)
    {
        if (FailFsync)
        {
            throw new IOException("Input/output error");
        }

        base.FlushToDisk(file);
        Fsyncs.Enqueue("core");
    }

    public override void FsyncFile(string path)
    {
        if (FailFileFsync)
        {
            throw new IOException("Input/output error");
        }

        base.FsyncFile(path);
        Fsyncs.Enqueue("file " + path);
    }

    public override void FsyncDirectory(string path)
    {
        if (FailDirectoryFsync)
        {
            throw new IOException("Input/output error");
        }

        base.FsyncDirectory(path);
        Fsyncs.Enqueue("dir " + path);
    }
}
