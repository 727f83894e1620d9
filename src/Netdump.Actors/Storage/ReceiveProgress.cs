namespace Netdump.Actors.Storage;

/// <summary>How fast a dump arrives, in bytes per second: over the last flush tick, and on average since it opened.</summary>
public readonly record struct ReceiveRate(ulong LastTick, ulong Average)
{
    /// <summary>
    /// Seconds until <paramref name="length"/> bytes are in at <paramref name="bytesPerSecond"/>
    /// (rounded up); null when the length is not known or nothing is arriving.
    /// </summary>
    public static ulong? SecondsLeft(ulong received, ulong? length, ulong bytesPerSecond) =>
        length is { } total && bytesPerSecond > 0
            ? (total > received ? (total - received + bytesPerSecond - 1) / bytesPerSecond : 0)
            : null;
}

/// <summary>
/// The progress of one dump, sampled at the writer's flush ticks: the rate of each tick, whether
/// anything a receiving report shows changed since the last tick, and when a progress line is
/// due in the log. Times are the elapsed time since the dump opened, so that tests give them.
/// </summary>
public sealed class ReceiveProgress(TimeSpan logInterval)
{
    private TimeSpan _tickAt;
    private ulong _tickBytes;
    private TimeSpan _loggedAt;
    private ulong _loggedBytes;

    /// <summary>The rate measured at the last <see cref="Tick"/>.</summary>
    public ReceiveRate Rate { get; private set; }

    /// <summary>
    /// Samples the bytes received so far. Returns true when a receiving report would show
    /// something new: more bytes, or a rate that has just fallen to zero (a stalled client is
    /// reported once, then not again until data arrives).
    /// </summary>
    public bool Tick(ulong bytes, TimeSpan elapsed)
    {
        var changed = bytes != _tickBytes || Rate.LastTick != 0;
        Rate = new ReceiveRate(PerSecond(bytes - _tickBytes, elapsed - _tickAt), PerSecond(bytes, elapsed));
        _tickAt = elapsed;
        _tickBytes = bytes;
        return changed;
    }

    /// <summary>
    /// The bytes per second since the last progress line (or since the dump opened), when a
    /// line is due: once <see cref="logInterval"/> has passed since the last one. Null otherwise;
    /// so a dump shorter than the interval logs no progress at all.
    /// </summary>
    public ulong? LogDue(ulong bytes, TimeSpan elapsed)
    {
        if (elapsed - _loggedAt < logInterval)
        {
            return null;
        }

        var rate = PerSecond(bytes - _loggedBytes, elapsed - _loggedAt);
        _loggedAt = elapsed;
        _loggedBytes = bytes;
        return rate;
    }

    private static ulong PerSecond(ulong bytes, TimeSpan time) =>
        time <= TimeSpan.Zero ? 0 : (ulong)(bytes / time.TotalSeconds);
}
