using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>The real disk, recording each fsync in order ("core", or "dir " and the path); a directory fsync can be made to fail.</summary>
internal sealed class RecordingDisk : CoreDisk
{
    public ConcurrentQueue<string> Fsyncs { get; } = new();

    public volatile bool FailDirectoryFsync;

    public override void FlushToDisk(SafeFileHandle file)
    {
        base.FlushToDisk(file);
        Fsyncs.Enqueue("core");
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
