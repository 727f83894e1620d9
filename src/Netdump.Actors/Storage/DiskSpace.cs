namespace Netdump.Actors.Storage;

/// <summary>
/// The room all dumps share on the dump file system: its free space less <c>min_free_space</c>
/// and less what the dumps in flight have reserved. Each dump's <see cref="Account"/> reserves
/// room ahead of its writes, a chunk at a time, and a write that finds neither its own
/// reservation nor the shared room big enough is refused before it touches the disk. So the
/// reserve holds between two measurements, and the dump that would cross it is the one that
/// stops (then <c>netdump-nospace</c>), not whichever dump happens to write next: a dump keeps
/// going as long as its reservation lasts. One per listener; accounts are used from pump threads.
/// </summary>
public sealed class DiskSpace(string path, ulong reserve, DiskSpace.Probe? probe = null)
{
    /// <summary>
    /// How much a dump reserves at a time: about 40 ms of one client at full speed, so a
    /// reservation is taken at most a few dozen times a second per dump, and what a finished
    /// dump held unused (returned at its end) is small against the 1 GiB default reserve.
    /// </summary>
    public const ulong Chunk = 4 << 20;

    /// <summary>How old a measurement may be before a reservation measures again (space freed or used by others).</summary>
    private static readonly long MeasureEveryMs = 1000;

    private readonly Probe _probe = probe ?? FileSystemSync.AvailableBytes;
    private readonly Lock _lock = new();
    private readonly HashSet<Account> _accounts = [];
    private int _dumps; // the accounts of dumps, not of files about to be written
    private ulong _room;
    private long _measuredAt = long.MinValue;

    /// <summary>Free bytes for unprivileged users on the file system holding a path.</summary>
    public delegate ulong Probe(string path);

    /// <summary>The free space now, measured.</summary>
    public ulong Available => _probe(path);

    /// <summary>
    /// How many dumps are being received: their accounts are open (<see cref="Open"/>, until
    /// each dump's end gives back what it did not write).
    /// </summary>
    public int DumpsReceiving => Volatile.Read(ref _dumps);

    /// <summary>Opens the account of a new dump, with its first chunk reserved when there is room.</summary>
    public Account Open()
    {
        var account = new Account(this, Account.Purpose.Dump);
        lock (_lock)
        {
            _accounts.Add(account);
            _dumps++;
        }

        account.TryReserve(1);
        return account;
    }

    /// <summary>
    /// Holds exactly <paramref name="bytes"/> of the shared room for files about to be written
    /// (a new dump's reports' room, whose files are made at its first flush tick), so that no dump's core
    /// takes it meanwhile; null when there is not that much room. The caller writes the files,
    /// then <see cref="Account.Spent"/> and disposes the account.
    /// </summary>
    public Account? Hold(ulong bytes)
    {
        lock (_lock)
        {
            if (_room < bytes || Environment.TickCount64 - _measuredAt >= MeasureEveryMs)
            {
                Measure();
            }

            if (_room < bytes)
            {
                return null;
            }

            var account = new Account(this, Account.Purpose.Files);
            _accounts.Add(account);
            _room -= bytes;
            account.Add(bytes);
            return account;
        }
    }

    /// <summary>Measures again and says whether at least <paramref name="bytes"/> could be reserved now.</summary>
    public bool HasRoomFor(ulong bytes)
    {
        lock (_lock)
        {
            Measure();
            return _room >= bytes;
        }
    }

    /// <summary>Gives an account at least <paramref name="needed"/> more bytes (a chunk when there is room); false when there is not.</summary>
    private bool Reserve(Account account, ulong needed)
    {
        lock (_lock)
        {
            if (!_accounts.Contains(account))
            {
                return false; // its dump is over
            }

            if (_room < needed || Environment.TickCount64 - _measuredAt >= MeasureEveryMs)
            {
                Measure();
            }

            if (_room < needed)
            {
                return false;
            }

            var granted = Math.Min(Math.Max(needed, Chunk), _room);
            _room -= granted;
            account.Add(granted);
            return true;
        }
    }

    /// <summary>Free space less the reserve less what the accounts hold but have not written yet (caller holds the lock).</summary>
    private void Measure()
    {
        var held = 0UL;
        foreach (var account in _accounts)
        {
            held += account.Held;
        }

        var free = _probe(path);
        _room = free > reserve && free - reserve > held ? free - reserve - held : 0;
        _measuredAt = Environment.TickCount64;
    }

    private void Close(Account account)
    {
        lock (_lock)
        {
            if (_accounts.Remove(account))
            {
                _room += account.TakeAll();
                _dumps -= account.For == Account.Purpose.Dump ? 1 : 0;
            }
        }
    }

    /// <summary>
    /// One dump's reservation. <see cref="TryReserve"/> before a write, <see cref="Spent"/> after
    /// it (both on the pump thread); the bytes written leave the reservation, since the next
    /// measurement of free space sees them.
    /// </summary>
    public sealed class Account(DiskSpace space, Account.Purpose purpose) : IDisposable
    {
        private long _held;

        /// <summary>What an account holds room for.</summary>
        public enum Purpose
        {
            /// <summary>A dump being received (<see cref="DiskSpace.Open"/>).</summary>
            Dump,

            /// <summary>Files about to be written (<see cref="DiskSpace.Hold"/>).</summary>
            Files,
        }

        internal Purpose For => purpose;

        /// <summary>Bytes reserved and not written yet.</summary>
        public ulong Held => (ulong)Interlocked.Read(ref _held);

        /// <summary>True when <paramref name="bytes"/> may be written: reserved already, or reserved now.</summary>
        public bool TryReserve(ulong bytes) => Held >= bytes || space.Reserve(this, bytes - Held);

        /// <summary>After a write of <paramref name="bytes"/>: they are on the disk, no longer ahead of it.</summary>
        public void Spent(ulong bytes)
        {
            long held, left;
            do
            {
                held = Interlocked.Read(ref _held);
                left = held - (long)Math.Min(bytes, (ulong)held); // never below 0, whatever closed it meanwhile
            }
            while (Interlocked.CompareExchange(ref _held, left, held) != held);
        }

        internal void Add(ulong bytes) => Interlocked.Add(ref _held, (long)bytes);

        internal ulong TakeAll() => (ulong)Interlocked.Exchange(ref _held, 0);

        /// <summary>The dump is over: what it held and did not write goes back to the others.</summary>
        public void Dispose() => space.Close(this);
    }
}
