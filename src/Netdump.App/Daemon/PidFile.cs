using System.Globalization;
using Netdump.Actors.Storage;

namespace Netdump.App.Daemon;

/// <summary>
/// The pidfile of a running server: holds this process's pid, and a lock on it (<see cref="FileLock"/>),
/// from <see cref="Acquire"/> until <see cref="Dispose"/>. A pidfile is held exactly while its lock
/// is: one whose lock nobody holds is stale and taken over, whatever its content says, even when
/// the pid in it belongs to a live process (a pid reused after a crash). It is never half-written:
/// the pid is written to a locked temporary file in the same directory, fsynced, then linked or
/// renamed into place.
/// </summary>
public sealed class PidFile : IDisposable
{
    private const UnixFileMode FileMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead; // 0644

    private readonly FileLock _lock;
    private bool _released;

    private PidFile(string path, int pid, FileLock held, string? takeOverNote)
    {
        Path = path;
        Pid = pid;
        _lock = held;
        TakeOverNote = takeOverNote;
    }

    /// <summary>The absolute path of the pidfile.</summary>
    public string Path { get; }

    /// <summary>The pid written into it (this process).</summary>
    public int Pid { get; }

    /// <summary>What was replaced, when a stale pidfile was taken over (for the log); null for a fresh one.</summary>
    public string? TakeOverNote { get; }

    /// <summary>
    /// Writes this process's pid to <paramref name="path"/>. Throws <see cref="IOException"/>
    /// "pidfile PATH is held by running process PID" when another server holds it (its lock is
    /// taken), and an <see cref="IOException"/> with the reason when the file cannot be written.
    /// </summary>
    public static PidFile Acquire(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full) ?? "/";
        var pid = Posix.GetPid();

        // A few rounds only for the case where another process removes the file between our
        // failed link and our look at it.
        for (var round = 0; round < 5; round++)
        {
            var (temp, held) = WriteTemporary(full, directory, pid);
            var keep = false;
            try
            {
                // link(2) creates the name only if it does not exist: of two servers starting at
                // once on a fresh path, exactly one gets it.
                if (Posix.Link(temp, full) == 0)
                {
                    SyncDirectory(directory);
                    keep = true;
                    return new PidFile(full, pid, held, null);
                }

                var error = Posix.LastError($"cannot write pidfile {full}");
                if (Directory.Exists(full))
                {
                    throw new IOException($"cannot write pidfile {full}: it is a directory");
                }

                // File.Exists is true for a dangling link (.NET falls back to lstat): its target is asked
                if (new FileInfo(full).LinkTarget is { } target && !File.Exists(System.IO.Path.GetFullPath(target, directory)))
                {
                    throw new IOException($"cannot write pidfile {full}: it is a symbolic link to {target}, which does not exist (not following it)");
                }

                if (!File.Exists(full))
                {
                    if (Directory.Exists(directory))
                    {
                        continue;
                    }

                    throw error;
                }

                if (FileLock.IsHeld(full))
                {
                    var holder = Read(full).Pid is int other ? other.ToString(CultureInfo.InvariantCulture) : "(pid not written yet)";
                    throw new IOException($"pidfile {full} is held by running process {holder}");
                }

                var (named, content) = Read(full);
                if (content is null)
                {
                    continue;
                }

                if (named is null && !LooksLikeAPid(content))
                {
                    // a mistyped --pidfile naming some other file must not cost that file
                    throw new IOException($"{full} is not a pidfile (it holds {Describe(content)}): not overwriting it; name another pidfile or remove it");
                }

                var note = named switch
                {
                    int gone when !Posix.IsAlive(gone) => $"pidfile {full} named process {gone}, which is not running: taking it over",
                    int other => $"pidfile {full} named process {other}, which holds no netdump-server lock (its pid was reused): taking it over",
                    _ => $"pidfile {full} held no pid ({Describe(content)}): taking it over",
                };

                // rename(2) replaces the stale file in one step: a reader sees the old content or
                // ours, never an empty file.
                File.Move(temp, full, overwrite: true);
                SyncDirectory(directory);
                keep = true;
                return new PidFile(full, pid, held, note);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException($"cannot write pidfile {full}: {e.Message}", e);
            }
            finally
            {
                // After link(2) the temporary name is a second link to the pidfile; after a
                // rename it is already gone; after a failure it is garbage. Remove it in all cases.
                TryDelete(temp);
                if (!keep)
                {
                    held.Dispose();
                }
            }
        }

        throw new IOException($"cannot write pidfile {full}: it keeps changing under us");
    }

    /// <summary>
    /// Whether what a file holds could be a pidfile's, broken or not: nothing, or a short run of
    /// digits and signs (a crash mid-write, a pid of 0). Anything else is some other file.
    /// </summary>
    private static bool LooksLikeAPid(string content) =>
        content.Length <= 32 && content.All(c => char.IsAsciiDigit(c) || c is '-' or '+' || char.IsWhiteSpace(c));

    /// <summary>The pid a pidfile names (null when it holds anything else) and its raw content (null when it does not exist).</summary>
    public static (int? Pid, string? Content) Read(string path)
    {
        string content;
        try
        {
            content = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return (null, null);
        }

        return int.TryParse(content.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? (pid, content)
            : (null, content);
    }

    /// <summary>Removes the pidfile, but only while it still holds our pid (a successor's is left alone). Never throws.</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        try
        {
            if (Read(Path).Pid == Pid)
            {
                File.Delete(Path);
                SyncDirectory(System.IO.Path.GetDirectoryName(Path) ?? "/");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exiting anyway: a pidfile left behind is taken over as stale by the next start.
        }
        finally
        {
            _lock.Dispose();
        }
    }

    /// <summary>A new, locked temporary file in the pidfile's directory holding <paramref name="pid"/>, on disk.</summary>
    private static (string Temp, FileLock Held) WriteTemporary(string full, string directory, int pid)
    {
        var temp = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(full)}.{pid}.{Guid.NewGuid():N}.tmp");
        FileLock? held = null;
        try
        {
            // a name nobody else has: the lock is always free
            held = FileLock.TryAcquire(temp, FileMode, createNew: true) ?? throw new IOException("locked by another process");
            held.WritePid(pid);
            return (temp, held);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            held?.Dispose();
            TryDelete(temp);
            throw new IOException($"cannot write pidfile {full}: {e.Message}", e);
        }
    }

    /// <summary>Makes the new name durable; best effort, since a pidfile lost in a crash is only stale anyway.</summary>
    private static void SyncDirectory(string directory)
    {
        try
        {
            FileSystemSync.FsyncDirectory(directory);
        }
        catch (IOException)
        {
            // Some file systems refuse fsync on a directory; the name is in place regardless.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a stray temporary file is harmless.
        }
    }

    private static string Describe(string content)
    {
        var text = content.Trim();
        if (text.Length == 0)
        {
            return "empty";
        }

        var shown = text.Length > 20 ? text[..20] + "..." : text;
        return "\"" + new string(shown.Select(c => char.IsControl(c) ? '?' : c).ToArray()) + "\"";
    }
}
