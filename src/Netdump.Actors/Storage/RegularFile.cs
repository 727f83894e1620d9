using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>
/// Reading what a dump directory holds as regular files only. Anyone who can write there (root,
/// the server's own user, a careless script) can leave a FIFO, a device or a socket under a
/// dump's file name; opening a FIFO for reading waits for a writer that never comes, which held
/// the start-up scan (a FIFO named <c>dump.json</c>) and an HTTP request thread (a FIFO served
/// as a file) for good, and a device like <c>/dev/zero</c> reads without end. So a file is opened
/// without waiting (O_NONBLOCK, which a regular file's reads ignore) and without following a
/// link, and is refused unless the opened file is a regular file.
/// </summary>
public static unsafe class RegularFile
{
    /// <summary>
    /// Opens <paramref name="path"/> for reading. Throws <see cref="IOException"/> when it is not
    /// a regular file (saying what it is) or cannot be opened, as File.OpenHandle would.
    /// </summary>
    public static SafeFileHandle OpenRead(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }

        var fd = LinuxIo.open(path, LinuxIo.ORdOnly | LinuxIo.ONonBlock | LinuxIo.ONoFollow | LinuxIo.OCloExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2)
            {
                throw new FileNotFoundException($"Could not find file '{path}'.", path);
            }

            throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var type = TypeOf(fd, "", LinuxIo.AtEmptyPath);
        if (type != LinuxIo.SIfReg)
        {
            handle.Dispose();
            throw new IOException($"{path} is {Describe(type)}, not a regular file");
        }

        return handle;
    }

    /// <summary>All the bytes of a file opened by <see cref="OpenRead"/>.</summary>
    public static byte[] ReadAll(SafeFileHandle handle)
    {
        var bytes = new byte[RandomAccess.GetLength(handle)];
        var read = 0;
        int n;
        while (read < bytes.Length && (n = RandomAccess.Read(handle, bytes.AsSpan(read), read)) > 0)
        {
            read += n;
        }

        return read == bytes.Length ? bytes : bytes[..read];
    }

    /// <summary>
    /// Whether <paramref name="path"/> itself (a link not followed) is a regular file, without
    /// opening it; false when it is missing. For listing: what is opened goes through <see cref="OpenRead"/>.
    /// </summary>
    public static bool Is(string path) =>
        !OperatingSystem.IsLinux() ? File.Exists(path) : TypeOf(LinuxIo.AtFdCwd, path, LinuxIo.AtSymlinkNoFollow) == LinuxIo.SIfReg;

    /// <summary>The file type bits of a statx, or -1 when it fails.</summary>
    private static int TypeOf(int directoryFd, string path, int flags)
    {
        var buffer = stackalloc byte[LinuxIo.StatxBytes];
        if (LinuxIo.statx(directoryFd, path, flags, LinuxIo.StatxType, buffer) != 0)
        {
            return -1;
        }

        return *(ushort*)(buffer + LinuxIo.StatxModeOffset) & LinuxIo.SIfMt;
    }

    private static string Describe(int type) => type switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xA000 => "a symbolic link",
        0xC000 => "a socket",
        _ => "of an unknown type",
    };
}
