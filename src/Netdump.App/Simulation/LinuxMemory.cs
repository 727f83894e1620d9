using System.Globalization;

namespace Netdump.App.Simulation;

/// <summary>
/// Page frames [<see cref="Start"/>, <see cref="End"/>), written <c>0x9f-0x100</c> (the end is
/// exclusive) or <c>0x200</c> (one frame), in hex with <c>0x</c> or in decimal.
/// </summary>
public readonly record struct PfnRange(uint Start, uint End)
{
    public bool Contains(uint pfn) => pfn >= Start && pfn < End;

    public override string ToString() => End - Start == 1 ? $"0x{Start:x}" : $"0x{Start:x}-0x{End:x}";

    /// <summary>Parses a comma-separated list; an empty text is an empty list.</summary>
    public static bool TryParseList(string text, out IReadOnlyList<PfnRange> ranges, out string? problem)
    {
        var list = new List<PfnRange>();
        ranges = list;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            uint end = 0;
            if (!TryPfn(dash < 0 ? part : part[..dash], out var start) || (dash >= 0 && !TryPfn(part[(dash + 1)..], out end)))
            {
                problem = $"\"{part}\" is not a page frame or a range of them (0x9f-0x100)";
                return false;
            }

            if (dash < 0)
            {
                end = start == uint.MaxValue ? start : start + 1;
            }

            if (end <= start)
            {
                problem = $"\"{part}\" is an empty range (the end is exclusive)";
                return false;
            }

            list.Add(new PfnRange(start, end));
        }

        problem = null;
        return true;
    }

    private static bool TryPfn(string text, out uint pfn) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out pfn)
            : uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pfn);
}

/// <summary>
/// The simulated client's physical memory: <see cref="Pages"/> frames of 4 KiB (the kernel's
/// <c>num_physpages</c>, what GET_NR_PAGES answers), some of them reserved (not RAM: SEND_MEM
/// gets REPLY_RESERVED), the RAM deterministic from the seed: <see cref="MemoryPattern"/>
/// pages, a quarter of them all zero. Read page by page, so a large memory never sits in
/// memory; tests compare a server's core with <see cref="ReadPage"/> at <c>pfn × 4096</c>.
/// </summary>
public sealed class LinuxMemory
{
    public const int PageSize = MemoryPattern.PageSize;

    private readonly PfnRange[] reserved;
    private readonly int seed;

    /// <param name="bytes">A multiple of <see cref="PageSize"/> (the options check it).</param>
    /// <param name="reserved">Inside the memory; they may overlap.</param>
    public LinuxMemory(long bytes, IReadOnlyList<PfnRange> reserved, int seed)
    {
        Pages = checked((uint)(bytes / PageSize));
        this.seed = seed;
        this.reserved = Merge(reserved);
        RamPages = Pages - (uint)this.reserved.Sum(r => (long)r.End - r.Start);
    }

    /// <summary>The highest page frame + 1 (<c>platform_max_pfn</c>).</summary>
    public uint Pages { get; }

    /// <summary>The frames that are RAM (<c>totalram_pages</c>, GET_REGS's <c>info</c>).</summary>
    public uint RamPages { get; }

    /// <summary>The frames that are not RAM, sorted and merged.</summary>
    public IReadOnlyList<PfnRange> Reserved => reserved;

    public bool IsRam(uint pfn) => pfn < Pages && Covering(pfn) is null;

    /// <summary>
    /// <c>platform_next_available</c>: the first RAM frame after <paramref name="pfn"/>, or 0 when
    /// there is none below <see cref="Pages"/>.
    /// </summary>
    public uint NextRam(uint pfn)
    {
        for (var next = (long)pfn + 1; next < Pages;)
        {
            if (Covering((uint)next) is not { } range)
            {
                return (uint)next;
            }

            next = range.End;
        }

        return 0;
    }

    /// <summary>Whether the frame's content is all zero (a reserved frame reads as zero).</summary>
    public bool IsZero(uint pfn) => !IsRam(pfn) || MemoryPattern.IsBlank(seed, pfn);

    /// <summary>Fills <paramref name="destination"/> (at least a page) with the frame's content.</summary>
    public void ReadPage(uint pfn, Span<byte> destination)
    {
        var page = destination[..PageSize];
        if (IsZero(pfn))
        {
            page.Clear();
            return;
        }

        MemoryPattern.Fill(seed, (long)pfn * PageSize, page);
    }

    /// <summary>The reserved range holding <paramref name="pfn"/>: a binary search of the sorted, merged ranges (a client may describe hundreds of thousands).</summary>
    private PfnRange? Covering(uint pfn)
    {
        var (low, high) = (0, reserved.Length - 1);
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var range = reserved[middle];
            if (range.Contains(pfn))
            {
                return range;
            }

            (low, high) = pfn < range.Start ? (low, middle - 1) : (middle + 1, high);
        }

        return null;
    }

    private static PfnRange[] Merge(IReadOnlyList<PfnRange> ranges)
    {
        var merged = new List<PfnRange>();
        foreach (var range in ranges.OrderBy(r => r.Start))
        {
            if (merged.Count > 0 && range.Start <= merged[^1].End)
            {
                merged[^1] = merged[^1] with { End = Math.Max(merged[^1].End, range.End) };
            }
            else
            {
                merged.Add(range);
            }
        }

        return [.. merged];
    }
}
