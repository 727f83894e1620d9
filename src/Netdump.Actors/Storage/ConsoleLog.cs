using System.Text;

namespace Netdump.Actors.Storage;

/// <summary>What a console log says: its size, its panic line, the kernel version it printed.</summary>
public readonly record struct ConsoleFacts(long Bytes, string? PanicString, string? KernelVersion);

/// <summary>
/// What a Linux dump's <c>log</c> (its console text) says for the reports: its size, the
/// panic line ("Kernel panic - not syncing: …", else the first Oops or BUG line, SPEC §7), and
/// the kernel version (<see cref="Catalog.KernelVersion.FromLinuxLine"/>), which the panic
/// groups are keyed by. Both are taken from the last crash in the log only
/// (<see cref="LastCrash"/>): the log starts with the client's console file, which runs across
/// its boots, so an earlier crash may be in it too.
/// </summary>
public static partial class ConsoleLog
{
    /// <summary>What netconsole prints first as its module loads: the client booted (SPEC §7).</summary>
    public const string StartupLine = "[...network console startup...]";

    private const string Panic = "Kernel panic - not syncing:";

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
            var (panic, kernel) = Crash(Encoding.UTF8.GetString(buffer));
            return new ConsoleFacts(file.Length, panic, kernel);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ConsoleFacts(0, null, null);
        }
    }

    /// <summary>
    /// The panic line and kernel version of the last crash in <paramref name="text"/>; null for
    /// what it does not say.
    /// </summary>
    public static (string? PanicString, string? KernelVersion) Crash(string text)
    {
        var lines = LastCrash(text.Split('\n').Select(l => l.Trim('\0', '\r')).ToArray());
        var panic = lines.FirstOrDefault(IsPanic) ?? lines.FirstOrDefault(OopsOrBug.IsMatch);
        var kernel = lines.Select(Catalog.KernelVersion.FromLinuxLine).FirstOrDefault(v => v is not null);
        return (panic is null ? null : DumpReport.OneLine(panic), kernel is null ? null : DumpReport.OneLine(kernel));
    }

    private static bool IsPanic(string line) => line.Contains(Panic, StringComparison.Ordinal);

    /// <summary>
    /// The lines of the crash the dump is for: the last one, to the end of the log (the dump's own
    /// text follows it). First the client's last boot: what follows its last startup line; a boot
    /// that printed no panic says none, never an older boot's. Where startup lines are missing (a
    /// packet lost, the server not listening then, or beyond the copied 64 KiB), a panic line
    /// still ends its boot, as a panic never returns: an Oops or BUG line after the last panic line
    /// is a later boot's crash (a RHEL4 oops reaches netdump from die() with no panic line) unless
    /// the kernel numbered it after an oops of the panic's boot (<see cref="StartsALaterCrash"/>), else
    /// the crash is the last panic line and what came since the panic line before it. Within those
    /// lines the rule of SPEC §7 holds: the panic line, else the first Oops or BUG line (an oops
    /// after another in one boot is most often its consequence).
    /// </summary>
    private static ArraySegment<string> LastCrash(string[] lines)
    {
        var start = LastIndex(lines, 0, lines.Length, l => l.Contains(StartupLine, StringComparison.Ordinal)) + 1;
        var last = LastIndex(lines, start, lines.Length, IsPanic);
        if (last >= 0)
        {
            var before = LastIndex(lines, start, last, IsPanic);
            // the highest oops count the panic's boot printed (none: 0)
            var counted = lines[(before >= 0 ? before + 1 : start)..last].Select(OopsCount).Max() ?? 0;
            start = LastIndex(lines, last + 1, lines.Length, i => StartsALaterCrash(lines, i, counted)) >= 0 ? last + 1 // a later boot's crash
                : before >= 0 ? before + 1 // the last panic, its boot from the end of the one before
                : start;
        }

        return new ArraySegment<string>(lines, start, lines.Length - start);
    }

    /// <summary>The index of the last of <c>lines[from..to]</c> that matches; -1 for none.</summary>
    private static int LastIndex(string[] lines, int from, int to, Func<string, bool> match) =>
        LastIndex(lines, from, to, (int i) => match(lines[i]));

    private static int LastIndex(string[] lines, int from, int to, Func<int, bool> match)
    {
        for (var i = to - 1; i >= from; i--)
        {
            if (match(i))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Whether the Oops or BUG line at <paramref name="i"/> may start a later boot's crash: not
    /// when it, or one of the two lines after it (a "kernel BUG at" line's "invalid operand"),
    /// numbers it above the panic's own boot's last oops (<paramref name="counted"/>): a 2.6
    /// kernel counts its oopses from 1 at each boot (<c>Oops: 0002 [#2]</c> on i386,
    /// <c>Oops: 0000 [2] SMP</c> on x86_64), so a higher one is the same crash's (another CPU's, or
    /// one while the task list was printed). A 2.4 kernel (RHEL 3) numbers none, and an oops whose
    /// boot's earlier ones were not heard proves nothing.
    /// </summary>
    private static bool StartsALaterCrash(string[] lines, int i, int counted) =>
        OopsOrBug.IsMatch(lines[i]) && !(counted > 0 && lines.Skip(i).Take(3).Any(l => OopsCount(l) > counted));

    /// <summary>The count die() gives an oops in its boot (<c>0002 [#2]</c>, <c>0000 [2]</c>), or null.</summary>
    private static int? OopsCount(string line) =>
        OopsNumber().Match(line) is { Success: true } m && int.TryParse(m.Groups[1].Value, out var n) ? n : null;

    /// <summary>die()'s count after its error code: <c>[#n]</c> on i386, s390 and ppc64, <c>[n]</c> on x86_64 and ia64.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\b[0-9a-fA-F]+ \[#?([0-9]{1,6})\]")]
    private static partial System.Text.RegularExpressions.Regex OopsNumber();
}
