using System.Buffers.Binary;

namespace Netdump.App.Simulation;

/// <summary>
/// The simulated kernel memory: deterministic from the seed, addressable page by page (so a
/// multi-GiB dump never has to sit in memory) and compressible like real memory. Each 4 KiB
/// page starts with a 16-byte stamp (magic "NDSM", seed, offset) so a misplaced page is
/// visible, and is then zero, a run of repeated words, or xorshift64 noise.
/// </summary>
internal static class MemoryPattern
{
    public const int PageSize = 4096;
    public const uint StampMagic = 0x4E44534D; // "NDSM"

    private const int DictionarySize = 16;

    // A page's kind is its state % 8; kinds below this are zero pages.
    private const ulong BlankKinds = 2;

    /// <summary>Fills <paramref name="destination"/> with the memory at <paramref name="offset"/>.</summary>
    public static void Fill(int seed, long offset, Span<byte> destination)
    {
        Span<ulong> dictionary = stackalloc ulong[DictionarySize];
        for (var i = 0; i < DictionarySize; i++)
        {
            dictionary[i] = SplitMix((ulong)(uint)seed * 0x100000001B3UL + (ulong)i);
        }

        byte[]? partial = null;
        while (!destination.IsEmpty)
        {
            var page = offset / PageSize;
            var within = (int)(offset % PageSize);
            var count = Math.Min(PageSize - within, destination.Length);
            if (count == PageSize)
            {
                FillPage(seed, page, dictionary, destination[..PageSize]);
            }
            else
            {
                partial ??= new byte[PageSize];
                FillPage(seed, page, dictionary, partial);
                partial.AsSpan(within, count).CopyTo(destination);
            }

            destination = destination[count..];
            offset += count;
        }
    }

    /// <summary>
    /// Whether the page is one of the zero pages (a quarter of them), which hold nothing but
    /// their stamp; the Linux simulation leaves these all zero, as free memory is.
    /// </summary>
    public static bool IsBlank(int seed, long page) => PageState(seed, page) % 8 < BlankKinds;

    private static ulong PageState(int seed, long page)
    {
        var state = SplitMix(((ulong)(uint)seed << 32) ^ ((ulong)page * 0x9E3779B97F4A7C15UL));
        return state == 0 ? 1 : state;
    }

    private static void FillPage(int seed, long page, ReadOnlySpan<ulong> dictionary, Span<byte> destination)
    {
        var state = PageState(seed, page);
        switch (state % 8)
        {
            case < BlankKinds:
                destination.Clear();
                break;
            case 2 or 3 or 4:
                // Runs of a few recurring words: text, tables, pointers to the same objects.
                for (var i = 0; i < PageSize;)
                {
                    state = XorShift(state);
                    var word = dictionary[(int)(state % DictionarySize)];
                    var run = 1 + (int)((state >> 8) % 8);
                    for (; run > 0 && i < PageSize; run--, i += 8)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], word);
                    }
                }

                break;
            default:
                for (var i = 0; i < PageSize; i += 8)
                {
                    state = XorShift(state);
                    BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], state);
                }

                break;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, StampMagic);
        BinaryPrimitives.WriteInt32BigEndian(destination[4..], seed);
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], page * PageSize);
    }

    private static ulong XorShift(ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
