using System.Text;

namespace Netdump.Actors.Storage;

/// <summary>
/// What a Linux dump's <c>log</c> (its console text) says for the reports: its size, and the
/// panic line ("Kernel panic - not syncing: …", else the first Oops or BUG line, SPEC §7).
/// </summary>
public static partial class ConsoleLog
{
    /// <summary>"Oops" or "BUG" as words (a "DEBUG" line is neither).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(Oops|BUG)\b")]
    private static partial System.Text.RegularExpressions.Regex OopsOrBugPattern();

    private static readonly System.Text.RegularExpressions.Regex OopsOrBug = OopsOrBugPattern();

    /// <summary>How much of the log is searched: the panic is near its start (the text before the dump).</summary>
    private const int Searched = 1 << 20;

    public static (long Bytes, string? PanicString) Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            var buffer = new byte[(int)Math.Min(file.Length, Searched)];
            file.ReadExactly(buffer);
            return (file.Length, PanicLine(Encoding.UTF8.GetString(buffer)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (0, null);
        }
    }

    public static string? PanicLine(string text)
    {
        var lines = text.Split('\n');
        var panic = lines.FirstOrDefault(l => l.Contains("Kernel panic - not syncing:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(OopsOrBug.IsMatch);
        return panic is null ? null : DumpReport.OneLine(panic.Trim('\0'));
    }
}
