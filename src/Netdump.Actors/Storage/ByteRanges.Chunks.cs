using System.Runtime.InteropServices;

namespace Netdump.Actors.Storage;

/// <summary>The chunk list underneath <see cref="ByteRanges"/>: inserts that split a full chunk, the rebalancing
/// that keeps neighbours more than half full together, and the two binary searches.</summary>
public sealed partial class ByteRanges
{
    /// <summary>Inserts a range before position <paramref name="i"/> of chunk <paramref name="c"/>, splitting a full chunk.</summary>
    private void Insert(int c, int i, ByteRange range)
    {
        var chunk = _chunks[c];
        if (chunk.Count == ChunkCapacity)
        {
            const int half = ChunkCapacity / 2;
            var upper = new List<ByteRange>(ChunkCapacity);
            upper.AddRange(CollectionsMarshal.AsSpan(chunk)[half..]);
            chunk.RemoveRange(half, ChunkCapacity - half);
            _chunks.Insert(c + 1, upper);
            if (i > half)
            {
                (chunk, i) = (upper, i - half);
            }
        }

        chunk.Insert(i, range);
        Count++;
        TotalBytes += range.Length;
    }

    /// <summary>
    /// After chunk <paramref name="c"/> and its successor lost ranges: drops the successor if it
    /// is empty, and joins neighbours that together fill at most half a chunk.
    /// </summary>
    private void Rebalance(int c)
    {
        if (c + 1 < _chunks.Count && _chunks[c + 1].Count == 0)
        {
            _chunks.RemoveAt(c + 1);
        }

        if (c + 1 < _chunks.Count && _chunks[c].Count + _chunks[c + 1].Count <= ChunkCapacity / 2)
        {
            Join(c);
        }

        if (c > 0 && _chunks[c - 1].Count + _chunks[c].Count <= ChunkCapacity / 2)
        {
            Join(c - 1);
        }
    }

    /// <summary>Moves chunk <paramref name="c"/> + 1 to the end of chunk <paramref name="c"/>.</summary>
    private void Join(int c)
    {
        _chunks[c].AddRange(CollectionsMarshal.AsSpan(_chunks[c + 1]));
        _chunks.RemoveAt(c + 1);
    }

    /// <summary>
    /// The position of the first range whose End is at least <paramref name="value"/>; the
    /// chunk index is the chunk count if there is none.
    /// </summary>
    private (int Chunk, int Index) FirstEndAtOrAfter(ulong value)
    {
        int lo = 0, hi = _chunks.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (_chunks[mid][^1].End >= value)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        if (lo == _chunks.Count)
        {
            return (lo, 0);
        }

        var ranges = CollectionsMarshal.AsSpan(_chunks[lo]);
        int first = 0, last = ranges.Length;
        while (first < last)
        {
            var mid = first + ((last - first) / 2);
            if (ranges[mid].End >= value)
            {
                last = mid;
            }
            else
            {
                first = mid + 1;
            }
        }

        return (lo, first);
    }

    /// <summary>The position of the last range whose Start is at most <paramref name="value"/>; there must be one.</summary>
    private (int Chunk, int Index) LastStartAtOrBefore(ulong value)
    {
        // the last chunk whose first range starts at or before value
        int lo = 0, hi = _chunks.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (_chunks[mid][0].Start <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        var c = lo - 1;
        var ranges = CollectionsMarshal.AsSpan(_chunks[c]);
        int first = 0, last = ranges.Length;
        while (first < last)
        {
            var mid = first + ((last - first) / 2);
            if (ranges[mid].Start <= value)
            {
                first = mid + 1;
            }
            else
            {
                last = mid;
            }
        }

        return (c, first - 1);
    }
}
