using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Netdump.Actors.Catalog;

/// <summary>
/// What makes two panics "the same" (SPEC §9): the panic string with addresses and numbers
/// masked, plus the kernel version. <see cref="Id"/> is a short, URL-safe digest of both, the
/// group's name in the API and the argument of <c>netdump-storm</c>.
/// </summary>
public sealed partial record PanicGroupKey(string Id, string Panic, string Kernel)
{
    /// <summary>The mask an address or number becomes.</summary>
    public const string Mask = "#";

    /// <summary>The key of a panic on a kernel; null when there is no panic string to group by.</summary>
    public static PanicGroupKey? Of(string? panic, string? kernel)
    {
        if (string.IsNullOrWhiteSpace(panic))
        {
            return null;
        }

        var normalised = Normalise(panic);
        var version = kernel is null ? "" : Storage.DumpReport.OneLine(kernel);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(normalised + "\n" + version));
        return new PanicGroupKey(Convert.ToHexStringLower(digest.AsSpan(0, 6)), normalised, version);
    }

    /// <summary>
    /// The panic string on one line with every address and number masked: <c>0x…</c> hex,
    /// bare hex words of 8 digits or more (addresses printed without <c>0x</c>), and decimal
    /// numbers that do not end an identifier (a pid, a cpu, a count: <c>pid 1234</c> →
    /// <c>pid #</c>, while <c>ext4</c> or <c>ip6_input</c> stay as they are).
    /// </summary>
    public static string Normalise(string panic)
    {
        var text = Storage.DumpReport.OneLine(panic);
        text = HexNumber().Replace(text, "0x" + Mask);
        text = BareHex().Replace(text, Mask);
        return Decimal().Replace(text, Mask);
    }

    [GeneratedRegex(@"\b0[xX][0-9a-fA-F]+\b")]
    private static partial Regex HexNumber();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])[0-9a-fA-F]{8,}(?![A-Za-z0-9_])")]
    private static partial Regex BareHex();

    [GeneratedRegex(@"(?<![A-Za-z0-9_])[0-9]+(?![xX]#)")]
    private static partial Regex Decimal();
}
