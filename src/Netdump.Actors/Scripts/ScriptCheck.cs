using System.Runtime.InteropServices;

namespace Netdump.Actors.Scripts;

/// <summary>
/// Decides whether a file in the scripts folder may be run (SPEC §5): a regular file,
/// executable by its owner, owned by the user the server runs as or by root, and writable by
/// nobody else. A script runs with the server's rights, so anyone who could change it could
/// run code as the server; that is what the ownership and write checks refuse.
/// </summary>
public static unsafe partial class ScriptCheck
{
    private const string LibC = "libc";

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxUid = 0x8;
    private const int StatxBufferSize = 256;

    // struct statx starts the same on every Linux architecture (it was designed with fixed-size
    // fields and explicit padding): stx_mask u32 @0, stx_blksize u32 @4, stx_attributes u64 @8,
    // stx_nlink u32 @16, stx_uid u32 @20, stx_gid u32 @24, stx_mode u16 @28. The kernel writes
    // at most 256 bytes.
    private const int MaskOffset = 0, UidOffset = 20, ModeOffset = 28;

    private const uint FileTypeMask = 0xF000; // S_IFMT
    private const uint RegularFile = 0x8000;  // S_IFREG
    private const uint Directory = 0x4000;    // S_IFDIR
    private const uint OwnerExecute = 0x40;   // S_IXUSR
    private const uint GroupWrite = 0x10;     // S_IWGRP
    private const uint OtherWrite = 0x02;     // S_IWOTH

    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    /// <summary>
    /// Null when <paramref name="path"/> may be run; otherwise why not, in words for the log
    /// ("group or world writable"). Never throws for a file-system problem: that is a reason too.
    /// </summary>
    public static string? WhyNotRunnable(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Contains('\0'))
        {
            return "the path contains a NUL character";
        }

        // statx without AT_SYMLINK_NOFOLLOW follows symbolic links to the final target, and the
        // target is what execve runs, so the target is what is checked. A link owned by someone
        // else to a good script is fine; a link to a file anyone can write is not.
        if (!TryStat(path, follow: true, out var uid, out var mode, out var errno))
        {
            if (errno is ENOENT or ENOTDIR)
            {
                return TryStat(path, follow: false, out _, out _, out _)
                    ? "a symbolic link whose target does not exist"
                    : "it does not exist";
            }

            return errno == 0
                ? "its owner and mode could not be read"
                : $"it cannot be examined: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        }

        if ((mode & FileTypeMask) != RegularFile)
        {
            return (mode & FileTypeMask) == Directory
                ? "a directory, not a regular file"
                : "not a regular file";
        }

        if ((mode & OwnerExecute) == 0)
        {
            return "not executable by its owner";
        }

        var server = GetEuid();
        if (uid != server && uid != 0)
        {
            return $"owned by uid {uid}, neither the server's user (uid {server}) nor root";
        }

        if ((mode & (GroupWrite | OtherWrite)) != 0)
        {
            return "group or world writable";
        }

        return null;
    }

    /// <summary>
    /// Whether anything (a file, a directory, a link, even a dangling one) has this name. A
    /// name that cannot be examined for another reason (a folder without search permission)
    /// counts as present, so that <see cref="WhyNotRunnable"/> gets to say what is wrong.
    /// </summary>
    internal static bool IsPresent(string path)
    {
        if (path.Contains('\0'))
        {
            return true;
        }

        return TryStat(path, follow: false, out _, out _, out var errno) || errno is not (ENOENT or ENOTDIR);
    }

    /// <summary>False with errno 0 when the kernel answered but without the owner or mode.</summary>
    private static bool TryStat(string path, bool follow, out uint uid, out uint mode, out int errno)
    {
        var buffer = stackalloc byte[StatxBufferSize];
        new Span<byte>(buffer, StatxBufferSize).Clear();
        uid = 0;
        mode = 0;
        if (Statx(AtFdCwd, path, follow ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return false;
        }

        errno = 0;
        var mask = *(uint*)(buffer + MaskOffset);
        if ((mask & (StatxType | StatxMode | StatxUid)) != (StatxType | StatxMode | StatxUid))
        {
            return false;
        }

        uid = *(uint*)(buffer + UidOffset);
        mode = *(ushort*)(buffer + ModeOffset);
        return true;
    }

    [LibraryImport(LibC, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(LibC, EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
