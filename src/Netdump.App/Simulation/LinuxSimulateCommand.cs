using System.CommandLine;
using System.Globalization;

namespace Netdump.App.Simulation;

/// <summary>
/// The <c>simulate --dialect linux</c> part of the subcommand: the options only a Linux client
/// has, the client they make, and its run with one line per phase (exit codes as
/// <see cref="SimulateCommand"/>: 0 when the server rebooted the client, 1 otherwise).
/// </summary>
internal sealed class LinuxSimulateCommand
{
    private readonly Option<string> arch = SimulateCommand.Text("--arch", "linux: the crashed machine, x86_64 or i386", "x86_64");
    private readonly Option<string> memory = SimulateCommand.Text("--memory", "linux: bytes of physical memory, a multiple of 4K (e.g. 8M)", "8M");
    private readonly Option<string> magic = SimulateCommand.Text(
        "--magic", "linux: netdump_magic in hex (magic2 then magic1, as the server's magic file holds it)", "1111111111111111");
    private readonly Option<string> reserved = SimulateCommand.Text("--reserved", "linux: page frames that are not RAM, end exclusive (e.g. 0x9f-0x100,0x200)", "");
    private readonly Option<string[]> console = new("--console")
    {
        Description = "linux: console text printed before the panic, once per line (default: a \"Kernel panic - not syncing\" line)",
    };

    private readonly Option<bool> noStartupLine = new("--no-startup-line")
    {
        Description = "linux: do not send [...network console startup...] (as if the server was not listening when the module loaded)",
    };

    private readonly Option<string?> dieAfterPages = new("--die-after-pages") { Description = "linux: stop answering after sending this many pages" };

    public IReadOnlyList<Option> Options => [arch, memory, magic, reserved, console, noStartupLine, dieAfterPages];

    /// <exception cref="ArgumentException">A value is bad (one line).</exception>
    public LinuxSimulatedClient CreateClient(ParseResult parseResult, SimulationTarget target)
    {
        var reservedText = parseResult.GetValue(reserved)!;
        if (!PfnRange.TryParseList(reservedText, out var ranges, out var problem))
        {
            throw new ArgumentException($"--reserved {problem}");
        }

        var machineText = parseResult.GetValue(arch)!;
        return new LinuxSimulatedClient(new LinuxSimulationOptions
        {
            Server = target.Server,
            Source = target.Source,
            SourcePort = target.SourcePort,
            Machine = LinuxMachine.Find(machineText) ?? throw new ArgumentException($"--arch \"{machineText}\" is not x86_64 or i386"),
            Memory = SimulateCommand.ParseSize("--memory", parseResult.GetValue(memory)!),
            Magic = ParseMagic(parseResult.GetValue(magic)!),
            Reserved = ranges,
            Console = parseResult.GetValue(console) is { Length: > 0 } lines ? lines : new LinuxSimulationOptions().Console,
            StartupLine = !parseResult.GetValue(noStartupLine),
            DieAfterPages = parseResult.GetValue(dieAfterPages) is { } die
                ? SimulateCommand.ParseInt("--die-after-pages", die, 0, int.MaxValue)
                : null,
            Loss = target.Loss,
            Duplicate = target.Duplicate,
            Reorder = target.Reorder,
            Seed = target.Seed,
        });
    }

    public static async Task<int> RunAsync(LinuxSimulatedClient client, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var o = client.Options;
        output.WriteLine(
            $"simulating a RHEL4 {o.Machine} client: {client.Memory.Pages} pages of memory ({client.Memory.RamPages} RAM), " +
            $"magic 0x{o.Magic:x}, to {o.Server}");
        client.Progress = output.WriteLine;
        return await SimulateCommand.Conclude(
            client.RunAsync(cancellationToken), r => r.Success ? null : r.Error, Summary, "dump complete, rebooted", output, errors);
    }

    private static string Summary(LinuxSimulationResult result) =>
        $"{result.StartsSent} STARTs, {result.RequestsReceived} requests ({result.RepeatedRequests} repeated), " +
        $"{result.PagesSent} pages sent, {result.PacketsSent} packets, version {result.Version}, {result.Elapsed.TotalSeconds:F2} s";

    private static ulong ParseMagic(string text)
    {
        var digits = text.Trim();
        digits = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? digits[2..] : digits;
        return Netdump.Actors.Protocol.Linux.LinuxStart.TryHexDigits(digits, out var value)
            ? value
            : throw new ArgumentException($"--magic \"{text}\" is not a 64-bit hex number");
    }
}
