using System.Runtime.InteropServices;

namespace Netdump.Actors.Storage;

/// <summary>
/// The byte ranges of one file received so far, kept sorted with overlapping and adjacent
/// ranges merged, so that a hole the client never resent (its ack aliasing, SPEC §2) shows up
/// as a gap. Not thread-safe: the owner serialises access.
/// <para>
/// The ranges live in a sorted list of sorted chunks of at most <see cref="ChunkCapacity"/>
/// ranges (a B+tree of height two). Appending past the last range or growing it, the case of
/// every in-order packet, is O(1) and allocates nothing. Anything else is two binary searches
/// and a shift inside one chunk (at most 8 KiB); one insert in <see cref="ChunkCapacity"/>/2
/// also splits a chunk. A single list, as before, shifted every range after the insert point:
/// 1-byte writes at descending offsets made each insert cost the whole list
/// (issue 13; measured in docs/performance.md).
/// </para>
/// </summary>
public sealed partial class ByteRanges
{
    /// <summary>
    /// Ranges per chunk: 8 KiB of ranges, a shift no packet notices, and few enough chunks that
    /// splitting one (which shifts the chunk list) stays as cheap at the fragmentation bound of
    /// <see cref="CoreFile.MaxRanges"/> (at most about 2,000 chunks).
    /// </summary>
    private const int ChunkCapacity = 512;

    // Invariant: every chunk is non-empty; all ranges, chunk after chunk, are sorted by Start,
    // non-empty, and each ends before the next starts (a.End < b.Start: overlapping or touching
    // ranges are always merged). Two neighbouring chunks hold more than ChunkCapacity / 2
    // ranges together, so the chunk list stays short however ranges come and go.
    private readonly List<List<ByteRange>> _chunks = [];

    /// <summary>Distinct bytes received.</summary>
    public ulong TotalBytes { get; private set; }

    /// <summary>The end of the last range, 0 when nothing was received.</summary>
    public ulong HighWater => Count == 0 ? 0 : _chunks[^1][^1].End;

    public int Count { get; private set; }

    /// <summary>Adds <c>[start, end)</c>; an empty or inverted range is ignored.</summary>
    public void Add(ulong start, ulong end)
    {
        if (end <= start)
        {
            return;
        }

        if (Count == 0 || start > HighWater)
        {
            Append(new ByteRange(start, end));
            return;
        }

        var tail = _chunks[^1];
        var last = tail[^1];
        if (start >= last.Start)
        {
            // Touches or overlaps only the last range (start <= last.End here).
            if (end > last.End)
            {
                tail[^1] = last with { End = end };
                TotalBytes += end - last.End;
            }

            return;
        }

        AddBefore(start, end);
    }

    /// <summary>
    /// True when <c>[start, end)</c> overlaps or touches a range already held, so that
    /// <see cref="Add"/> would grow or merge ranges rather than make one more.
    /// </summary>
    public bool Adjoins(ulong start, ulong end)
    {
        if (end <= start || Count == 0 || start > HighWater)
        {
            return false;
        }

        var (c, i) = FirstEndAtOrAfter(start);
        return _chunks[c][i].Start <= end;
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
        var (c, i) = FirstEndAtOrAfter(start + 1);
        return c < _chunks.Count && _chunks[c][i].Start <= start && _chunks[c][i].End >= end;
    }

    /// <summary>A sorted copy of the ranges.</summary>
    public IReadOnlyList<ByteRange> ToList()
    {
        var copy = new ByteRange[Count];
        var at = 0;
        foreach (var chunk in _chunks)
        {
            chunk.CopyTo(copy, at);
            at += chunk.Count;
        }

        return copy;
    }

    /// <summary>The missing ranges of <c>[0, length)</c>, sorted.</summary>
    public IReadOnlyList<ByteRange> Holes(ulong length)
    {
        var holes = new List<ByteRange>();
        ulong cursor = 0;
        foreach (var range in _chunks.SelectMany(c => c))
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

    private void Append(ByteRange range)
    {
        if (_chunks.Count == 0 || _chunks[^1].Count == ChunkCapacity)
        {
            _chunks.Add(new List<ByteRange>(ChunkCapacity));
        }

        _chunks[^1].Add(range);
        Count++;
        TotalBytes += range.Length;
    }

    /// <summary>Adds a range that starts before the last one (so some range ends at or after its start).</summary>
    private void AddBefore(ulong start, ulong end)
    {
        // First range that overlaps or touches [start, end): the first with End >= start.
        var (c, i) = FirstEndAtOrAfter(start);
        var chunk = _chunks[c];
        if (chunk[i].Start > end)
        {
            Insert(c, i, new ByteRange(start, end));
            return;
        }

        // The ranges from (c, i) to the last with Start <= end all become one.
        var (d, j) = LastStartAtOrBefore(end);
        var merged = new ByteRange(Math.Min(start, chunk[i].Start), Math.Max(end, _chunks[d][j].End));
        ulong absorbed = 0;
        var removed = 0;
        for (var k = c; k <= d; k++)
        {
            var from = k == c ? i : 0;
            var to = k == d ? j : _chunks[k].Count - 1;
            foreach (var range in CollectionsMarshal.AsSpan(_chunks[k])[from..(to + 1)])
            {
                absorbed += range.Length;
            }

            removed += to - from + 1;
        }

        if (c == d)
        {
            chunk.RemoveRange(i + 1, j - i);
        }
        else
        {
            chunk.RemoveRange(i + 1, chunk.Count - i - 1);
            _chunks[d].RemoveRange(0, j + 1);
            _chunks.RemoveRange(c + 1, d - c - 1); // the chunks wholly absorbed
        }

        chunk[i] = merged;
        Count -= removed - 1;
        TotalBytes += merged.Length - absorbed;
        Rebalance(c);
    }
}
