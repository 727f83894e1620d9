using System.Net;

namespace Netdump.App.Simulation;

/// <summary>
/// What a <see cref="LinuxSimulatedClient"/> is and how its network behaves: the server, the
/// machine, the memory (size, reserved frames, seed), the magic it announces, the console text
/// before the panic, and the faults shared with the FreeBSD simulation.
/// </summary>
public sealed record LinuxSimulationOptions
{
    /// <summary>
    /// <c>magic1 = magic2 = 0x11111111</c>, the module parameters the Red Hat init script uses
    /// with <c>NETDUMPKEYEXCHANGE=none</c> (the kernel's magic is <c>magic1 + (magic2 &lt;&lt; 32)</c>).
    /// </summary>
    public const ulong DefaultMagic = 0x1111_1111_1111_1111;

    /// <summary>Where every packet goes: console text, START and replies (netpoll's fixed remote port).</summary>
    public IPEndPoint Server { get; init; } = new(IPAddress.Loopback, 6666);

    public IPAddress Source { get; init; } = IPAddress.Loopback;

    /// <summary>Real clients use 6666; 0 picks an ephemeral port (tests).</summary>
    public int SourcePort { get; init; }

    public LinuxMachine Machine { get; init; } = LinuxMachine.X86_64;

    /// <summary>Bytes of physical memory, a multiple of 4096.</summary>
    public long Memory { get; init; } = 8 << 20;

    /// <summary>Frames that are not RAM (x86 has 0x9f-0x100, the hole below 1 MiB).</summary>
    public IReadOnlyList<PfnRange> Reserved { get; init; } = [];

    /// <summary>
    /// The <c>netdump_magic</c> in START. The RHEL4 kernel never looks at the magic of the
    /// server's requests, and neither does this client.
    /// </summary>
    public ulong Magic { get; init; } = DefaultMagic;

    /// <summary>
    /// Console text printed before the panic, one <c>printk</c> per entry (a newline is added
    /// when missing; an empty entry sends nothing, as an empty printk does).
    /// </summary>
    public IReadOnlyList<string> Console { get; init; } = ["Kernel panic - not syncing: simulated panic"];

    /// <summary>
    /// Send <c>[...network console startup...]</c> at offset 0 first. Without it the console
    /// offsets still count it, as for a server that was not listening when the module loaded.
    /// </summary>
    public bool StartupLine { get; init; } = true;

    public double Loss { get; init; }

    public double Duplicate { get; init; }

    public double Reorder { get; init; }

    /// <summary>Makes the memory and the network faults reproducible.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>How long START waits for an answer before it is sent again (the kernel: 1 s).</summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The simulation's bound where the kernel has none: STARTs sent before giving up, and
    /// <see cref="ResendAfter"/> × this is how long a silent server is waited for during the dump.
    /// </summary>
    public int MaxSends { get; init; } = 60;

    /// <summary>Stop answering (like a client losing power) once this many pages were sent.</summary>
    public long? DieAfterPages { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message when a value cannot work.</summary>
    internal void Validate()
    {
        SimulationChecks.Endpoints(Server, Source, SourcePort);
        ArgumentNullException.ThrowIfNull(Machine);
        if (Memory <= 0 || Memory % LinuxMemory.PageSize != 0 || Memory / LinuxMemory.PageSize > int.MaxValue)
        {
            throw new ArgumentException($"memory {Memory} is not a positive multiple of {LinuxMemory.PageSize} below 8 TiB");
        }

        var pages = Memory / LinuxMemory.PageSize;
        foreach (var range in Reserved)
        {
            if (range.End <= range.Start || range.End > pages)
            {
                throw new ArgumentException($"reserved range {range} is empty or beyond the {pages} pages of memory");
            }
        }

        SimulationChecks.Faults(Loss, Duplicate, Reorder);
        SimulationChecks.Resend(ResendAfter, MaxSends);
        if (DieAfterPages is < 0)
        {
            throw new ArgumentException($"die-after-pages {DieAfterPages} is negative");
        }
    }
}

/// <summary>How a simulated Linux client's dump ended; only <see cref="Rebooted"/> is a success.</summary>
public enum LinuxClientEnd
{
    /// <summary>COMM_REBOOT arrived: the server is done with the client.</summary>
    Rebooted,

    /// <summary>COMM_EXIT: the client answered REPLY_END_NETDUMP and left netdump mode, never rebooted.</summary>
    Exited,

    /// <summary>No COMM_START_NETDUMP_ACK after <see cref="LinuxSimulationOptions.MaxSends"/> STARTs.</summary>
    NoAck,

    /// <summary>The ACK's version gives an effective version of 0: the kernel reboots at once.</summary>
    VersionRefused,

    /// <summary>No request for <see cref="LinuxSimulationOptions.ResendAfter"/> × MaxSends during the dump.</summary>
    ServerSilent,

    /// <summary><see cref="LinuxSimulationOptions.DieAfterPages"/> was reached.</summary>
    Died,

    /// <summary>The client socket could not be bound.</summary>
    CannotBind,
}

/// <summary>
/// How a simulated Linux dump went. <paramref name="PacketsSent"/> counts the client's
/// datagrams (a lost one still counts, a duplicate does not); <paramref name="PagesSent"/> the
/// SEND_MEMs answered with a page (repeats included); <paramref name="RepeatedRequests"/> the
/// requests for something already answered (a page sent before, a second HELLO...), which is
/// what the server's retransmissions look like from the client.
/// </summary>
public sealed record LinuxSimulationResult(
    LinuxClientEnd End,
    string? Error,
    byte Version,
    long StartsSent,
    long RequestsReceived,
    long RepeatedRequests,
    long PagesSent,
    long PacketsSent,
    TimeSpan Elapsed)
{
    public bool Success => End == LinuxClientEnd.Rebooted;
}
