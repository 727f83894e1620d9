using System.Runtime.InteropServices;

namespace Netdump.Actors.Storage;

/// <summary>
/// The few POSIX calls .NET does not expose: fsync of a directory (so a rename survives a
/// crash), an exclusive <c>mkdir</c> with a mode (so a name collision is seen atomically),
/// a <c>rename</c> that moves a symlink itself and never replaces a directory,
/// <c>realpath</c>, and the free space an unprivileged writer may use.
/// </summary>
public static unsafe partial class FileSystemSync
{
    private const string LibC = "libc";

    // These errno values are the same on Linux, FreeBSD and macOS.
    private const int ENOENT = 2;
    private const int EINTR = 4;
    private const int EEXIST = 17;
    private const int ENOTDIR = 20;

    private const int ORdOnly = 0;

    /// <summary>
    /// Opens the directory read-only, fsyncs it and closes it, so that entries created or
    /// renamed in it are durable. Throws <see cref="IOException"/> with the errno text.
    /// </summary>
    public static void FsyncDirectory(string path)
    {
        RejectNul(path);
        var fd = Open(path, ORdOnly | DirectoryFlag | CloseOnExecFlag);
        if (fd < 0)
        {
            throw LastError("cannot open directory", path);
        }

        try
        {
            while (Fsync(fd) != 0)
            {
                if (Marshal.GetLastPInvokeError() != EINTR)
                {
                    throw LastError("cannot fsync directory", path);
                }
            }
        }
        finally
        {
            // On Linux a failed close has still released the descriptor: never retry it.
            _ = Close(fd);
        }
    }

    /// <summary>
    /// <c>mkdir(path, mode)</c>: true when this call created the directory, false when the name
    /// already exists (EEXIST), <see cref="IOException"/> with the errno text otherwise. The
    /// process umask still applies to <paramref name="mode"/>.
    /// </summary>
    public static bool MakeDirectory(string path, int mode)
    {
        RejectNul(path);
        if (MkDir(path, (uint)mode) == 0)
        {
            return true;
        }

        if (Marshal.GetLastPInvokeError() == EEXIST)
        {
            return false;
        }

        throw LastError("cannot create directory", path);
    }

    /// <summary>
    /// Bytes available to an unprivileged user on the file system holding
    /// <paramref name="path"/>: <c>f_bavail * f_frsize</c> from <c>statvfs</c>, as
    /// <c>df</c> reports it.
    /// </summary>
    public static ulong AvailableBytes(string path)
    {
        RejectNul(path);
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
        {
            // DriveInfo goes through statfs/statvfs too; only the 64-bit glibc layout below is
            // known here for certain.
            return (ulong)new DriveInfo(path).AvailableFreeSpace;
        }

        // 64-bit glibc (x86_64 and aarch64 share the generic layout): f_bsize, f_frsize,
        // f_blocks, f_bfree, f_bavail, ... each 8 bytes. sizeof(struct statvfs) is 112; the
        // buffer is larger so that a longer struct could never overrun it.
        const int FrsizeOffset = 8;
        const int BavailOffset = 32;
        var buffer = stackalloc byte[256];
        if (StatVfs(path, buffer) != 0)
        {
            throw LastError("cannot statvfs", path);
        }

        var frsize = *(ulong*)(buffer + FrsizeOffset);
        var bavail = *(ulong*)(buffer + BavailOffset);
        if (frsize == 0)
        {
            frsize = *(ulong*)buffer;
        }

        return bavail > ulong.MaxValue / Math.Max(frsize, 1) ? ulong.MaxValue : bavail * frsize;
    }

    /// <summary>
    /// <c>realpath(3)</c>: the absolute path with every symlink, "." and ".." resolved, or null
    /// when it cannot be resolved; <paramref name="error"/> then says why (errno text), and
    /// <paramref name="missing"/> whether a component does not exist or is not a directory.
    /// </summary>
    internal static string? RealPath(string path, out string? error, out bool missing)
    {
        RejectNul(path);
        var resolved = RealPathNative(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            var errno = Marshal.GetLastPInvokeError();
            error = Marshal.GetPInvokeErrorMessage(errno);
            missing = errno is ENOENT or ENOTDIR;
            return null;
        }

        try
        {
            error = null;
            missing = false;
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    /// <summary>
    /// <c>rename(2)</c>: atomically replaces whatever non-directory is at <paramref name="to"/>,
    /// and moves a symlink as the link itself. Throws <see cref="IOException"/> with the errno
    /// text (a directory at <paramref name="to"/> is refused, not replaced).
    /// </summary>
    public static void Rename(string from, string to)
    {
        RejectNul(from);
        RejectNul(to);
        if (RenameNative(from, to) != 0)
        {
            throw LastError($"cannot rename \"{from}\" to", to);
        }
    }

    private static int DirectoryFlag =>
        OperatingSystem.IsLinux()
            ? RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 or Architecture.X86 => 0x10000, // 0200000
                Architecture.Arm64 or Architecture.Arm => 0x4000, // 040000
                _ => 0, // unknown value here: open without it, fsync works the same
            }
            : OperatingSystem.IsFreeBSD() ? 0x20000
            : OperatingSystem.IsMacOS() ? 0x100000
            : 0;

    private static int CloseOnExecFlag =>
        OperatingSystem.IsLinux() ? 0x80000
        : OperatingSystem.IsFreeBSD() ? 0x100000
        : OperatingSystem.IsMacOS() ? 0x1000000
        : 0;

    private static void RejectNul(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0'))
        {
            throw new ArgumentException("path contains a NUL character", nameof(path));
        }
    }

    private static IOException LastError(string what, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what} \"{path}\": {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    // open(2) is variadic; without O_CREAT the mode argument is never read, and on the
    // supported ABIs two fixed arguments are passed exactly as the variadic call would pass them.
    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport(LibC, EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport(LibC, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MkDir(string path, uint mode);

    [LibraryImport(LibC, EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatVfs(string path, byte* buffer);

    [LibraryImport(LibC, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPathNative(string path, IntPtr resolved);

    [LibraryImport(LibC, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string from, string to);

    [LibraryImport(LibC, EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);
}
