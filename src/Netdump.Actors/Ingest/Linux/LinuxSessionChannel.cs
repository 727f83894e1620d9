using System.Net;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// A Linux client's side of a session: the shared Linux port and this dump's
/// <see cref="LinuxPull"/>. What the session calls the HERALD ack is COMM_START_NETDUMP_ACK;
/// "data" is any reply after it; letting the client go is COMM_REBOOT.
/// </summary>
public sealed class LinuxSessionChannel : ISessionChannel
{
    private readonly LinuxPort _port;
    private readonly LinuxPull _pull;
    private int _letGo;

    public LinuxSessionChannel(LinuxPort port, IPEndPoint client, LinuxStart start, PacketMeter? meter = null)
    {
        _port = port;
        _pull = new LinuxPull(port, client, start, meter);
    }

    public IPEndPoint LocalEndpoint => _port.LocalEndpoint;

    public long LastPacketTicks => _pull.LastPacketTicks;

    public DateTimeOffset? FirstDataAt => _pull.FirstDataAt;

    public PumpCounters Counters => _pull.Counters;

    public void Start(CoreFile core, ControlEvents session) => _pull.Start(core, session);

    public void SendAck(uint sequence) => _pull.Ack(sequence);

    public bool TryRetireIfEmpty() => _pull.TryRetire();

    public void Lingering()
    {
        // a Linux client is rebooted, not lingered for
    }

    public void ResumeWrites() => _pull.ResumeWrites();

    /// <summary>
    /// The header is written at the start of the core: pull the pages into it; or, while
    /// <paramref name="roomAwaited"/> (netdump-nospace decides), only once <see cref="ResumeWrites"/>.
    /// </summary>
    public void PullMemory(long dataOffset, bool roomAwaited) => _pull.PullMemory(dataOffset, roomAwaited);

    /// <summary>The memory is final: ask for the task list into the log, then <see cref="LinuxPull.ConsoleDone"/>.</summary>
    public void ShowState() => _pull.ShowState();

    /// <summary>Every page is in: the pull waits for the console text SHOW_STATE prints, or is done.</summary>
    public bool MemoryIn => _pull.MemoryIn;

    /// <inheritdoc cref="LinuxPull.ReservedFrames"/>
    public IReadOnlyList<ByteRange> ReservedFrames => _pull.ReservedFrames;

    /// <summary>COMM_REBOOT, once: the session tells it when the dump is final and netdump-reboot has run, and again as it stops.</summary>
    public void LetGo()
    {
        if (Interlocked.Exchange(ref _letGo, 1) == 0)
        {
            _pull.Reboot();
        }
    }

    public void Superseded() => _pull.Superseded();

    /// <summary>The pull writes only under its lock, which <see cref="LinuxPull.Stop"/> takes: nothing is written after it.</summary>
    public void Stop(Action stopped)
    {
        _pull.Stop();
        stopped();
    }

    public void Dispose() => _pull.Stop();
}
