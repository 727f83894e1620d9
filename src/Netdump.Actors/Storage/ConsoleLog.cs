using System.Text;

namespace Netdump.Actors.Storage;

/// <summary>What a console log says: its size, its panic line, the kernel version it printed.</summary>
public readonly record struct ConsoleFacts(long Bytes, string? PanicString, string? KernelVersion);

/// <summary>
/// What a Linux dump's <c>log</c> (its console text) says for the reports: its size, the
/// panic line ("Kernel panic - not syncing: …", else the first Oops or BUG line, SPEC §7), and
/// the kernel version (<see cref="Catalog.KernelVersion.FromLinuxLine"/>), which the panic
/// groups are keyed by.
/// </summary>
public static partial class ConsoleLog
{
    /// <summary>"Oops" or "BUG" as words (a "DEBUG" line is neither).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\b(Oops|BUG)\b")]
    private static partial System.Text.RegularExpressions.Regex OopsOrBugPattern();

    private static readonly System.Text.RegularExpressions.Regex OopsOrBug = OopsOrBugPattern();

    /// <summary>How much of the log is searched: the panic is near its start (the text before the dump).</summary>
    private const int Searched = 1 << 20;

    public static ConsoleFacts Read(string path)
    {
        try
        {
            using var file = new FileStream(RegularFile.OpenRead(path), FileAccess.Read, bufferSize: 0);
            var buffer = new byte[(int)Math.Min(file.Length, Searched)];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            return new ConsoleFacts(file.Length, PanicLine(text), Kernel(text));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ConsoleFacts(0, null, null);
        }
    }

    /// <summary>The kernel version of the first line that names one; null when none does.</summary>
    public static string? Kernel(string text) =>
        text.Split('\n').Select(line => Catalog.KernelVersion.FromLinuxLine(line.Trim('\0', '\r'))).FirstOrDefault(v => v is not null) is { } version
            ? DumpReport.OneLine(version)
            : null;

    public static string? PanicLine(string text)
    {
        var lines = text.Split('\n');
        var panic = lines.FirstOrDefault(l => l.Contains("Kernel panic - not syncing:", StringComparison.Ordinal))
            ?? lines.FirstOrDefault(OopsOrBug.IsMatch);
        return panic is null ? null : DumpReport.OneLine(panic.Trim('\0'));
    }
}
