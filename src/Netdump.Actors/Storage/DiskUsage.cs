using System.Runtime.InteropServices;

namespace Netdump.Actors.Storage;

/// <summary>
/// The bytes a file takes on disk (<c>st_blocks</c> × 512 from <c>lstat</c>, as <c>du</c>
/// counts them), not its length: a core with holes (a dump cut short, a Linux dump's zero
/// pages) takes far less than its length says, and <c>max_total</c> is about the disk.
/// </summary>
internal static unsafe partial class DiskUsage
{
    public static ulong Of(FileSystemInfo file)
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
        {
            // only the 64-bit glibc layout below is known here for certain
            return file is FileInfo f ? (ulong)f.Length : 0;
        }

        // 64-bit glibc, x86_64 and aarch64 alike: st_blocks (512-byte units) at offset 64;
        // sizeof(struct stat) is 144 at most, the buffer larger so it could never overrun
        const int BlocksOffset = 64;
        var buffer = stackalloc byte[256];
        if (LStat(file.FullName, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot lstat \"{file.FullName}\": {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }

        return *(ulong*)(buffer + BlocksOffset) * 512;
    }

    [LibraryImport("libc", EntryPoint = "lstat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LStat(string path, byte* buffer);
}
