using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary>
/// A crashing FreeBSD kernel dumping to a netdump server, as <c>debugnet</c> does it: HERALD to
/// the server's port, everything after it to the port of the first ack, 64 KiB calls of at most
/// 64 packets acked one by one, resent after a timeout, in the message order of FreeBSD 13+ (or
/// 12). Used by the <c>simulate</c> subcommand and by the end-to-end tests. The dump is prepared
/// in the constructor, so <see cref="Core"/>, <see cref="Key"/> and <see cref="Header"/> say
/// what a server must store before anything is sent. Each <see cref="RunAsync"/> is a fresh
/// connection (seqnos from 1) on its own thread.
/// </summary>
public sealed class SimulatedClient
{
    private readonly DumpImage image;

    /// <exception cref="ArgumentException">An option value cannot work (the message is one line).</exception>
    public SimulatedClient(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        image = new DumpImage(options);
    }

    public SimulationOptions Options { get; }

    /// <summary>
    /// Exactly the bytes the stored core of a complete dump must equal, after the server
    /// truncated a compressed dump to dumplength. Uncompressed cores are generated on first use.
    /// </summary>
    public ReadOnlyMemory<byte> Core => image.Core;

    /// <summary>The EKCD key as sent (padded to 4096 bytes); empty when not encrypted.</summary>
    public ReadOnlyMemory<byte> Key => image.Key;

    /// <summary>The kernel dump header that will be sent, with its parity.</summary>
    public KernelDumpHeader Header => image.Header;

    /// <summary>Called on the client's thread with one human-readable line per phase.</summary>
    public Action<string>? Progress { get; set; }

    /// <summary>The prepared dump, with the encryption keys (tests decrypt with them).</summary>
    internal DumpImage Image => image;

    /// <summary>
    /// Dumps once. Completes with a failed result when the server stops acking (or the
    /// simulated client dies); throws <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    public Task<SimulationResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var progress = Progress;
        return SimulationThread.Run(
            () =>
            {
                using var transfer = new NetdumpTransfer(Options, image, progress, cancellationToken);
                return transfer.Run();
            },
            cancellationToken);
    }
}
