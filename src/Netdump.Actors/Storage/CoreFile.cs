using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Native;

namespace Netdump.Actors.Storage;

/// <summary>What happened to one write of dump data.</summary>
public enum CoreWriteResult
{
    Written,
    BeyondLimit,

    /// <summary>Not written: neither the dump's reservation nor the room all dumps share holds it.</summary>
    NoSpace,

    /// <summary>Not written: it would make more than <see cref="CoreFile.MaxRanges"/> separate ranges.</summary>
    TooFragmented,
    Failed,
}

/// <summary>
/// The core file of one dump while it is received: an open handle, the byte ranges written so
/// far and the size limit. The session's receive pump writes into it inline (positional
/// writes, safe from any thread); the <c>DumpWriterActor</c> flushes, renames and closes it.
/// The range bookkeeping is locked because both of them read it. Each write is first reserved
/// in the dump's <see cref="DiskSpace.Account"/>, so no dump eats into <c>min_free_space</c>.
/// The writes and their refusals are in <c>CoreFile.Writes.cs</c>.
/// </summary>
public sealed unsafe partial class CoreFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly ByteRanges _ranges = new();
    private readonly Lock _lock = new();

    // taken by every write for its whole length (uncontended: one writer thread, the pump), and by EndWrites
    private readonly Lock _writes = new();
    private bool _writesEnded;
    private readonly CoreDisk _disk;
    private readonly DiskSpace.Account? _space;
    private long _unflushed;

    /// <summary>
    /// The most separate received ranges a core may have; a write that would start one more is
    /// refused and the dump ends "too fragmented". A FreeBSD client sends in order and resends
    /// every packet it misses within its burst of at most 64, so the only holes it leaves are
    /// its ack aliasing's (SPEC §2): a lost packet whose twin 32 places away was acked, at most
    /// 14 per 64 KiB burst at MTU 1500, about 28 x the loss rate per burst on average. Even at
    /// 1 % loss (a link on which the dump already crawls through retransmits) reaching this
    /// bound takes a 57 GiB dump, and a dump that has lost 262,143 packets is incomplete
    /// whatever comes after. Only a client that scatters its writes gets here (issue 13: 1-byte
    /// writes at descending offsets). The bound also keeps a core's
    /// ranges in 4 MiB of memory and its dump.json (which lists every range and hole) under
    /// 30 MB, within what the start-up scan reads (<see cref="RecoveryScan"/>).
    /// </summary>
    public const int MaxRanges = 262_144;

    private CoreFile(string path, FileStream stream, ulong maxSize, CoreDisk disk, DiskSpace.Account? space)
    {
        Path = path;
        _disk = disk;
        _space = space;
        _stream = stream;
        _handle = stream.SafeFileHandle;
        MaxSize = maxSize;
    }

    /// <summary>The file's current path (it changes when the writer renames it).</summary>
    public string Path { get; private set; }

    /// <summary>The largest offset + length a write may reach.</summary>
    public ulong MaxSize { get; }

    /// <summary>The error of the last failed write, for the dump's reason.</summary>
    public string? LastError { get; private set; }

    /// <summary>
    /// Creates the file, which must not exist yet, with mode 0600; its writes are reserved in
    /// <paramref name="space"/> (which it closes when disposed), or unchecked without one.
    /// </summary>
    public static CoreFile Create(string path, ulong maxSize, CoreDisk? disk = null, DiskSpace.Account? space = null)
    {
        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.Read,
            BufferSize = 0,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        CoreLock.Share(stream.SafeFileHandle); // in use until the dump is final: no scan takes it
        return new CoreFile(path, stream, maxSize, disk ?? CoreDisk.Real, space);
    }

    /// <summary>Distinct bytes written so far.</summary>
    public ulong BytesReceived
    {
        get { lock (_lock) return _ranges.TotalBytes; }
    }

    /// <summary>Bytes written since the last <see cref="Flush"/>.</summary>
    public long UnflushedBytes => Interlocked.Read(ref _unflushed);

    /// <summary>True when every byte of <c>[start, end)</c> was already written.</summary>
    public bool Covers(ulong start, ulong end)
    {
        lock (_lock) return _ranges.Covers(start, end);
    }

    public IReadOnlyList<ByteRange> Ranges()
    {
        lock (_lock) return _ranges.ToList();
    }

    public IReadOnlyList<ByteRange> Holes(ulong length)
    {
        lock (_lock) return _ranges.Holes(length);
    }

    /// <summary>Forces the written data to disk (fsync).</summary>
    public void Flush()
    {
        var pending = Interlocked.Exchange(ref _unflushed, 0);
        try
        {
            _disk.FlushToDisk(_handle);
        }
        catch
        {
            Interlocked.Add(ref _unflushed, pending);
            throw;
        }
    }

    /// <summary>Cuts the file to <paramref name="length"/> bytes (a compressed dump's padded last block).</summary>
    public void Truncate(ulong length) => RandomAccess.SetLength(_handle, (long)length);

    /// <summary>Renames the file within its directory; the handle stays valid.</summary>
    public void Rename(string newName)
    {
        var target = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, newName);
        File.Move(Path, target, overwrite: false);
        Path = target;
    }

    /// <summary>The dump is over: the room it reserved and did not use goes back to the others.</summary>
    public void ReturnUnusedSpace() => _space?.Dispose();

    /// <summary>
    /// The dump is final: the file is closed (its lock with it), so that a copy that replaces it
    /// (compression at rest) frees its blocks at once, not when the session stops after its
    /// linger. What was received stays known (<see cref="Covers"/>, <see cref="Holes"/>).
    /// </summary>
    public void Close() => _stream.Dispose();

    public void Dispose()
    {
        _stream.Dispose();
        _space?.Dispose();
    }
}
