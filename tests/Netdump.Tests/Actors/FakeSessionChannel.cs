using System.Net;
using Akka.Actor;
using Netdump.Actors.Ingest;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Actors;

/// <summary>
/// Stands in for a session's socket and receive pump: every <see cref="SendAck"/> is told to
/// <c>acks</c> as an <see cref="AckSent"/>, and the test decides what the pump has seen
/// (<see cref="LastPacketTicks"/>, <see cref="FirstDataAt"/>). Start, Stop, Dispose and Lingering
/// are recorded; once retired, the fake takes no data, as the real pump.
/// </summary>
internal sealed class FakeSessionChannel(IActorRef acks, IPAddress local) : ISessionChannel
{
    private long _lastPacketTicks = Environment.TickCount64;
    private readonly object _gate = new();
    private DateTimeOffset? _firstDataAt;
    private bool _retired;
    private int _disposals;

    /// <summary>What the fake tells its probe for each ack the session sends.</summary>
    public sealed record AckSent(uint Sequence);

    public IPEndPoint LocalEndpoint { get; } = new(local, 40_000);

    public CoreFile? StartedWith { get; private set; }

    public ControlEvents? Session { get; private set; }

    public long LastPacketTicks
    {
        get => Interlocked.Read(ref _lastPacketTicks);
        set => Interlocked.Exchange(ref _lastPacketTicks, value);
    }

    public DateTimeOffset? FirstDataAt
    {
        get { lock (_gate) return _firstDataAt; }
        set
        {
            lock (_gate)
            {
                if (!_retired)
                {
                    _firstDataAt = value;
                }
            }
        }
    }

    public bool Disposed => Volatile.Read(ref _disposals) > 0;

    public PumpCounters Counters => default;

    /// <summary>The first data arrives, as the real pump takes it: its time, and its event told through the session's delegate.</summary>
    public void ArriveFirstData()
    {
        FirstDataAt = DateTimeOffset.UtcNow;
        Session?.Invoke(PumpEvent.FirstData.Instance);
    }

    /// <summary>A packet arrived just now.</summary>
    public void Touch() => LastPacketTicks = Environment.TickCount64;

    public void Start(CoreFile core, ControlEvents session)
    {
        StartedWith = core;
        Session = session;
    }

    public void SendAck(uint sequence) => acks.Tell(new AckSent(sequence));

    /// <summary>Runs as the session tries to retire the pump, as a pump whose first data arrives just then.</summary>
    public Action? BeforeRetiring { get; set; }

    public bool Retired
    {
        get { lock (_gate) return _retired; }
    }

    public bool IsLingering { get; private set; }

    public bool TryRetireIfEmpty()
    {
        BeforeRetiring?.Invoke();
        lock (_gate)
        {
            _retired |= _firstDataAt is null;
            return _retired;
        }
    }

    public void Lingering() => IsLingering = true;

    public bool WritesResumed { get; private set; }

    public void ResumeWrites() => WritesResumed = true;

    /// <summary>When set, a stop waits for <see cref="PumpLeaves"/>, as a pump inside a write on a slow disk does.</summary>
    public bool PumpInWrite { get; set; }

    private Action? _whenStopped;

    public void Stop(Action stopped)
    {
        Interlocked.Increment(ref _disposals);
        if (PumpInWrite)
        {
            _whenStopped = stopped;
        }
        else
        {
            stopped();
        }
    }

    /// <summary>The pump's write returns and it leaves: the session hears that it stopped.</summary>
    public void PumpLeaves() => Interlocked.Exchange(ref _whenStopped, null)?.Invoke();

    public void Dispose() => Interlocked.Increment(ref _disposals);
}
