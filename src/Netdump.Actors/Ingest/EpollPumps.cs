namespace Netdump.Actors.Ingest;

/// <summary>
/// The listener's shared session pumps: one <see cref="EpollPump"/> thread per core, each
/// serving the sockets it was given. A session goes to the one with the fewest sockets. With
/// more sessions than cores (a crash storm), a few threads that each drain every ready socket
/// in one wake-up cost less than a thread per session, and leave the actors that start new
/// dumps a fair share of the cores (docs/performance.md, "Crash storms").
/// </summary>
internal sealed class EpollPumps : IDisposable
{
    private readonly EpollPump[] _pumps;

    public EpollPumps(int count)
    {
        _pumps = new EpollPump[Math.Max(1, count)];
        try
        {
            for (var i = 0; i < _pumps.Length; i++)
            {
                _pumps[i] = new EpollPump();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>One pump per core: more threads than cores only take turns.</summary>
    public static int PerCore => Environment.ProcessorCount;

    /// <summary>The pump with the fewest sockets (a race between two sessions only makes them one apart).</summary>
    public EpollPump Least()
    {
        var least = _pumps[0];
        foreach (var pump in _pumps)
        {
            if (pump.Count < least.Count)
            {
                least = pump;
            }
        }

        return least;
    }

    public void Dispose()
    {
        foreach (var pump in _pumps)
        {
            pump?.Dispose();
        }
    }
}
