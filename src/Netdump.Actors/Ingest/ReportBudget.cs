namespace Netdump.Actors.Ingest;

/// <summary>
/// Allows a receive loop at most <c>perSecond</c> reports of dropped datagrams a second, so that
/// a flood of bad packets is counted but cannot flood the actors or the log. Used by one thread.
/// </summary>
internal sealed class ReportBudget(int perSecond)
{
    private long _windowStart = Environment.TickCount64;
    private int _used;

    public bool TryTake()
    {
        var now = Environment.TickCount64;
        if (now - _windowStart >= 1000)
        {
            _windowStart = now;
            _used = 0;
        }

        return _used++ < perSecond;
    }
}
