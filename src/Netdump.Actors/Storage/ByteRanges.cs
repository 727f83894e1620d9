namespace Netdump.Actors.Storage;

/// <summary>
/// The byte ranges of one file received so far, kept sorted with overlapping and adjacent
/// ranges merged, so that a hole the client never resent (its ack aliasing, SPEC §2) shows up
/// as a gap. Appending just past the last range, the common case, is O(1); anything else is a
/// binary search plus a list splice. Not thread-safe: the owner serialises access.
/// </summary>
public sealed class ByteRanges
{
    // Invariant: sorted by Start, every range non-empty, and ranges[i].End < ranges[i + 1].Start
    // (overlapping or touching ranges are always merged into one).
    private readonly List<ByteRange> _ranges = [];

    /// <summary>Distinct bytes received.</summary>
    public ulong TotalBytes { get; private set; }

    /// <summary>The end of the last range, 0 when nothing was received.</summary>
    public ulong HighWater => _ranges.Count == 0 ? 0 : _ranges[^1].End;

    public int Count => _ranges.Count;

    /// <summary>Adds <c>[start, end)</c>; an empty or inverted range is ignored.</summary>
    public void Add(ulong start, ulong end)
    {
        if (end <= start)
        {
            return;
        }

        var count = _ranges.Count;
        if (count == 0 || start > _ranges[^1].End)
        {
            _ranges.Add(new ByteRange(start, end));
            TotalBytes += end - start;
            return;
        }

        var last = _ranges[^1];
        if (start >= last.Start)
        {
            // Touches or overlaps only the last range (start <= last.End here).
            if (end > last.End)
            {
                _ranges[^1] = last with { End = end };
                TotalBytes += end - last.End;
            }

            return;
        }

        // First range that overlaps or touches [start, end): the first with End >= start.
        var first = FirstEndAtOrAfter(start);

        // Ranges first..stop-1 overlap or touch: those with Start <= end.
        var stop = first;
        while (stop < count && _ranges[stop].Start <= end)
        {
            stop++;
        }

        if (stop == first)
        {
            _ranges.Insert(first, new ByteRange(start, end));
            TotalBytes += end - start;
            return;
        }

        var merged = new ByteRange(Math.Min(start, _ranges[first].Start), Math.Max(end, _ranges[stop - 1].End));
        ulong absorbed = 0;
        for (var i = first; i < stop; i++)
        {
            absorbed += _ranges[i].Length;
        }

        _ranges[first] = merged;
        _ranges.RemoveRange(first + 1, stop - first - 1);
        TotalBytes += merged.Length - absorbed;
    }

    /// <summary>True when every byte of <c>[start, end)</c> was received; an empty range is.</summary>
    public bool Covers(ulong start, ulong end)
    {
        if (end <= start)
        {
            return true;
        }

        // Merged ranges never touch, so a covered span lies inside a single range: the one
        // containing start, i.e. the first with End > start.
        var i = FirstEndAtOrAfter(start + 1);
        return i < _ranges.Count && _ranges[i].Start <= start && _ranges[i].End >= end;
    }

    /// <summary>A sorted copy of the ranges.</summary>
    public IReadOnlyList<ByteRange> ToList() => _ranges.ToArray();

    /// <summary>The missing ranges of <c>[0, length)</c>, sorted.</summary>
    public IReadOnlyList<ByteRange> Holes(ulong length)
    {
        var holes = new List<ByteRange>();
        ulong cursor = 0;
        foreach (var range in _ranges)
        {
            if (cursor >= length || range.Start >= length)
            {
                break;
            }

            if (range.Start > cursor)
            {
                holes.Add(new ByteRange(cursor, range.Start));
            }

            cursor = range.End;
        }

        if (cursor < length)
        {
            holes.Add(new ByteRange(cursor, length));
        }

        return holes;
    }

    /// <summary>Index of the first range whose End is at least <paramref name="value"/> (Count if none).</summary>
    private int FirstEndAtOrAfter(ulong value)
    {
        int lo = 0, hi = _ranges.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (_ranges[mid].End >= value)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }
}
