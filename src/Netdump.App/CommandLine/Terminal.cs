using System.Globalization;
using Spectre.Console;

namespace Netdump.App.CommandLine;

/// <summary>
/// Where the fleet commands write, through Spectre.Console: on a terminal with its colours,
/// width and live redrawing (<c>status</c>'s progress bars); into a pipe or a file as plain
/// text, without colours or cursor movement, and wide enough that a table is not cut at 80
/// columns. Times are the operator's local time, as in the dump directories' names.
/// </summary>
public static class Terminal
{
    /// <summary>The width of a table written to a pipe or a file, which has none.</summary>
    public const int PipeWidth = 200;

    /// <summary>Makes the console of a command's output.</summary>
    public delegate IAnsiConsole Factory(TextWriter output);

    /// <summary>The console of <paramref name="output"/>: a live terminal only when it is this process's stdout and that is one.</summary>
    public static IAnsiConsole For(TextWriter output)
    {
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        return terminal
            ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) })
            : Plain(output, PipeWidth);
    }

    /// <summary>A console that writes plain text, <paramref name="width"/> columns wide.</summary>
    public static IAnsiConsole Plain(TextWriter output, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return console;
    }

    /// <summary><c>2024-05-01 10:00:00</c> in the local time zone; "" for none.</summary>
    public static string Time(DateTimeOffset? time) =>
        time?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "";

    /// <summary><c>12 s ago</c>, <c>5 min ago</c>, <c>3 h ago</c>, <c>2 d ago</c>.</summary>
    public static string Ago(DateTimeOffset time, DateTimeOffset now)
    {
        var seconds = Math.Max(0, (now - time).TotalSeconds);
        return seconds switch
        {
            < 60 => $"{seconds:0} s ago",
            < 3600 => $"{Math.Floor(seconds / 60):0} min ago",
            < 86400 => $"{Math.Floor(seconds / 3600):0} h ago",
            _ => $"{Math.Floor(seconds / 86400):0} d ago",
        };
    }

    /// <summary><c>42 s</c>, <c>3 min 20 s</c>, <c>1 h 05 min</c>.</summary>
    public static string Duration(ulong seconds) => seconds switch
    {
        < 60 => $"{seconds} s",
        < 3600 => $"{seconds / 60} min {seconds % 60} s",
        _ => $"{seconds / 3600} h {seconds % 3600 / 60:00} min",
    };
}
