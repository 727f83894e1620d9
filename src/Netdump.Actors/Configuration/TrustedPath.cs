using System.Globalization;
using System.Runtime.InteropServices;

namespace Netdump.Actors.Configuration;

/// <summary>
/// Who could have put a file where the server takes orders from the disk: the dump directory,
/// the scripts it runs (with its rights) and the magic files that admit clients. A path is
/// trusted when the user the server runs as or root owns it and nobody else can write it. A
/// symbolic link must also be owned by one of them, whatever it points to: whoever owns the
/// link chose its target, and <c>scripts/netdump-crash -&gt; /bin/false</c> planted by anyone
/// would otherwise pass as root's <c>/bin/false</c>.
/// </summary>
public static unsafe partial class TrustedPath
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
    private const uint SymbolicLink = 0xA000; // S_IFLNK
    private const uint GroupWrite = 0x10;     // S_IWGRP
    private const uint OtherWrite = 0x02;     // S_IWOTH
    private const uint Sticky = 0x200;        // S_ISVTX
    private const uint PermissionBits = 0xFFF;

    private const int ENOENT = 2;
    private const int ENOTDIR = 20;

    /// <summary>What lies at a path: the owner of the link when it is a symbolic link, and the owner and mode of what it leads to.</summary>
    public readonly record struct Entry(uint? LinkOwner, uint Uid, uint Mode)
    {
        public bool IsRegularFile => (Mode & FileTypeMask) == RegularFile;

        public bool IsDirectory => (Mode & FileTypeMask) == Directory;

        /// <summary>Whether the owner may execute it (S_IXUSR).</summary>
        public bool OwnerMayExecute => (Mode & 0x40) != 0;
    }

    /// <summary>
    /// Null with <paramref name="entry"/> filled when <paramref name="path"/> could be examined;
    /// otherwise why not, in words for the log ("it does not exist"). Never throws for a
    /// file-system problem.
    /// </summary>
    public static string? Examine(string path, out Entry entry)
    {
        ArgumentNullException.ThrowIfNull(path);
        entry = default;
        if (path.Contains('\0'))
        {
            return "the path contains a NUL character";
        }

        if (!TryStat(path, follow: false, out var linkUid, out var linkMode, out var errno))
        {
            return Unexaminable(errno, "it does not exist");
        }

        var isLink = (linkMode & FileTypeMask) == SymbolicLink;
        if (!isLink)
        {
            entry = new Entry(null, linkUid, linkMode);
            return null;
        }

        if (!TryStat(path, follow: true, out var uid, out var mode, out errno))
        {
            return Unexaminable(errno, "a symbolic link whose target does not exist");
        }

        entry = new Entry(linkUid, uid, mode);
        return null;
    }

    /// <summary>
    /// Null when <paramref name="entry"/> is the server's own or root's, the link too, and
    /// writable by nobody else; otherwise why not ("group or world writable (mode 0777)").
    /// </summary>
    public static string? WhyNotTrusted(in Entry entry)
    {
        if (entry.LinkOwner is { } linkOwner && WhyNotTrustedOwner(linkOwner) is { } linkProblem)
        {
            return $"a symbolic link {linkProblem}";
        }

        return WhyNotTrustedOwner(entry.Uid)
            ?? ((entry.Mode & (GroupWrite | OtherWrite)) != 0 ? $"group or world writable ({ModeOf(entry)})" : null);
    }

    /// <summary>
    /// Null when no user but the server's, root and the directory's group may rename or remove
    /// entries in the directory <paramref name="path"/>: owned by the server's user or root, and
    /// writable by others only with the sticky bit (as /tmp); otherwise why not. For the folders
    /// a HERALD path leads through, where a dump's directory is made and later served.
    /// </summary>
    public static string? WhyOthersMayRenameIn(string path)
    {
        if (Examine(path, out var entry) is { } problem)
        {
            return problem;
        }

        return WhyNotTrustedOwner(entry.Uid)
            ?? ((entry.Mode & OtherWrite) != 0 && (entry.Mode & Sticky) == 0 ? $"writable by every user without the sticky bit ({ModeOf(entry)})" : null);
    }

    /// <summary>Null when <paramref name="path"/> is a trusted directory; otherwise why not.</summary>
    public static string? WhyNotTrustedDirectory(string path)
    {
        if (Examine(path, out var entry) is { } problem)
        {
            return problem;
        }

        return entry.IsDirectory ? WhyNotTrusted(entry) : "not a directory";
    }

    /// <summary>
    /// Whether anything (a file, a directory, a link, even a dangling one) has this name. A
    /// name that cannot be examined for another reason (a folder without search permission)
    /// counts as present, so that the caller goes on to say what is wrong.
    /// </summary>
    public static bool IsPresent(string path)
    {
        if (path.Contains('\0'))
        {
            return true;
        }

        return TryStat(path, follow: false, out _, out _, out var errno) || errno is not (ENOENT or ENOTDIR);
    }

    private static bool IsTrustedOwner(uint uid, uint server) => uid == server || uid == 0;

    /// <summary>Null when <paramref name="uid"/> is the server's user or root; otherwise the words for the log.</summary>
    private static string? WhyNotTrustedOwner(uint uid)
    {
        var server = GetEuid();
        return IsTrustedOwner(uid, server) ? null : $"owned by uid {uid}, neither the server's user (uid {server}) nor root";
    }

    private static string ModeOf(in Entry entry) => $"mode {Convert.ToString(entry.Mode & PermissionBits, 8).PadLeft(4, '0')}";

    private static string Unexaminable(int errno, string whenMissing) => errno switch
    {
        ENOENT or ENOTDIR => whenMissing,
        0 => "its owner and mode could not be read",
        _ => string.Create(CultureInfo.InvariantCulture, $"it cannot be examined: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})"),
    };

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

    /// <summary>Whether the server runs as root (effective user 0).</summary>
    public static bool RunsAsRoot => GetEuid() == 0;

    /// <summary>Whether <paramref name="uid"/> is the server's own user or root: the users trusted with what the server keeps.</summary>
    public static bool IsServersOrRoot(uint uid) => IsTrustedOwner(uid, GetEuid());

    [LibraryImport(LibC, EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}
