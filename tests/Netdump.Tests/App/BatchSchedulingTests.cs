using Netdump.App.Daemon;
using Netdump.App.Hosting;

namespace Netdump.Tests.App;

/// <summary>
/// The command line the server executes itself again with (<see cref="BatchScheduling"/>), from
/// /proc/self/cmdline's bytes: every argument as it was, an empty one and one that is not UTF-8
/// too. The policy itself is checked on a running server (ServerProcessTests).
/// </summary>
public sealed class BatchSchedulingTests
{
    [Fact]
    public void Arguments_should_keep_empty_ones_and_bytes_that_are_not_utf8()
    {
        // dotnet, netdump-server.dll, "", --dumpdir, 3 bytes that are not UTF-8, --http, ""
        byte[] cmdline = [.. "dotnet\0"u8, .. "netdump-server.dll\0"u8, 0, .. "--dumpdir\0"u8, 0x2f, 0xff, 0xfe, 0, .. "--http\0"u8, 0];

        Assert.Equal([0, 7, 26, 27, 37, 41, 48], BatchScheduling.ArgumentStarts(cmdline));
    }

    [Fact]
    public void Arguments_should_take_a_last_argument_without_its_NUL()
    {
        Assert.Equal([0, 2], BatchScheduling.ArgumentStarts("a\0bc"u8));
    }

    [Fact]
    public void ProcStat_should_count_fields_after_a_name_with_spaces_and_parentheses()
    {
        var stat = new ProcStat("42 (a (b) c) S 1 42 42 0 -1\n");

        Assert.Equal("a (b) c", stat.Name);
        Assert.Equal("S", stat.Field(3));
        Assert.Equal(42, stat.Number(6));
        Assert.Equal(-1, stat.Number(8));
    }
}
