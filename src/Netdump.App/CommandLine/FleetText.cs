using Netdump.Actors.Storage;
using Netdump.App.Http;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Netdump.App.CommandLine;

/// <summary>The fleet commands' words and colours for a dump's facts (the colours show on a terminal only).</summary>
internal static class FleetText
{
    public static string Size(ulong bytes) => ByteUnits.Size(bytes);

    /// <summary>
    /// A dump's text as a terminal may show it: on one line, without control characters. A
    /// client chooses its host name and panic string (the KDH) and a dump.json may say anything;
    /// escape sequences in them would retitle, clear or write to the operator's terminal, and a
    /// line break would forge an output line.
    /// </summary>
    public static string Clean(string text) => DumpReport.OneLine(text);

    /// <inheritdoc cref="Clean(string)"/>
    public static string? CleanOrNull(string? text) => text is null ? null : Clean(text);

    /// <summary>
    /// How much of a reason a table row shows: a recovered dump's reason runs to ~200
    /// characters, which made <c>list</c>'s STATUS column wider than the rest of the row.
    /// </summary>
    public const int ReasonInTable = 60;

    /// <summary>
    /// The status, coloured, with the reason of a dump that is not complete: whole, or cut to
    /// <paramref name="reasonWidth"/> characters with an ellipsis (a table; <c>show</c> has it whole).
    /// </summary>
    public static IRenderable Status(string status, string? reason, int? reasonWidth = null)
    {
        var parsed = DumpJson.ParseStatus(status);
        var colour = parsed switch
        {
            DumpStatus.Complete => Color.Green,
            DumpStatus.Incomplete => Color.Red,
            DumpStatus.Receiving => Color.Blue,
            _ => Color.Grey,
        };
        var text = new Paragraph();
        text.Append(Clean(status), new Style(colour));
        if (reason is not null && parsed != DumpStatus.Complete)
        {
            var clean = Clean(reason);
            text.Append($": {(reasonWidth is { } width ? Cut(clean, width) : clean)}");
        }

        return text;
    }

    /// <summary><paramref name="text"/> at most <paramref name="width"/> characters long, the last an ellipsis when cut (never half a surrogate pair).</summary>
    public static string Cut(string text, int width)
    {
        if (text.Length <= width)
        {
            return text;
        }

        var keep = width - 1;
        if (char.IsHighSurrogate(text[keep - 1]))
        {
            keep--;
        }

        return $"{text[..keep].TrimEnd()}…";
    }

    /// <summary>The host for people: its name and address, or the address alone.</summary>
    public static string Host(DumpItem item) => Clean(item.Hostname is { Length: > 0 } name ? $"{name} ({item.ClientIp})" : item.ClientIp);
}
