using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>Free space: the room held for the reports, the size cap, and telling the session when space runs low.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>
    /// The room held at open for the final reports (null inside: none could be held, the file
    /// system is at its reserve, and the reports take from it, as a dump's reports may).
    /// </summary>
    private sealed record HeldRoom(DiskSpace.Account? Account)
    {
        /// <summary>Files were written in it: on the disk now (the next measurement sees them), the rest goes back.</summary>
        public void Written()
        {
            Account?.Spent(DumpReport.ReservedBytes);
            Account?.Dispose();
        }

        /// <summary>Nothing was written in it: all of it goes back to the other dumps.</summary>
        public void GiveBack() => Account?.Dispose();
    }

    /// <summary>Held until the reports' files exist; null once they do, or once the final reports took the room.</summary>
    private HeldRoom? _reportsRoom;

    /// <summary>
    /// At the first flush tick: the files the final reports are written into, in the room held
    /// for them, so that a dump which fills the file system can still be described.
    /// </summary>
    private void MakeReportsRoom()
    {
        if (_reportsRoom is not { } room)
        {
            return;
        }

        _reportsRoom = null;
        try
        {
            DumpReport.Reserve(_directory);
            room.Written();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            room.GiveBack();
            _log.Warning("Client {Client}: no room to reserve for the reports of {Dir}: {Error}", _herald.Client.Address, _directory, e.Message);
        }
    }

    /// <summary>
    /// The final, durable reports. A dump that ended before its first flush tick writes them in
    /// the room still held for them: spent once they are written, given back if the write
    /// failed (which throws on, as <see cref="DumpReport.WriteFinal"/> does).
    /// </summary>
    private void WriteFinalReports(DumpRecord record)
    {
        var room = _reportsRoom;
        _reportsRoom = null;
        try
        {
            DumpReport.WriteFinal(record);
        }
        catch
        {
            room?.GiveBack();
            throw;
        }

        room?.Written();
    }

    private ulong FreeBeyondReports()
    {
        var free = _freeSpace(_directory);
        return free > DumpReport.ReservedBytes ? free - DumpReport.ReservedBytes : 0;
    }

    /// <summary>Null when there is room; otherwise what is free and what is needed.</summary>
    private LowSpace? MeasureSpace()
    {
        var available = _freeSpace(_directory);
        var needed = _settings.MinFreeSpace;
        if (ExpectedLength is { } length && _core is not null && length > _core.BytesReceived)
        {
            // saturating: a KDH may claim any length up to 2^64
            var rest = length - _core.BytesReceived;
            needed = rest > ulong.MaxValue - needed ? ulong.MaxValue : needed + rest;
        }

        return available < needed ? new LowSpace(available, needed) : null;
    }

    /// <summary>Null when the room all dumps share (free space less the reserve and the others' reservations) is not empty.</summary>
    private LowSpace? MeasureSharedRoom() => _space.HasRoomFor(DiskSpace.Chunk)
        ? null
        : new LowSpace(_freeSpace(_directory), _settings.MinFreeSpace + DiskSpace.Chunk);

    /// <summary>Tells the session once when space runs low; again only after it recovered.</summary>
    private void ReportLowSpace()
    {
        var low = MeasureSpace();
        if (low is not null && !_lowSpaceReported)
        {
            Context.Parent.Tell(low);
        }

        _lowSpaceReported = low is not null;
    }
}
