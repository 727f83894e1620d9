using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>The room all dumps share: reservations ahead of writes, the reserve kept, what a dump did not use given back.</summary>
public sealed class DiskSpaceTests
{
    private const ulong MiB = 1 << 20;
    private ulong _free;

    private DiskSpace Space(ulong free, ulong reserve)
    {
        _free = free;
        return new DiskSpace("/unused", reserve, _ => Volatile.Read(ref _free));
    }

    /// <summary>As the disk does: bytes written leave the free space.</summary>
    private void Write(DiskSpace.Account account, ulong bytes)
    {
        Assert.True(account.TryReserve(bytes));
        Volatile.Write(ref _free, _free - bytes);
        account.Spent(bytes);
    }

    [Fact]
    public void A_dump_opens_with_a_chunk_reserved_and_writes_within_it_without_measuring()
    {
        var space = Space(free: 100 * MiB, reserve: 10 * MiB);
        var account = space.Open();
        Assert.Equal(DiskSpace.Chunk, account.Held);

        Write(account, MiB);
        Assert.Equal(DiskSpace.Chunk - MiB, account.Held);
    }

    [Fact]
    public void The_dump_that_would_cross_the_reserve_is_refused_and_the_one_with_its_reservation_goes_on()
    {
        var space = Space(free: 16 * MiB, reserve: 2 * MiB); // 14 MiB of room
        var early = space.Open();                           // holds 4 MiB ahead
        var big = space.Open();                             // holds 4 MiB
        for (var i = 0; i < 10; i++)
        {
            Write(big, MiB);                                // takes the other 6 MiB, a chunk at a time
        }

        Assert.False(big.TryReserve(MiB));                  // the reserve would be crossed: refused
        Write(early, MiB);                                  // the earlier dump writes from what it holds
        Write(early, 3 * MiB);
        Assert.Equal(2 * MiB, _free);                       // the reserve is whole
    }

    [Fact]
    public void A_finished_dump_gives_back_what_it_held_and_cannot_reserve_any_more()
    {
        var space = Space(free: 10 * MiB, reserve: 2 * MiB); // 8 MiB: two chunks
        var first = space.Open();
        var second = space.Open();
        var third = space.Open();
        Assert.Equal(0UL, third.Held);
        Assert.False(third.TryReserve(1));

        first.Dispose();
        Assert.True(third.TryReserve(1));
        Assert.False(first.TryReserve(1));
        Assert.Equal(8 * MiB, second.Held + third.Held);
    }

    [Fact]
    public void Room_freed_on_the_disk_is_seen_at_the_next_measurement()
    {
        var space = Space(free: 3 * MiB, reserve: 2 * MiB);
        var account = space.Open();
        Write(account, MiB);
        Assert.False(account.TryReserve(1));
        Assert.False(space.HasRoomFor(1));

        Volatile.Write(ref _free, 50 * MiB); // netdump-nospace removed an old dump
        Assert.True(space.HasRoomFor(DiskSpace.Chunk));
        Assert.True(account.TryReserve(1));
    }

    [Fact]
    public void Room_held_for_files_about_to_be_made_is_no_dumps_and_stays_taken_once_they_are_written()
    {
        var space = Space(free: 6 * MiB + 16 * 1024, reserve: 2 * MiB); // a chunk and 16 KiB of room
        var held = space.Hold(16 * 1024)!;
        Assert.Equal(16 * 1024UL, held.Held);
        Assert.Null(space.Hold(4 * MiB + 1));                // the rest is a chunk, not more

        var core = space.Open();                            // a dump's core gets the chunk
        Assert.Equal(DiskSpace.Chunk, core.Held);
        Write(core, DiskSpace.Chunk);
        Assert.False(core.TryReserve(1));                   // and not the held room

        Volatile.Write(ref _free, _free - 16 * 1024);       // the held files are written
        held.Spent(16 * 1024);
        held.Dispose();
        Assert.False(core.TryReserve(1));                   // what they took is not given back
        Assert.Equal(2 * MiB, _free);                       // the reserve is whole
    }

    [Fact]
    public void The_dumps_being_received_are_the_open_dump_accounts_not_the_room_held_for_files()
    {
        var space = Space(free: 100 * MiB, reserve: 0);
        var first = space.Open();
        var second = space.Open();
        using var files = space.Hold(16 * 1024)!;
        Assert.Equal(2, space.DumpsReceiving);

        first.Dispose();
        first.Dispose(); // a dump's end closes its account once, whoever closes it again
        Assert.Equal(1, space.DumpsReceiving);
        second.Dispose();
        Assert.Equal(0, space.DumpsReceiving);
    }
}
