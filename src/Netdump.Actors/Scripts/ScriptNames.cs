namespace Netdump.Actors.Scripts;

/// <summary>The hook scripts (SPEC §5 after the Red Hat netdump-server, and §9's storm script).</summary>
public enum Script
{
    Start,
    Crash,
    Nospace,
    Reboot,
    Storm,
}

/// <summary>
/// The file names of the hook scripts (<see cref="Script"/>), and the folder under the dump
/// directory they live in.
/// </summary>
public static class ScriptNames
{
    public const string Start = "netdump-start", Crash = "netdump-crash", Nospace = "netdump-nospace", Reboot = "netdump-reboot", Storm = "netdump-storm";

    public const string Directory = "scripts";

    /// <summary>Where <paramref name="script"/> is installed under <paramref name="dumpDirectory"/>.</summary>
    public static string PathIn(string dumpDirectory, Script script) => Path.Combine(dumpDirectory, Directory, FileName(script));

    /// <summary>The file name of a script.</summary>
    public static string FileName(Script script) => script switch
    {
        Script.Start => Start,
        Script.Crash => Crash,
        Script.Nospace => Nospace,
        Script.Reboot => Reboot,
        Script.Storm => Storm,
        _ => throw new ArgumentOutOfRangeException(nameof(script), script, null),
    };
}
