using Netdump.Actors.Configuration;

namespace Netdump.Actors.Scripts;

/// <summary>
/// Decides whether a file in the scripts folder may be run (SPEC §5): a regular file,
/// executable by its owner, in a folder and behind a link (if it is one) that are
/// <see cref="TrustedPath">trusted</see>, owned by the user the server runs as or by root, and
/// writable by nobody else. A script runs with the server's rights, so anyone who could change
/// it, or put another file in its place, could run code as the server; that is what the
/// ownership and write checks refuse.
/// </summary>
public static class ScriptCheck
{
    /// <summary>
    /// Null when <paramref name="path"/> may be run; otherwise why not, in words for the log
    /// ("group or world writable (mode 0777)"). Never throws for a file-system problem: that is a reason too.
    /// </summary>
    public static string? WhyNotRunnable(string path)
    {
        ArgumentNullException.ThrowIfNull(path);

        // The folder first: in a folder others can write, any name could be swapped for another
        // file between this check and execve, so nothing in it counts.
        var folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder) && TrustedPath.WhyNotTrustedDirectory(folder) is { } folderProblem)
        {
            return $"its folder {folder} is not trusted: {folderProblem}";
        }

        // The target is what execve runs, so its type and mode are what is checked; the link
        // (if any) must be trusted as well, since its owner chose the target.
        if (TrustedPath.Examine(path, out var entry) is { } problem)
        {
            return problem;
        }

        if (!entry.IsRegularFile)
        {
            return entry.IsDirectory ? "a directory, not a regular file" : "not a regular file";
        }

        if (!entry.OwnerMayExecute)
        {
            return "not executable by its owner";
        }

        return TrustedPath.WhyNotTrusted(entry);
    }

    /// <summary>
    /// Why no script in <paramref name="scriptDirectory"/> will run (for the start-up log): null
    /// when the folder is trusted or does not exist. Each run checks again, so fixing the
    /// folder's mode needs no restart.
    /// </summary>
    public static string? WhyFolderIgnored(string scriptDirectory) =>
        TrustedPath.IsPresent(scriptDirectory) && TrustedPath.WhyNotTrustedDirectory(scriptDirectory) is { } problem
            ? $"{scriptDirectory} is not trusted ({problem}): no script in it will run; chown it to the server's user or root and chmod go-w"
            : null;

    /// <summary>Whether anything, even a dangling link, has this name (see <see cref="TrustedPath.IsPresent"/>).</summary>
    internal static bool IsPresent(string path) => TrustedPath.IsPresent(path);
}
