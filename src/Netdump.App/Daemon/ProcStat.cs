using System.Globalization;

namespace Netdump.App.Daemon;

/// <summary>
/// A process's (or thread's) line of <c>/proc/PID/stat</c>, its fields numbered as proc(5) numbers
/// them: 1 the pid, 2 the command's name, 3 the state, 22 the start time, 41 the scheduling
/// policy. The name may hold spaces and parentheses, so the fields after it are counted from its
/// last ')'.
/// </summary>
internal sealed class ProcStat
{
    private readonly string[] _afterName;

    public ProcStat(string line)
    {
        var close = line.LastIndexOf(')');
        Name = line[(line.IndexOf('(') + 1)..close];
        _afterName = line[(close + 2)..].TrimEnd('\n').Split(' ');
    }

    /// <summary>The command's name (field 2), without its parentheses.</summary>
    public string Name { get; }

    /// <summary>Reads <paramref name="path"/> (<c>/proc/PID/stat</c>, <c>/proc/self/stat</c>, <c>/proc/PID/task/TID/stat</c>).</summary>
    public static ProcStat Read(string path) => new(File.ReadAllText(path));

    /// <summary>Field <paramref name="number"/> (3 or later) as text.</summary>
    public string Field(int number) =>
        number >= 3 ? _afterName[number - 3] : throw new ArgumentOutOfRangeException(nameof(number), number, "the fields after the name start at 3");

    /// <summary>Field <paramref name="number"/> (3 or later) as a number.</summary>
    public long Number(int number) => long.Parse(Field(number), CultureInfo.InvariantCulture);
}
