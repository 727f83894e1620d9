using System.Net;
using System.Text;
using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary>
/// What a <see cref="SimulatedClient"/> dumps and how: the server, the dump's size and format,
/// the FreeBSD release whose message order it follows, and the network faults it suffers.
/// Everything random (data and faults) follows <see cref="Seed"/>, except the encryption keys.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>Where the HERALD goes; later messages go to this address and the session port.</summary>
    public IPEndPoint Server { get; init; } = new(IPAddress.Loopback, 20023);

    /// <summary>The client socket is bound to (Source, SourcePort).</summary>
    public IPAddress Source { get; init; } = IPAddress.Loopback;

    /// <summary>Real clients use 20024; 0 picks an ephemeral port (tests).</summary>
    public int SourcePort { get; init; }

    /// <summary>Bytes of (uncompressed) kernel memory.</summary>
    public long Size { get; init; } = 1 << 20;

    /// <summary>Interface MTU; a packet carries at most MTU - 52 payload bytes (at most 4096 on FreeBSD 12).</summary>
    public int Mtu { get; init; } = 1500;

    public string Hostname { get; init; } = "simulated-host";

    public string Panic { get; init; } = "simulated panic";

    /// <summary>The HERALD path (<c>net.netdump.path</c>); empty sends an empty HERALD.</summary>
    public string Path { get; init; } = "";

    /// <summary>Encrypt the dump and send an EKCD key.</summary>
    public bool Encrypt { get; init; }

    /// <summary>The cipher of an encrypted dump (the kernel's <c>kern.crypto</c> choice of <c>dumpon -C</c>).</summary>
    public KeyEncryption Cipher { get; init; } = KeyEncryption.Aes256Cbc;

    /// <summary>
    /// A PEM file with the RSA public key that wraps the dump's key, as <c>dumpon -k</c> takes
    /// one; null wraps it with an ephemeral key pair of the client's own.
    /// </summary>
    public string? PublicKey { get; init; }

    public DumpCompression Compress { get; init; } = DumpCompression.None;

    /// <summary>FreeBSD 12: 4096-byte payload cap, and the key after the KDH.</summary>
    public bool FreeBsd12 { get; init; }

    /// <summary>Probability each datagram sent (and each ack received) is dropped.</summary>
    public double Loss { get; init; }

    /// <summary>Probability a sent datagram is sent twice.</summary>
    public double Duplicate { get; init; }

    /// <summary>Probability a burst is sent in shuffled order.</summary>
    public double Reorder { get; init; }

    /// <summary>Makes the data and the network faults reproducible.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>How long a burst waits for its acks before the unacked packets are resent (the kernel: about 1 s).</summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Transmissions of one burst before the client gives up (the kernel: 12).</summary>
    public int MaxSends { get; init; } = 12;

    /// <summary>Stop silently (like a client losing power) once this many core bytes were acked: no KDH, no FINISHED.</summary>
    public long? DieAfterBytes { get; init; }

    /// <summary>
    /// Never send the VMCORE packets overlapping this range but treat them as acked, which is
    /// what the kernel's ack-aliasing bug does to a lost packet.
    /// </summary>
    public (long Offset, int Length)? Hole { get; init; }

    /// <summary>Most payload bytes one packet carries: debugnet bounds it by MTU - 28 - 24, FreeBSD 12 also by 4096.</summary>
    internal int MaxPayload => FreeBsd12 ? Math.Min(4096, Mtu - 52) : Mtu - 52;

    /// <summary>Throws <see cref="ArgumentException"/> with a one-line message when a value cannot work.</summary>
    internal void Validate()
    {
        SimulationChecks.Endpoints(Server, Source, SourcePort);

        if (Size < 0)
        {
            throw new ArgumentException($"size {Size} is negative");
        }

        // A 64 KiB call must fit in the client's 64-entry ack window, and a datagram in UDP.
        const int minimumMtu = 52 + 1024;
        const int maximumMtu = 65507 - MessageHeader.Size + 52;
        if (Mtu is < minimumMtu or > maximumMtu)
        {
            throw new ArgumentException($"mtu {Mtu} is not {minimumMtu}-{maximumMtu}");
        }

        if (Encoding.UTF8.GetByteCount(Path) + 1 > HeraldPayload.MaxLength)
        {
            throw new ArgumentException($"path is longer than {HeraldPayload.MaxLength - 1} bytes");
        }

        if (!Enum.IsDefined(Compress))
        {
            throw new ArgumentException($"unknown compression {Compress}");
        }

        if (!Encrypt && PublicKey is not null)
        {
            throw new ArgumentException("a public key is only for an encrypted dump (--encrypt)");
        }

        if (!Enum.IsDefined(Cipher))
        {
            throw new ArgumentException($"unknown cipher {Cipher}");
        }

        if (FreeBsd12 && Encrypt && Compress != DumpCompression.None)
        {
            throw new ArgumentException("FreeBSD 12 cannot compress and encrypt a dump at once");
        }

        SimulationChecks.Faults(Loss, Duplicate, Reorder);
        SimulationChecks.Resend(ResendAfter, MaxSends);

        if (DieAfterBytes is < 0)
        {
            throw new ArgumentException($"die-after {DieAfterBytes} is negative");
        }

        if (Hole is { } hole && (hole.Offset < 0 || hole.Length < 0))
        {
            throw new ArgumentException($"hole ({hole.Offset}, {hole.Length}) is negative");
        }
    }
}

/// <summary>
/// How a simulated dump went. <paramref name="PacketsSent"/> counts the client's transmissions
/// (a datagram the simulated network then drops still counts, a duplicate it adds does not);
/// <paramref name="Retransmits"/> those sent again after <see cref="SimulationOptions.ResendAfter"/>;
/// <paramref name="CoreBytes"/> the VMCORE bytes of the calls that were acked (or treated as acked).
/// <paramref name="SessionPort"/> is 0 when no ack ever came.
/// </summary>
public sealed record SimulationResult(
    bool Success,
    string? Error,
    int SessionPort,
    long PacketsSent,
    long Retransmits,
    long AcksReceived,
    long CoreBytes,
    TimeSpan Elapsed);
