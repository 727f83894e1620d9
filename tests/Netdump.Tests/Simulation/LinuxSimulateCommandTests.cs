using System.Globalization;
using Netdump.Actors.Protocol.Linux;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

public sealed class LinuxSimulateCommandTests
{
    private static (int ExitCode, string Output, string Error) Invoke(params string[] args) => SimulateCommandTests.Invoke(args);

    [Fact]
    public async Task Simulate_linux_dumps_and_exits_0_once_rebooted()
    {
        using var server = new LinuxFakeServer();
        var serving = Task.Run(async () =>
        {
            var start = await server.AckAsync();
            await server.AskAsync(LinuxCommand.GetNrPages, 1);
            var regs = await server.AskAsync(LinuxCommand.GetRegs, 2);
            var reserved = await server.AskAsync(LinuxCommand.SendMem, 3, 0x3);
            server.Send(LinuxCommand.Reboot, 4);
            return (start, regs, reserved);
        });

        var (exitCode, output, error) = Invoke(
            "--dialect", "linux", "--port", server.EndPoint.Port.ToString(CultureInfo.InvariantCulture),
            "--arch", "i386", "--memory", "64K", "--reserved", "0x3-0x5", "--magic", "0x0123456789abcdef",
            "--console", "Oops: 0002", "--console", "Kernel panic - not syncing: test");

        Assert.True(exitCode == 0, error + output);
        Assert.Contains("simulating a RHEL4 i386 client: 16 pages of memory (14 RAM)", output);
        Assert.Contains("START acked after 1 sends: protocol version 5", output);
        Assert.Contains("dump complete, rebooted", output);
        var (start, regs, reserved) = await serving;
        Assert.True(LinuxStart.TryParse(start.Header, start.Payload, out var parsed, out _));
        Assert.Equal((ElfMachine.I386, 0x0123456789abcdefUL), (parsed!.Machine, parsed.Magic));
        Assert.Equal(LinuxRegisters.Preamble.Length + 68, regs.Payload.Length);
        Assert.Equal((LinuxReplyCode.Reserved, 5u), (reserved.Header.Code, reserved.Header.Info));
    }

    [Fact]
    public void The_help_shows_how_to_simulate_a_linux_client()
    {
        var (exitCode, output, _) = Invoke("--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("linux: simulate --dialect linux", output);
        Assert.Contains("--reserved", output);
    }

    [Theory]
    [InlineData("--dialect", "bsd")]
    [InlineData("--arch", "sparc")]
    [InlineData("--memory", "5000")]
    [InlineData("--memory", "0")]
    [InlineData("--reserved", "0x10-0x5")]
    [InlineData("--reserved", "zz")]
    [InlineData("--reserved", "0x100000-0x100001")]
    [InlineData("--magic", "xyz")]
    [InlineData("--magic", "11112222333344445")]
    [InlineData("--die-after-pages", "-1")]
    [InlineData("--encrypt", null)]
    [InlineData("--size", "1M")]
    public void Bad_linux_values_give_one_line_and_exit_1(string option, string? value)
    {
        string[] given = value is null ? [option] : [option, value];
        var (exitCode, output, error) = Invoke(option == "--dialect" ? given : ["--dialect", "linux", .. given]);

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("netdump-server: simulate: ", line);
    }

    [Theory]
    [InlineData("--reserved", "0x9f-0x100")]
    [InlineData("--no-startup-line", null)]
    public void Linux_options_are_refused_for_the_freebsd_dialect(string option, string? value)
    {
        var (exitCode, _, error) = Invoke(value is null ? [option] : [option, value]);

        Assert.Equal(1, exitCode);
        Assert.Equal($"netdump-server: simulate: {option} does not apply to the freebsd dialect", error.Trim());
    }
}
