using Netdump.Actors.Storage;
using Netdump.App.Http;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Netdump.App.CommandLine;

/// <summary>The fleet commands' words and colours for a dump's facts (the colours show on a terminal only).</summary>
internal static class FleetText
{
    public static string Size(ulong bytes) => ByteUnits.Size(bytes);

    /// <summary>The status, coloured, with the reason of a dump that is not complete.</summary>
    public static IRenderable Status(string status, string? reason)
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
        text.Append(status, new Style(colour));
        if (reason is not null && parsed != DumpStatus.Complete)
        {
            text.Append($": {reason}");
        }

        return text;
    }

    /// <summary>The host for people: its name and address, or the address alone.</summary>
    public static string Host(DumpItem item) => item.Hostname is { Length: > 0 } name ? $"{name} ({item.ClientIp})" : item.ClientIp;
}
