using System.Diagnostics;
using Netdump.Actors.Scripts;
using Netdump.App.Daemon;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Scripts;

/// <summary>A temporary dump directory with a <c>scripts/</c> folder to write real shell scripts into.</summary>
internal sealed class ScriptFolder : IDisposable
{
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute; // 0700

    private readonly TempDirectory _root = new();

    public ScriptFolder()
    {
        // A mode of its own: under a umask of 002 the default would be group writable, a folder
        // whose scripts never run.
        Directory.CreateDirectory(ScriptsPath, Private);
    }

    /// <summary>The dump directory root: the runner's working directory and the parent of scripts/.</summary>
    public string DumpDirectory => _root.Path;

    public string ScriptsPath => _root.Combine(ScriptNames.Directory);

    public string ScriptPath(string name) => Path.Combine(ScriptsPath, name);

    public string InDump(string name) => _root.Combine(name);

    /// <summary>Writes <c>#!/bin/sh</c> and <paramref name="body"/> as the script <paramref name="name"/> with <paramref name="mode"/>.</summary>
    public string Write(string name, string body, UnixFileMode mode = Private) =>
        WriteRaw(name, "#!/bin/sh\n" + body + "\n", mode);

    public string WriteRaw(string name, string content, UnixFileMode mode = Private)
    {
        var path = ScriptPath(name);
        File.WriteAllText(path, content);
        // Set after writing: the umask would otherwise clear the group and world bits some tests need.
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public void Dispose() => _root.Dispose();

    /// <summary>A Unix mode from its octal spelling, so tests read like chmod: <c>Mode("0720")</c>.</summary>
    public static UnixFileMode Mode(string octal) => (UnixFileMode)Convert.ToInt32(octal, 8);

    /// <summary>
    /// Gives <paramref name="path"/> to <paramref name="uid"/> with chown(1); only root may. With
    /// <paramref name="link"/> a symbolic link itself changes owner, not its target.
    /// </summary>
    public static void Chown(string path, int uid, bool link = false)
    {
        string[] arguments = link ? ["-h", uid.ToString(), path] : [uid.ToString(), path];
        using var chown = Process.Start(new ProcessStartInfo("chown", arguments) { RedirectStandardError = true })!;
        var error = chown.StandardError.ReadToEnd();
        chown.WaitForExit();
        Assert.True(chown.ExitCode == 0, $"chown {uid} {path} failed: {error}");
    }

    /// <summary>
    /// Whether the process <paramref name="pid"/> still runs. A zombie (killed, not yet reaped by
    /// whoever inherited it) has ended: it runs no code and holds nothing but its table entry.
    /// </summary>
    public static bool IsRunning(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }

        var state = new ProcStat(stat).Field(3)[0];
        return state is not ('Z' or 'X');
    }
}
