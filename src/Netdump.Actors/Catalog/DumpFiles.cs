namespace Netdump.Actors.Catalog;

/// <summary>One file of a dump as the API lists it.</summary>
public sealed record DumpFile(string Name, long Size);

/// <summary>
/// The files of one dump directory that may be served: regular files directly in it (not
/// symbolic links, FIFOs, devices or sockets), not the writer's hidden temporary files. A name from a request is first
/// checked to be such a plain name (no separator, no dot name, no NUL), so nothing outside the
/// dump directory can ever be named; then it must be one of these files.
/// </summary>
public static class DumpFiles
{
    /// <summary>The servable files of <paramref name="directory"/>, by name; empty when it cannot be listed.</summary>
    public static IReadOnlyList<DumpFile> List(string directory)
    {
        try
        {
            return new DirectoryInfo(directory)
                .EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true })
                .Where(IsServable)
                .Select(f => new DumpFile(f.Name, f.Length))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Why <paramref name="name"/> can never name a file of a dump; null when it is a plain file name.</summary>
    public static string? WhyRefused(string name)
    {
        if (name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\\') || name.Contains('\0'))
        {
            return $"\"{Storage.DumpReport.OneLine(name)}\" is not a file name of this dump (no paths, no dot names)";
        }

        return name.StartsWith('.') ? $"\"{Storage.DumpReport.OneLine(name)}\" is a temporary file of the server, not served" : null;
    }

    /// <summary>The full path of file <paramref name="name"/> of the dump, when it is one of <see cref="List"/>'s files; null otherwise.</summary>
    public static FileInfo? Find(string directory, string name)
    {
        if (WhyRefused(name) is not null)
        {
            return null;
        }

        var file = new FileInfo(Path.Combine(directory, name));
        return file.Exists && IsServable(file) && Path.GetDirectoryName(file.FullName) == Path.TrimEndingDirectorySeparator(directory) ? file : null;
    }

    // a regular file only: a FIFO served would hold the request's thread until a writer came
    private static bool IsServable(FileInfo file) =>
        !file.Name.StartsWith('.') && !file.Attributes.HasFlag(FileAttributes.ReparsePoint) && Storage.RegularFile.Is(file.FullName);
}
