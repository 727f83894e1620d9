using System.Text.Json;

namespace Netdump.Actors.Storage;

/// <summary>
/// Which complete dumps an earlier run left for storage care (SPEC §10): without their SHA-256
/// (a server stopped or killed while it hashed), or ones that decryption or compression at rest
/// would still take. Decided from the <c>dump.json</c> the start-up scan has just read, so the
/// dump tree is walked and parsed once at start (100,000 dumps: docs/performance.md).
/// </summary>
public static class CareBacklog
{
    /// <summary>Whether the dump in <paramref name="directory"/>, described by <paramref name="json"/>, waits for storage care.</summary>
    public static bool Waits(string directory, JsonElement json, bool decrypt, bool compress)
    {
        if (DumpJson.ParseStatus(DumpJson.String(json, DumpJson.Status)) != DumpStatus.Complete)
        {
            return false;
        }

        if (DumpJson.String(json, DumpJson.Sha256) is null)
        {
            return true;
        }

        return (decrypt || compress) && DumpRecordReader.FromJson(json, directory, out _) is { } record
            && ((decrypt && CoreDecryption.WhyNot(record) is null) || (compress && CoreCompression.WhyNot(record) is null));
    }
}
