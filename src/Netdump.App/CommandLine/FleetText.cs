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
        text.Append(DumpReport.OneLine(status), new Style(colour));
        if (reason is not null && parsed != DumpStatus.Complete)
        {
            var clean = DumpReport.OneLine(reason);
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
    public static string Host(DumpItem item) => DumpReport.OneLine(item.Hostname is { Length: > 0 } name ? $"{name} ({item.ClientIp})" : item.ClientIp);
}
