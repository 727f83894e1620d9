using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class ByteRangesTests
{
    private const ulong Chunk = 1448;

    [Fact]
    public void The_total_of_ranges_is_the_bytes_they_cover()
    {
        Assert.Equal(0UL, ByteRange.Total([]));
        Assert.Equal(15UL, ByteRange.Total([new ByteRange(0, 10), new ByteRange(20, 25)]));
    }

    [Fact]
    public void An_empty_set_has_no_bytes_and_a_zero_high_water()
    {
        var ranges = new ByteRanges();

        Assert.Equal(0, ranges.Count);
        Assert.Equal(0UL, ranges.TotalBytes);
        Assert.Equal(0UL, ranges.HighWater);
        Assert.Empty(ranges.ToList());
    }

    [Fact]
    public void Sequential_appends_extend_a_single_range()
    {
        var ranges = new ByteRanges();
        for (ulong i = 0; i < 1000; i++)
        {
            ranges.Add(i * Chunk, (i + 1) * Chunk);
        }

        Assert.Equal([new ByteRange(0, 1000 * Chunk)], ranges.ToList());
        Assert.Equal(1000 * Chunk, ranges.TotalBytes);
        Assert.Equal(1000 * Chunk, ranges.HighWater);
    }

    [Fact]
    public void Reversed_chunks_merge_into_a_single_range()
    {
        var ranges = new ByteRanges();
        for (var i = 999UL; i != ulong.MaxValue; i--)
        {
            ranges.Add(i * Chunk, (i + 1) * Chunk);
        }

        Assert.Equal([new ByteRange(0, 1000 * Chunk)], ranges.ToList());
        Assert.Equal(1000 * Chunk, ranges.TotalBytes);
    }

    [Fact]
    public void Shuffled_chunks_with_duplicates_covering_everything_become_one_range()
    {
        const int chunks = 2000;
        var random = new Random(20023);
        var order = Enumerable.Range(0, chunks).Concat(Enumerable.Range(0, chunks / 2).Select(_ => random.Next(chunks))).ToArray();
        random.Shuffle(order);
        var ranges = new ByteRanges();

        foreach (var i in order)
        {
            ranges.Add((ulong)i * Chunk, (ulong)(i + 1) * Chunk);
        }

        Assert.Equal([new ByteRange(0, chunks * Chunk)], ranges.ToList());
        Assert.Equal(chunks * Chunk, ranges.TotalBytes);
        Assert.Empty(ranges.Holes(chunks * Chunk));
    }

    [Fact]
    public void Random_overlapping_ranges_agree_with_a_byte_by_byte_model()
    {
        const int length = 5000;
        var random = new Random(4096);
        for (var round = 0; round < 50; round++)
        {
            var model = new bool[length];
            var ranges = new ByteRanges();
            for (var n = 0; n < 60; n++)
            {
                var start = random.Next(length);
                var end = Math.Min(length, start + random.Next(1, 300));
                ranges.Add((ulong)start, (ulong)end);
                Array.Fill(model, true, start, end - start);

                Assert.Equal(ModelRanges(model, true), ranges.ToList());
                Assert.Equal((ulong)model.Count(x => x), ranges.TotalBytes);
            }

            Assert.Equal(ModelRanges(model, false), ranges.Holes(length));
            for (var probe = 0; probe < 200; probe++)
            {
                var start = random.Next(length);
                var end = Math.Min(length, start + random.Next(0, 200));
                var expected = model.AsSpan(start, end - start).IndexOf(false) < 0;
                Assert.Equal(expected, ranges.Covers((ulong)start, (ulong)end));
            }
        }
    }

    /// <summary>
    /// Thousands of ranges, so that they fill many chunks: tiny writes at random places and
    /// descending offsets, now and then a long one that swallows many ranges across chunks,
    /// checked against a byte-by-byte model (ranges, holes, totals, covers, adjoins).
    /// </summary>
    [Fact]
    public void Many_scattered_ranges_agree_with_a_byte_by_byte_model()
    {
        const int length = 40_000;
        var random = new Random(1448);
        for (var round = 0; round < 4; round++)
        {
            var model = new bool[length];
            var ranges = new ByteRanges();
            var descending = length - 1;
            for (var n = 1; n <= 12_000; n++)
            {
                int start;
                int end;
                switch (random.Next(20))
                {
                    case 0:
                        start = random.Next(length);
                        end = Math.Min(length, start + random.Next(1, 6000)); // across chunks
                        break;
                    case < 8:
                        start = descending = Math.Max(0, descending - random.Next(2, 4));
                        end = start + 1;
                        break;
                    default:
                        start = random.Next(length);
                        end = Math.Min(length, start + random.Next(1, 3));
                        break;
                }

                var adjoins = model.AsSpan(Math.Max(0, start - 1), Math.Min(length, end + 1) - Math.Max(0, start - 1)).IndexOf(true) >= 0;
                Assert.Equal(adjoins, ranges.Adjoins((ulong)start, (ulong)end));
                var before = ranges.Count;
                ranges.Add((ulong)start, (ulong)end);
                Array.Fill(model, true, start, end - start);
                Assert.True(adjoins || ranges.Count == before + 1, "a range that adjoins nothing is one more");

                if (n % 500 == 0)
                {
                    var expected = ModelRanges(model, true);
                    Assert.Equal(expected, ranges.ToList());
                    Assert.Equal(expected.Count, ranges.Count);
                    Assert.Equal((ulong)model.Count(x => x), ranges.TotalBytes);
                    Assert.Equal(expected.Count == 0 ? 0 : expected[^1].End, ranges.HighWater);
                    Assert.Equal(ModelRanges(model, false), ranges.Holes(length));
                    for (var probe = 0; probe < 200; probe++)
                    {
                        var from = random.Next(length);
                        var to = Math.Min(length, from + random.Next(0, 40));
                        Assert.Equal(model.AsSpan(from, to - from).IndexOf(false) < 0, ranges.Covers((ulong)from, (ulong)to));
                    }
                }
            }
        }
    }

    [Fact]
    public void Descending_one_byte_writes_with_gaps_each_make_a_range_and_filling_the_gaps_joins_them()
    {
        const ulong count = 100_000;
        var ranges = new ByteRanges();
        for (var i = count; i > 0; i--)
        {
            ranges.Add(2 * i, (2 * i) + 1);
        }

        Assert.Equal((int)count, ranges.Count);
        Assert.Equal(new ByteRange(2, 3), ranges.ToList()[0]);
        Assert.Equal(new ByteRange(2 * count, (2 * count) + 1), ranges.ToList()[^1]);
        Assert.True(ranges.Adjoins(3, 4));
        Assert.False(ranges.Adjoins((2 * count) + 2, (2 * count) + 3));

        for (var i = 1UL; i < count; i++)
        {
            ranges.Add((2 * i) + 1, (2 * i) + 2);
        }

        Assert.Equal([new ByteRange(2, (2 * count) + 1)], ranges.ToList());
        Assert.Equal((2 * count) - 1, ranges.TotalBytes);
    }

    /// <summary>
    /// A merge that ends exactly at the last range of a later chunk swallows that chunk whole,
    /// while the first chunk keeps most of its ranges: nothing must be left behind in between.
    /// </summary>
    [Fact]
    public void A_merge_swallowing_a_whole_chunk_leaves_the_set_consistent()
    {
        var ranges = new ByteRanges();
        for (ulong i = 0; i < 1200; i++)
        {
            ranges.Add(2 * i, (2 * i) + 1); // in order: chunks of 512 ranges filled one after another
        }

        ranges.Add(2 * 400, (2 * 1023) + 1); // from range 400 (first chunk) to range 1023 (last of the second)
        ranges.Add(2 * 1100, (2 * 1100) + 1); // a duplicate in the third chunk
        ranges.Add(5, 6); // fills a gap in the first chunk, joining two ranges

        var expected = Enumerable.Range(0, 400).Select(i => new ByteRange(2 * (ulong)i, (2 * (ulong)i) + 1))
            .Append(new ByteRange(2 * 400, (2 * 1023) + 1))
            .Concat(Enumerable.Range(1024, 176).Select(i => new ByteRange(2 * (ulong)i, (2 * (ulong)i) + 1)))
            .ToList();
        expected[2] = new ByteRange(4, 7);
        expected.RemoveAt(3);
        Assert.Equal(expected, ranges.ToList());
        Assert.Equal(expected.Count, ranges.Count);
        Assert.True(ranges.Covers(2 * 1024, (2 * 1024) + 1));
        Assert.False(ranges.Covers((2 * 1024) + 1, (2 * 1024) + 2));
        Assert.Equal(expected.Aggregate(0UL, (sum, r) => sum + r.Length), ranges.TotalBytes);
    }

    /// <summary>The packet path's case: in-order writes grow the last range and allocate nothing.</summary>
    [Fact]
    public void In_order_appends_allocate_nothing()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, Chunk);
        ranges.Add(2 * Chunk, 3 * Chunk); // a hole: the last range is not the first
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 3; i < 100_000; i++)
        {
            ranges.Add(i * Chunk, (i + 1) * Chunk);
            ranges.Add(i * Chunk, (i + 1) * Chunk); // a retransmitted duplicate
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(2, ranges.Count);
    }

    [Fact]
    public void Overlapping_ranges_merge_and_count_each_byte_once()
    {
        var ranges = new ByteRanges();
        ranges.Add(100, 200);
        ranges.Add(150, 300);
        ranges.Add(50, 120);
        ranges.Add(120, 180);

        Assert.Equal([new ByteRange(50, 300)], ranges.ToList());
        Assert.Equal(250UL, ranges.TotalBytes);
    }

    [Fact]
    public void A_range_spanning_several_others_absorbs_them()
    {
        var ranges = new ByteRanges();
        ranges.Add(10, 20);
        ranges.Add(30, 40);
        ranges.Add(50, 60);
        ranges.Add(70, 80);

        ranges.Add(15, 55);

        Assert.Equal([new ByteRange(10, 60), new ByteRange(70, 80)], ranges.ToList());
        Assert.Equal(60UL, ranges.TotalBytes);
        Assert.Equal(80UL, ranges.HighWater);
    }

    [Fact]
    public void Adjacent_ranges_merge_but_separated_ones_do_not()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 10);
        ranges.Add(20, 30);
        ranges.Add(31, 40);

        Assert.Equal(3, ranges.Count);

        ranges.Add(10, 20);
        ranges.Add(30, 31);

        Assert.Equal([new ByteRange(0, 40)], ranges.ToList());
    }

    [Fact]
    public void A_range_inserted_between_two_others_stays_separate()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 10);
        ranges.Add(100, 110);

        ranges.Add(50, 60);

        Assert.Equal([new ByteRange(0, 10), new ByteRange(50, 60), new ByteRange(100, 110)], ranges.ToList());
        Assert.Equal(30UL, ranges.TotalBytes);
    }

    [Fact]
    public void Empty_and_inverted_ranges_are_ignored()
    {
        var ranges = new ByteRanges();
        ranges.Add(10, 10);
        ranges.Add(20, 5);

        Assert.Equal(0, ranges.Count);
        Assert.Equal(0UL, ranges.TotalBytes);
    }

    [Fact]
    public void Duplicates_of_the_last_range_change_nothing()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 100);
        ranges.Add(0, 100);
        ranges.Add(40, 60);

        Assert.Equal([new ByteRange(0, 100)], ranges.ToList());
        Assert.Equal(100UL, ranges.TotalBytes);
    }

    [Fact]
    public void Covers_is_true_only_for_spans_received_in_full()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 100);
        ranges.Add(200, 300);

        Assert.True(ranges.Covers(0, 100));
        Assert.True(ranges.Covers(10, 20));
        Assert.True(ranges.Covers(200, 300));
        Assert.False(ranges.Covers(50, 150));
        Assert.False(ranges.Covers(0, 300));
        Assert.False(ranges.Covers(100, 200));
        Assert.False(ranges.Covers(250, 301));
        Assert.False(ranges.Covers(400, 500));
    }

    [Fact]
    public void Covers_an_empty_span_anywhere()
    {
        var ranges = new ByteRanges();

        Assert.True(ranges.Covers(5, 5));
        Assert.True(ranges.Covers(9, 3));
        Assert.False(ranges.Covers(0, 1));
    }

    [Fact]
    public void Holes_of_an_empty_set_are_the_whole_length()
    {
        var ranges = new ByteRanges();

        Assert.Equal([new ByteRange(0, 4096)], ranges.Holes(4096));
        Assert.Empty(ranges.Holes(0));
    }

    [Fact]
    public void Holes_are_found_at_the_start_in_the_middle_and_at_the_end()
    {
        var ranges = new ByteRanges();
        ranges.Add(100, 200);
        ranges.Add(300, 400);

        Assert.Equal(
            [new ByteRange(0, 100), new ByteRange(200, 300), new ByteRange(400, 500)],
            ranges.Holes(500));
    }

    [Fact]
    public void Holes_ignore_data_beyond_the_length()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 100);
        ranges.Add(150, 1000);

        Assert.Equal([new ByteRange(100, 150)], ranges.Holes(200));
        Assert.Empty(ranges.Holes(100));
        Assert.Equal([new ByteRange(100, 120)], ranges.Holes(120));
    }

    [Fact]
    public void A_complete_file_has_no_holes()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 8192);

        Assert.Empty(ranges.Holes(8192));
    }

    [Fact]
    public void ToList_is_a_snapshot()
    {
        var ranges = new ByteRanges();
        ranges.Add(0, 10);
        var snapshot = ranges.ToList();

        ranges.Add(10, 20);
        ranges.Add(30, 40);

        Assert.Equal([new ByteRange(0, 10)], snapshot);
    }

    [Fact]
    public void Ranges_near_the_top_of_the_u64_space_are_exact()
    {
        var ranges = new ByteRanges();
        ranges.Add(ulong.MaxValue - 10, ulong.MaxValue);
        ranges.Add(0, 10);

        Assert.Equal(20UL, ranges.TotalBytes);
        Assert.Equal(ulong.MaxValue, ranges.HighWater);
        Assert.True(ranges.Covers(ulong.MaxValue - 1, ulong.MaxValue));
        Assert.Equal([new ByteRange(10, ulong.MaxValue - 10)], ranges.Holes(ulong.MaxValue));
    }

    private static List<ByteRange> ModelRanges(bool[] model, bool value)
    {
        var result = new List<ByteRange>();
        var i = 0;
        while (i < model.Length)
        {
            if (model[i] != value)
            {
                i++;
                continue;
            }

            var start = i;
            while (i < model.Length && model[i] == value)
            {
                i++;
            }

            result.Add(new ByteRange((ulong)start, (ulong)i));
        }

        return result;
    }
}
