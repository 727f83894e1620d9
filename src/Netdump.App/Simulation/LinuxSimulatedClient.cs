using Netdump.Actors.Protocol.Linux;

namespace Netdump.App.Simulation;

/// <summary>
/// A crashing RHEL4 kernel with the <c>netdump</c> module (<c>drivers/net/netdump.c</c>):
/// console text, then REPLY_START_NETDUMP every second until COMM_START_NETDUMP_ACK, then it
/// answers the server's requests one by one until COMM_REBOOT. Used by the <c>simulate
/// --dialect linux</c> subcommand and by the end-to-end tests, which compare what the server
/// stored with <see cref="Memory"/>, <see cref="Machine"/>'s registers and <see cref="Start"/>.
/// Each <see cref="RunAsync"/> is a fresh boot (console offsets from 0) on its own thread.
/// </summary>
public sealed class LinuxSimulatedClient
{
    /// <summary><c>NETDUMP_VERSION</c>: HELLO's answer, the console's and START's version byte.</summary>
    public const byte NetdumpVersion = 4;

    /// <summary><c>NETDUMP_VERSION_MAX</c>: START's <c>info</c>, the highest version the client speaks.</summary>
    public const byte MaxVersion = 5;

    /// <exception cref="ArgumentException">An option value cannot work (the message is one line).</exception>
    public LinuxSimulatedClient(LinuxSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Memory = new LinuxMemory(options.Memory, options.Reserved, options.Seed);
        Start = new LinuxStart(Machine.ElfMachine, MaxVersion, Machine.TaskStruct, Machine.PageOffset, options.Magic);
    }

    public LinuxSimulationOptions Options { get; }

    public LinuxMachine Machine => Options.Machine;

    public LinuxMemory Memory { get; }

    /// <summary>The START the client sends (header fields and payload).</summary>
    public LinuxStart Start { get; }

    /// <summary>Called on the client's thread with one human-readable line per phase.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>
    /// Runs until the client reboots, leaves netdump mode, dies or gives up (a failed result);
    /// throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public Task<LinuxSimulationResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var progress = Progress;
        return SimulationThread.Run(
            () =>
            {
                using var transfer = new LinuxTransfer(this, progress, cancellationToken);
                return transfer.Run();
            },
            cancellationToken);
    }
}
