using System.Globalization;
using System.Text;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>
/// The two descriptions of a dump that sit beside its core (SPEC §3): <c>info</c> for the
/// operator, in netdumpd's layout, and <c>dump.json</c> for machines. Both are replaced
/// atomically, so a reader never sees a half-written file.
/// <para>
/// This file holds the reports' names and the text helpers both formats share; <c>info</c>'s
/// text is made in <c>DumpReport.Info.cs</c>, <c>dump.json</c>'s in <c>DumpReport.Json.cs</c>,
/// and the atomic, durable writing (with the room reserved for the final reports) is in
/// <c>DumpReport.Writing.cs</c>.
/// </para>
/// </summary>
public static partial class DumpReport
{
    public const string InfoFileName = "info";
    public const string JsonFileName = "dump.json";

    /// <summary>How many holes <c>info</c> lists before summarising; dump.json lists all.</summary>
    public const int MaxInfoHoles = 16;

    private const string DumpTimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private static string FormatDumpTime(KernelDumpHeader h) =>
        h.DumpTimeUtc.UtcDateTime.ToString(DumpTimeFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// Client-supplied text made safe for one line of a report, the log or the operator's
    /// terminal: control characters and whitespace runs become one space, so there are no line
    /// breaks (which would forge a line) nor escape sequences (which would retitle, clear or write
    /// to a terminal), and invisible format characters (<see cref="Protocol.InvisibleText"/>: a
    /// right-to-left override) are dropped. A client chooses its host name and panic string, and
    /// a dump.json may say anything.
    /// </summary>
    public static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (Protocol.InvisibleText.IsFormat(c))
            {
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
