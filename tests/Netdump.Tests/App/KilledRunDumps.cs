namespace Netdump.Tests.App;

/// <summary>Dumps a killed run left receiving, many of them: the start-up scan rewrites each one's reports durably, which takes it seconds.</summary>
internal static class KilledRunDumps
{
    /// <summary>Makes <paramref name="count"/> of them in <paramref name="dumpDir"/>; their directories.</summary>
    public static List<string> Make(string dumpDir, int count)
    {
        Directory.CreateDirectory(dumpDir);
        var dumps = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var dump = Path.Combine(dumpDir, $"192.0.2.{i % 250}-2024-03-01-10:{i / 60 % 60:D2}:{i % 60:D2}-{i}");
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, "dump.json"), $$"""{"status":"receiving","client_ip":"192.0.2.{{i % 250}}","server_ip":"0.0.0.0","received_at":"2024-03-01T10:00:00.000Z","vmcore":"vmcore-incomplete"}""");
            File.WriteAllBytes(Path.Combine(dump, "vmcore-incomplete"), new byte[512]);
            dumps.Add(dump);
        }

        return dumps;
    }
}
