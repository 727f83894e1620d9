using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>
/// What a Linux dump's log says of its crash (SPEC §7). The log starts with the client's console
/// file, which runs across its boots: the panic line and kernel are the last crash's.
/// </summary>
public sealed class ConsoleLogTests
{
    private const string EarlierCrash =
        "Oops: 0002 [#1] A\nPid: 1, comm: x Not tainted 2.6.9-1.EL\nKernel panic - not syncing: A\n";

    /// <summary>A RHEL4 oops: die() calls netdump, no "Kernel panic" line follows.</summary>
    private const string CurrentOops = "Oops: 0002 [#1] B\nPid: 1, comm: x Not tainted 2.6.9-2.EL\n";

    private const string DumpsOwnText = "< netdump activated - performing handshake with the server. >\ninit          S 00000000     0     1      0\n";

    [Theory]
    [InlineData(EarlierCrash + "[...network console startup...]\n" + CurrentOops + DumpsOwnText)]
    [InlineData(EarlierCrash + "eth0: link up\n" + CurrentOops + DumpsOwnText)] // the startup line's packet lost
    public void An_oops_after_an_earlier_boots_panic_is_the_crash_with_its_own_kernel(string log)
    {
        Assert.Equal(("Oops: 0002 [#1] B", "2.6.9-2.EL"), ConsoleLog.Crash(log));
    }

    [Fact]
    public void Of_panic_lines_from_several_boots_without_startup_lines_the_last_is_the_crash()
    {
        var log = EarlierCrash
            + "Oops: 0002 [#1] C\nPid: 1, comm: x Not tainted 2.6.9-3.EL\nKernel panic - not syncing: C\n" + DumpsOwnText;

        Assert.Equal(("Kernel panic - not syncing: C", "2.6.9-3.EL"), ConsoleLog.Crash(log));
    }

    [Theory]
    [InlineData("Oops: 0000 [#2] SMP\n")] // another CPU's oops, printed before netdump silenced the console
    [InlineData("------------[ cut here ]------------\nkernel BUG at kernel/sched.c:2867!\ninvalid operand: 0000 [#2]\n")] // one while the task list was printed
    [InlineData("Oops: 0000 [2] SMP\n")] // x86_64 numbers them without the #
    [InlineData("----------- [cut here ] --------- [please bite here ] ---------\nKernel BUG at spinlock:119\ninvalid operand: 0000 [2] SMP\n")]
    public void An_oops_the_kernel_counts_as_its_boots_second_after_the_panic_is_the_same_crash(string after)
    {
        var log = "Oops: 0002 [#1] A\nPid: 1, comm: x Not tainted 2.6.9-1.EL\nKernel panic - not syncing: A\n" + after + DumpsOwnText;

        Assert.Equal(("Kernel panic - not syncing: A", "2.6.9-1.EL"), ConsoleLog.Crash(log));
    }

    [Fact]
    public void A_numbered_oops_after_a_panic_whose_boot_numbered_none_is_a_later_boots()
    {
        // nothing heard of the panic's boot counted its oopses: the second oops is another boot's
        // (its first, like its startup line, not heard)
        var log = "Pid: 1, comm: x Not tainted 2.6.9-1.EL\nKernel panic - not syncing: VFS: Unable to mount root fs\n"
            + "Oops: 0000 [#2] B\nPid: 7, comm: y Not tainted 2.6.9-2.EL\n" + DumpsOwnText;

        Assert.Equal(("Oops: 0000 [#2] B", "2.6.9-2.EL"), ConsoleLog.Crash(log));
    }

    [Fact]
    public void A_panic_on_the_logs_first_line_followed_by_an_oops_is_read_without_a_fault()
    {
        // nothing of the panic's boot before its panic line: no oops count to compare with (once
        // the count of an empty boot threw, and the dump's reports with it)
        Assert.Equal(("Oops: 0000 [#1] B", null), ConsoleLog.Crash("Kernel panic - not syncing: A\nOops: 0000 [#1] B\n"));
    }

    [Fact]
    public void A_last_boot_that_printed_no_crash_says_none_rather_than_an_earlier_boots()
    {
        Assert.Equal((null, null), ConsoleLog.Crash(EarlierCrash + "[...network console startup...]\neth0: link up\n" + DumpsOwnText));
    }
}
