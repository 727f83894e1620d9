using System.Runtime.InteropServices;

namespace Netdump.App.Daemon;

/// <summary>
/// The POSIX calls the daemon, pidfile and start-up code needs and .NET does not expose: probing a
/// pid with signal 0, a signal's disposition, a new session, re-pointing the standard descriptors
/// at /dev/null, open file description locks (fcntl F_OFD_SETLK; see <see cref="FileLock"/>), and
/// a thread's scheduling policy and exec (<c>Hosting/BatchScheduling</c>).
/// errno values and open flags are Linux's (the server is Linux only).
/// </summary>
internal static partial class Posix
{
    private const string LibC = "libc";

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EWOULDBLOCK = 11;

    public const int SIGHUP = 1;

    public const int ORdWr = 2;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int OCloExec = 0x80000;

    public const int EACCES = 13;

    /// <summary>signal(2)'s default disposition.</summary>
    public const nint SigDfl = 0;

    /// <summary>signal(2): sets a signal's disposition (here <see cref="SigDfl"/>); returns the previous one, SIG_ERR (-1) on failure.</summary>
    [LibraryImport(LibC, EntryPoint = "signal", SetLastError = true)]
    public static partial nint Signal(int signal, nint handler);

    [LibraryImport(LibC, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(LibC, EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport(LibC, EntryPoint = "setsid", SetLastError = true)]
    public static partial int SetSid();

    [LibraryImport(LibC, EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ChDir(string path);

    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    /// <summary>fcntl(2) with a struct flock, for the open file description locks (F_OFD_*).</summary>
    [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, ref FileRegionLock region);

    [LibraryImport(LibC, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(LibC, EntryPoint = "dup2", SetLastError = true)]
    public static partial int Dup2(int fd, int target);

    /// <summary>sched_getscheduler(2): a thread's scheduling policy (0 the calling one), -1 on failure.</summary>
    [LibraryImport(LibC, EntryPoint = "sched_getscheduler", SetLastError = true)]
    public static partial int SchedGetScheduler(int pid);

    /// <summary>sched_setscheduler(2); <paramref name="priority"/> is struct sched_param, one int.</summary>
    [LibraryImport(LibC, EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static unsafe partial int SchedSetScheduler(int pid, int policy, int* priority);

    /// <summary>execv(3): returns only when it fails. <paramref name="argv"/> ends with a null pointer.</summary>
    [LibraryImport(LibC, EntryPoint = "execv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int ExecV(string path, nint* argv);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibC, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string existing, string created);

    /// <summary>What kill(pid, 0) says about a pid: alive (ours or, with EPERM, another user's) or gone.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (Kill(pid, 0) == 0)
        {
            return true;
        }

        return Marshal.GetLastPInvokeError() == EPERM;
    }

    /// <summary>The errno of the last call as an <see cref="IOException"/> naming what failed.</summary>
    public static IOException LastError(string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    public const int FOfdGetLock = 36;
    public const int FOfdSetLock = 37;
    public const short FWriteLock = 1;
    public const short FUnlock = 2;

    /// <summary>
    /// struct flock as the 64-bit Linux ABIs (x86-64, arm64) lay it out: l_type, l_whence, then
    /// l_start, l_len (off_t) and l_pid. Start 0 and length 0 mean the whole file.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FileRegionLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }
}
