using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>
/// Who is using a core, told by flock(2), across processes: the writer holds a shared lock while
/// it receives, the compressor and the decryptor while they copy; a scan that would take a dump
/// away (retention, the recovery scan) takes the exclusive lock without waiting first, and
/// leaves a core it cannot lock alone. Explicit, because .NET's own locks on open are off here
/// (<c>System.IO.DisableFileLocking</c>: a flock on every file the server opens cost every dump;
/// docs/performance.md), so a <c>FileShare</c> says nothing to another opener.
/// </summary>
internal static class CoreLock
{
    /// <summary>Takes a shared lock on an open core, waiting for a scan that holds it for a moment; false where flock is not available.</summary>
    public static bool Share(SafeFileHandle handle) => Lock(handle, LinuxIo.LockShared);

    /// <summary>Takes the exclusive lock without waiting: false when a writer or a copy holds the core.</summary>
    public static bool TryExclusive(SafeFileHandle handle) => Lock(handle, LinuxIo.LockExclusive | LinuxIo.LockNonBlocking);

    private static bool Lock(SafeFileHandle handle, int operation)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true; // elsewhere FileShare's own locks stand in
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return LinuxIo.flock((int)handle.DangerousGetHandle(), operation) == 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
