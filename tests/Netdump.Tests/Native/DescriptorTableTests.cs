using Netdump.Actors.Native;

namespace Netdump.Tests.Native;

/// <summary>
/// The descriptor table grown at start (<see cref="DescriptorTable"/>), in this test process:
/// a small reservation, since the table only grows and the other tests share it. What a server
/// reserves, and the open files limit it stops at, are seen from outside in
/// <c>DescriptorTableProcessTests</c>.
/// </summary>
public sealed class DescriptorTableTests
{
    [Fact]
    public void Reserving_within_the_open_files_limit_grows_the_table_to_that_many_slots()
    {
        var reservation = DescriptorTable.Reserve(300);

        Assert.Equal(new DescriptorTable.Reservation.Reserved(300), reservation);
        Assert.True(TableSize(Environment.ProcessId) >= 300);
    }

    /// <summary>A process's descriptor table size: <c>FDSize</c> in /proc/PID/status.</summary>
    internal static int TableSize(int pid) =>
        int.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("FDSize:", StringComparison.Ordinal))["FDSize:".Length..].Trim());
}
