namespace Netdump.App.Daemon;

/// <summary>
/// One server per dump directory: a <see cref="FileLock"/> on <c>&lt;dumpdir&gt;/.netdump-server.lock</c>,
/// taken before the start-up recovery scan and held until the process ends. A second server
/// on the same directory would take the first one's live dumps for a killed run's leftovers,
/// mark them "incomplete (recovered)" and delete the room set aside for their final reports.
/// The file holds the pid of the server that holds the lock, for the second one's error; it
/// is never removed (removing a lock file while another process may be opening it lets two
/// processes each lock a different file of the same name).
/// </summary>
public sealed class DumpDirectoryLock : IDisposable
{
    public const string FileName = Netdump.Actors.Storage.DumpLocation.ServerLockFileName;

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // 0600

    private readonly FileLock _lock;

    private DumpDirectoryLock(FileLock held) => _lock = held;

    /// <summary>
    /// Takes the lock of <paramref name="dumpDirectory"/>. Throws <see cref="IOException"/> with
    /// one line for the operator when another server holds it, or when it cannot be taken at all.
    /// </summary>
    public static DumpDirectoryLock Acquire(string dumpDirectory)
    {
        var path = Path.Combine(dumpDirectory, FileName);
        FileLock? held;
        try
        {
            held = FileLock.TryAcquire(path, FileMode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot lock dumpdir {dumpDirectory}: {e.Message}", e);
        }

        if (held is null)
        {
            var holder = PidFile.Read(path).Pid is int pid ? $"pid {pid}" : "pid not written yet";
            throw new IOException($"dumpdir {dumpDirectory} is in use by another netdump-server ({holder}); one dump directory takes one server");
        }

        try
        {
            held.WritePid(Environment.ProcessId);
        }
        catch (IOException)
        {
            // The pid is only for another server's error message; the lock is what counts.
        }

        return new DumpDirectoryLock(held);
    }

    public void Dispose() => _lock.Dispose();
}
