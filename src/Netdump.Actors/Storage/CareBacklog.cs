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
    /// <summary>Whether the dump in <paramref name="directory"/>, described by <paramref name="json"/>, waits for storage care taking <paramref name="steps"/>.</summary>
    public static bool Waits(string directory, JsonElement json, CareSteps steps)
    {
        if (DumpJson.ParseStatus(DumpJson.String(json, DumpJson.Status)) != DumpStatus.Complete)
        {
            return false;
        }

        if (DumpJson.String(json, DumpJson.Sha256) is null)
        {
            return true;
        }

        return steps != CareSteps.None && DumpRecordReader.FromJson(json, directory, out _) is { } record
            && ((steps.HasFlag(CareSteps.Decrypt) && CoreDecryption.WhyNot(record) is null)
                || (steps.HasFlag(CareSteps.Compress) && CoreCompression.WhyNot(record) is null));
    }
}
