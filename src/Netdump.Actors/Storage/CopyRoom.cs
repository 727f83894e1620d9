namespace Netdump.Actors.Storage;

/// <summary>
/// What a copy of a core (compression at rest, decryption) may use: the free bytes of the file
/// system holding a path, and the reserve to leave (<c>min_free_space</c>). Asked before the copy
/// for all of it, and again before each chunk for what is left, since the dumps received while
/// the copy waited at its gate took room of their own.
/// </summary>
public sealed record CopyRoom(Func<string, ulong> Available, ulong Reserve)
{
    /// <summary>
    /// Null when a copy of <paramref name="bytes"/> (a whole core's size: the most a compressed
    /// or deciphered copy takes) fits in <paramref name="directory"/>'s file system above the
    /// reserve; otherwise why not, before anything is written.
    /// </summary>
    public string? WhyNoRoomFor(string directory, long bytes) => WhyNot(directory, bytes, "the copy", "the core's size");

    /// <summary>
    /// What a copy in <paramref name="directory"/> calls before each chunk with the bytes still to
    /// come: short of room for them (a copy that went on wrote below the reserve, until the disk
    /// was full under the dumps being received), an <see cref="IOException"/> stops the copy.
    /// </summary>
    public Action<long> BeforeEachChunk(string directory) => bytesLeft =>
    {
        if (WhyNot(directory, bytesLeft, "the rest of the copy", "what is left of the core") is { } why)
        {
            throw new IOException(why);
        }
    };

    private string? WhyNot(string directory, long bytes, string what, string size)
    {
        var needed = (ulong)bytes + Reserve;
        var free = Available(directory);
        return free < needed ? $"no room for {what}: {free} bytes free, {needed} needed ({size} above {Configuration.ConfigKeys.MinFreeSpace.Name})" : null;
    }
}
