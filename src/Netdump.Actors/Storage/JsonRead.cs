using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// What reading a <c>dump.json</c> gave (<see cref="DumpTree.ReadJson"/>): its object, or why
/// there is none, told apart by whether its bytes were read at all. Only a report whose bytes
/// are damaged may be rewritten; one that could not be read may still be a finished dump's.
/// </summary>
internal abstract record JsonRead
{
    private JsonRead()
    {
    }

    /// <summary>The report's object.</summary>
    public sealed record Parsed(JsonElement Json) : JsonRead;

    /// <summary>No report: <see cref="Why"/> words it after the file's name ("is corrupt: ...").</summary>
    public abstract record Failed(string Why) : JsonRead;

    /// <summary>Its bytes were read and are no report: corrupt, not a JSON object, too large.</summary>
    public sealed record Damaged(string Why) : Failed(Why);

    /// <summary>It could not be read (no permission, an I/O error, not a regular file): its bytes may be fine.</summary>
    public sealed record Unreadable(string Why) : Failed(Why);

    /// <summary>The object, or null with <paramref name="why"/>: for a reader to whom every failure is the same.</summary>
    public JsonElement? OrNull(out string? why)
    {
        why = (this as Failed)?.Why;
        return (this as Parsed)?.Json;
    }
}
