using Netdump.Actors.Native;

namespace Netdump.Tests.Native;

/// <summary>
/// The descriptor table grown at start (<see cref="DescriptorTable"/>), in this test process: what
/// a reservation within the open files limit answers. The table itself only grows and the other
/// tests share it, so its size is seen from outside, in a fresh server
/// (<c>ServerProcessTests.Server_should_start_with_room_for_a_storm_*</c>).
/// </summary>
public sealed class DescriptorTableTests
{
    [Fact]
    public void Reserving_within_the_open_files_limit_reserves_that_many_slots()
    {
        Assert.Equal(new DescriptorTable.Reservation.Reserved(300), DescriptorTable.Reserve(300));
    }
}
