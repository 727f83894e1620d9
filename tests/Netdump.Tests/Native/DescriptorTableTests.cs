using Netdump.Actors.Native;

namespace Netdump.Tests.Native;

/// <summary>
/// The descriptor table grown at start (<see cref="DescriptorTable"/>), seen from outside: the
/// kernel's <c>FDSize</c> for this process, and the open files limit it stops at.
/// </summary>
public sealed class DescriptorTableTests
{
    [Fact]
    public void Reserving_grows_the_process_table_to_hold_that_many_descriptors_without_keeping_any_open()
    {
        // more than this test process otherwise opens, so that the table cannot already be that large
        var wanted = (int)Math.Min(OpenFilesSoftLimit(), 12_000);

        var reserved = DescriptorTable.Reserve(wanted);

        Assert.Equal(wanted, reserved);
        Assert.True(TableSize() >= wanted, $"FDSize {TableSize()} after reserving {wanted}");
        Assert.DoesNotContain(OpenDescriptors(), fd => fd >= wanted - 1); // the high one made for it was closed
    }

    [Fact]
    public void Reserving_stops_at_the_open_files_limit()
    {
        var limit = OpenFilesSoftLimit();
        Assert.Equal((int)Math.Min(limit, int.MaxValue), DescriptorTable.Reserve((int)Math.Min(limit + 1, int.MaxValue)));
    }

    /// <summary>The table's size: <c>FDSize</c> in /proc/self/status.</summary>
    internal static int TableSize() =>
        int.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("FDSize:", StringComparison.Ordinal))["FDSize:".Length..].Trim());

    /// <summary>The soft RLIMIT_NOFILE: "Max open files" in /proc/self/limits.</summary>
    internal static long OpenFilesSoftLimit() =>
        long.Parse(File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);

    private static IEnumerable<int> OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Select(path => int.Parse(Path.GetFileName(path)));
}
