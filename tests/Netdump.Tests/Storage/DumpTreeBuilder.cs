using System.Globalization;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>Finished and unfinished dump directories made on disk as the writer leaves them, for retention's tests.</summary>
internal static class DumpTreeBuilder
{
    /// <summary>
    /// A dump directory <c>&lt;ip&gt;-&lt;local time&gt;</c> under <paramref name="parent"/> with a
    /// <c>dump.json</c> of <paramref name="status"/> (null: none) and a core of
    /// <paramref name="coreBytes"/> written bytes.
    /// </summary>
    public static string Dump(string parent, string client, DateTimeOffset receivedAt, string? status = "complete", int coreBytes = 4096, string core = "vmcore")
    {
        var dir = Path.Combine(parent, $"{client}-{receivedAt.ToLocalTime().ToString("yyyy-MM-dd-HH:mm:ss", CultureInfo.InvariantCulture)}");
        Directory.CreateDirectory(dir);
        if (status is not null)
        {
            File.WriteAllText(Path.Combine(dir, DumpReport.JsonFileName), $$"""
                {"status":"{{status}}","client_ip":"{{client}}","received_at":"{{receivedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}","directory":"{{dir}}"}
                """);
            File.WriteAllText(Path.Combine(dir, DumpReport.InfoFileName), $"Dump from {client}\n");
        }

        File.WriteAllBytes(Path.Combine(dir, core), Enumerable.Repeat((byte)0x5a, coreBytes).ToArray());
        return dir;
    }
}
