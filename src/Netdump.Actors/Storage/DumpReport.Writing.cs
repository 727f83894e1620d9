namespace Netdump.Actors.Storage;

/// <summary>
/// The reports on disk: each replaced atomically through a temporary name, as durably as asked,
/// and the room for the final ones reserved while the dump is received.
/// </summary>
public static partial class DumpReport
{
    /// <summary>
    /// Creates the files that <see cref="WriteFinal"/> fills: <c>info</c>'s and
    /// <c>dump.json</c>'s temporary names, <see cref="ReservedInfoBytes"/> and
    /// <see cref="ReservedJsonBytes"/> long, so that a dump which fills the file system can still
    /// be described (the final write overwrites blocks it already holds). Throws
    /// <see cref="IOException"/> when there is no room; a file is kept only whole.
    /// </summary>
    public static void Reserve(string directory)
    {
        ReserveOne(Path.Combine(directory, ReservedName(InfoFileName)), ReservedInfoBytes);
        ReserveOne(Path.Combine(directory, ReservedName(JsonFileName)), ReservedJsonBytes);
    }

    /// <summary>What <see cref="Reserve"/> takes on the disk.</summary>
    public const ulong ReservedBytes = ReservedInfoBytes + ReservedJsonBytes;

    /// <summary>Room kept for <c>info</c> (one block), which lists at most <see cref="MaxInfoHoles"/> holes.</summary>
    public const int ReservedInfoBytes = 4 * 1024;

    /// <summary>
    /// Room kept for <c>dump.json</c>: a few hundred ranges and holes. One that lists more needs
    /// free blocks for the rest; on a full file system its write fails, which is logged and
    /// makes the dump incomplete. Each reserved block costs every dump CPU (docs/performance.md).
    /// </summary>
    public const int ReservedJsonBytes = 12 * 1024;

    /// <summary>The temporary name <see cref="WriteFinal"/> writes <paramref name="name"/> through, made early by <see cref="Reserve"/>.</summary>
    public static string ReservedName(string name) => $".{name}.final.tmp";

    /// <summary>
    /// Writes <c>info</c> and <c>dump.json</c> into <see cref="DumpRecord.Directory"/>: each to a
    /// fresh temporary name (mode 0600, never following or reusing anything at that name),
    /// renamed over the final name, as durably as <paramref name="durability"/> says. Throws
    /// <see cref="IOException"/> on failure, leaving the previous files in place.
    /// </summary>
    public static void Write(DumpRecord r, ReportDurability durability = ReportDurability.Durable) => Write(r, durability, reserved: false);

    /// <summary>
    /// The writer's final, durable reports, written into the files <see cref="Reserve"/> made in
    /// the dump directory it created (0700, its own: nothing else can have put a link there),
    /// or made now if the reservation failed. A reserved file whose write fails is left for the
    /// recovery scan, which reads it as the mark of an unfinished dump.
    /// </summary>
    public static void WriteFinal(DumpRecord r) => Write(r, ReportDurability.Durable, reserved: true);

    /// <summary>
    /// A complete dump's reports with the SHA-256 and length of its stored core, as received
    /// until compression at rest: each file fsynced before its rename, the directory not
    /// (docs/performance.md). Returns the record as written.
    /// </summary>
    public static DumpRecord WriteChecksum(DumpRecord r, CoreHash hash)
    {
        var hashed = r.WithChecksum(hash);
        Write(hashed, ReportDurability.FilesOnly);
        return hashed;
    }

    private static void Write(DumpRecord r, ReportDurability durability, bool reserved)
    {
        var fsyncFiles = durability != ReportDurability.None;
        WriteAtomically(r.Directory, InfoFileName, FormatInfo(r), fsyncFiles, reserved);
        WriteAtomically(r.Directory, JsonFileName, FormatJson(r), fsyncFiles, reserved);
        if (durability == ReportDurability.Durable)
        {
            FileSystemSync.FsyncDirectory(r.Directory);
        }
    }

    private static void WriteAtomically(string directory, string name, string text, bool fsync, bool reserved)
    {
        var final = Path.Combine(directory, name);
        var temporary = Path.Combine(directory, reserved ? ReservedName(name) : $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, TemporaryOptions(reserved ? FileMode.OpenOrCreate : FileMode.CreateNew)))
            {
                var bytes = Utf8NoBom.GetBytes(text);
                stream.Write(bytes);
                stream.SetLength(bytes.Length); // the rest of a reservation
                stream.Flush(flushToDisk: fsync);
            }

            // rename(2) itself: File.Move looks at both names first (three stats more per report)
            FileSystemSync.Rename(temporary, final);
        }
        catch
        {
            if (!reserved)
            {
                TryDelete(temporary);
            }

            throw;
        }
    }

    private static void ReserveOne(string path, int length)
    {
        try
        {
            using var stream = new FileStream(path, TemporaryOptions(FileMode.CreateNew));
            // written, not preallocated: delayed allocation holds the blocks for this file from
            // now on, and the final write overwrites them (no fsync: it is a reservation only)
            stream.Write(Zeros.AsSpan(0, length));
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    private static readonly byte[] Zeros = new byte[Math.Max(ReservedInfoBytes, ReservedJsonBytes)];

    private static FileStreamOptions TemporaryOptions(FileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original error matters more; a stray temp file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
