using System.Runtime.InteropServices;

namespace Netdump.Actors.Native;

/// <summary>
/// The few Linux calls .NET has no managed form of: <c>recvmmsg</c>, <c>sendmmsg</c>,
/// <c>sendmsg</c> with a control message and <c>pwritev</c>, with the 64-bit layouts of their
/// structures (x86_64 and arm64 agree).
/// Used by the batched receive engine, by the Linux dialect's port (with <see cref="SockAddrIn"/>
/// names: its socket is not connected) and by <c>CoreFile</c> for vectored writes.
/// </summary>
internal static unsafe partial class LinuxIo
{
    public const int MsgWaitForOne = 0x10000;
    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int EIo = 5;
    public const int EInval = 22;
    public const int EOpNotSupp = 95;
    public const int EConnRefused = 111;
    public const int ENetUnreach = 101;
    public const int EHostDown = 112;
    public const int EHostUnreach = 113;

    /// <summary>
    /// An error a receive loop goes on after: EAGAIN (a timeout, or nothing waiting), EINTR, and
    /// the errors a connected socket reports for an ICMP message about an earlier ack:
    /// ECONNREFUSED (port unreachable), EHOSTUNREACH, EHOSTDOWN, ENETUNREACH (a client that is
    /// rebooting). Nothing received was lost, and the client resends what it missed.
    /// </summary>
    public static bool IsTransient(int errno) => errno is EAgain or EIntr or EConnRefused or EHostUnreach or EHostDown or ENetUnreach;
    public const int MsgDontWait = 0x40;

    /// <summary>In a received message's flags: the datagram was longer than its buffer.</summary>
    public const int MsgTrunc = 0x20;

    public const ushort AfInet = 2;
    public const uint EpollIn = 0x1;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCloexec = 0x80000;
    public const int EfdCloexec = 0x80000;

    /// <summary>struct epoll_event is packed (12 bytes) on x86_64 and 16 bytes elsewhere.</summary>
    public static int EpollEventSize => System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? 12 : 16;

    /// <summary>Where epoll_data sits inside an event.</summary>
    public static int EpollDataOffset => EpollEventSize == 12 ? 4 : 8;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, byte* @event);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    public const int LockShared = 1;
    public const int LockExclusive = 2;
    public const int LockNonBlocking = 4;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int flock(int fd, int operation);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    public const int ORdOnly = 0;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;

    /// <summary>O_NOFOLLOW, whose value is not the same on every architecture: 040000 on ARM and POWER, the generic 0400000 elsewhere.</summary>
    public static int ONoFollow => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Armv6 or Architecture.Arm64 or Architecture.Ppc64le ? 0x8000 : 0x20000;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;
    public const uint StatxType = 0x1;

    /// <summary>The file type bits of a mode, and the regular file's.</summary>
    public const int SIfMt = 0xF000;
    public const int SIfReg = 0x8000;

    /// <summary>struct statx's size; its layout is the same on every architecture (unlike struct stat's).</summary>
    public const int StatxBytes = 256;
    public const int StatxModeOffset = 28;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nuint count);

    /// <summary>True where the structures below match the kernel's (64-bit Linux).</summary>
    public static bool Supported => OperatingSystem.IsLinux() && Environment.Is64BitProcess
        && sizeof(MMsgHdr) == 64 && sizeof(IoVec) == 16 && sizeof(SockAddrIn) == 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct sockaddr_in: port and address in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int recvmmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int fd, MMsgHdr* messages, uint count, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    public const int SolUdp = 17;

    /// <summary>UDP_SEGMENT (Linux 4.18): one send carries many equal datagrams, cut by the kernel.</summary>
    public const int UdpSegment = 103;

    /// <summary>struct cmsghdr on 64-bit Linux: cmsg_len (size_t), cmsg_level, cmsg_type; the data follows.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint pwritev(int fd, IoVec* iov, int count, long offset);

}
