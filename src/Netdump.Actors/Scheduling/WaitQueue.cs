namespace Netdump.Actors.Scheduling;

/// <summary>
/// A first-in first-out queue that dedicated threads block on, with no spinning: a thread that
/// finds it empty sleeps until an item or <see cref="Complete"/> arrives. .NET's
/// BlockingCollection spins (sched_yield) before it sleeps, which a queue that wakes once per
/// dump pays in full every time (docs/performance.md, "The fixed cost per dump"). With
/// <c>first</c>, <see cref="Take"/> takes the first item it holds true for, if any, before the oldest.
/// </summary>
public sealed class WaitQueue<T>(Func<T, bool>? first = null)
{
    private readonly LinkedList<T> _items = new();
    private bool _completed;

    /// <summary>Queues <paramref name="item"/> and wakes one waiting thread. Returns false once <see cref="Complete"/> was called.</summary>
    public bool Add(T item)
    {
        lock (_items)
        {
            if (_completed)
            {
                return false;
            }

            _items.AddLast(item);
            Monitor.Pulse(_items);
            return true;
        }
    }

    /// <summary>No more items: the threads take what is queued, then <see cref="Take"/> returns false.</summary>
    public void Complete()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    /// <summary>The next item, waiting for one; false when the queue is complete and empty.</summary>
    public bool Take(out T item)
    {
        lock (_items)
        {
            while (_items.Count == 0)
            {
                if (_completed)
                {
                    item = default!;
                    return false;
                }

                Monitor.Wait(_items);
            }

            var node = _items.First!;
            if (first is not null)
            {
                // the queue is short (a few hundred writers at most in a storm): a scan is cheap
                for (var n = node; n is not null; n = n.Next)
                {
                    if (first(n.Value))
                    {
                        node = n;
                        break;
                    }
                }
            }

            _items.Remove(node);
            item = node.Value;
            return true;
        }
    }
}
