namespace Netdump.Actors.Scripts;

/// <summary>
/// The file names of the four hook scripts (SPEC §5, after the Red Hat netdump-server), and
/// the folder under the dump directory they live in.
/// </summary>
public static class ScriptNames
{
    public const string Start = "netdump-start", Crash = "netdump-crash", Nospace = "netdump-nospace", Reboot = "netdump-reboot";

    public const string Directory = "scripts";
}
