using System.Globalization;
using System.Text.Json;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// The real executable with <c>compress = zstd</c>, killed with SIGKILL while it compresses a
/// dump at rest, then started again: the kill left the original core (the copy under its
/// temporary name is removed by the start-up scan), and the new run compresses it to a
/// verified vmcore.zst. Loopback only; the dump is made on disk before the first start, so the
/// server's start-up backlog takes it.
/// </summary>
public sealed class CompressionKillProcessTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CompressTimeout = TimeSpan.FromSeconds(120);

    private readonly TempDirectory _temp = new();
    private readonly List<ServerProcess> _started = [];

    [Fact]
    public async Task A_server_killed_while_compressing_leaves_the_original_and_the_next_start_compresses_it()
    {
        var dumps = _temp.Combine("crash");
        var dir = Path.Combine(dumps, "192.0.2.7-2024-03-09-14:05:07");
        var sha = CoreCompressionTests.LargeCompleteDump(dir, 384);
        var original = Path.Combine(dir, "vmcore");
        var copy = Path.Combine(dir, ".vmcore.zst.tmp");

        var first = Start(dumps);
        var deadline = DateTime.UtcNow + CompressTimeout;
        while (!(File.Exists(copy) && new FileInfo(copy).Length > 0))
        {
            Assert.True(DateTime.UtcNow < deadline && !first.Process.HasExited, $"no compression began; stdout:\n{first.Stdout}\nstderr:\n{first.Stderr}");
            await Task.Delay(5);
        }

        first.Process.Kill(); // SIGKILL, mid-copy
        Assert.True(first.Process.WaitForExit(10_000), "the killed server exits");

        Assert.False(File.Exists(Path.Combine(dir, "vmcore.zst")), "no copy was put in place before it was verified");
        Assert.Equal(sha, CoreChecksum.Compute(original, CancellationToken.None));
        Assert.Equal("vmcore", Json(dir).GetProperty("vmcore").GetString());

        var second = Start(dumps);
        await second.WaitForOutputAsync("Listening for netdump HERALDs", StartTimeout);
        Assert.Contains(second.StdoutLines, l => l.Contains("removed .vmcore.zst.tmp", StringComparison.Ordinal));
        await second.WaitForOutputAsync("verified against its SHA-256; vmcore removed", CompressTimeout);

        Assert.Equal(["dump.json", "info", "vmcore.zst"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        var json = Json(dir);
        Assert.Equal("vmcore.zst", json.GetProperty("vmcore").GetString());
        Assert.Equal(sha, json.GetProperty("sha256").GetString());
        Assert.Equal(sha, ZstdCore.HashThrough(Path.Combine(dir, "vmcore.zst"), CancellationToken.None).Content);
    }

    public void Dispose()
    {
        foreach (var server in _started)
        {
            server.Dispose();
        }

        _temp.Dispose();
    }

    private ServerProcess Start(string dumps)
    {
        var path = _temp.Combine($"netdump-{_started.Count}.conf");
        File.WriteAllText(path, "compress = zstd\n");
        var server = ServerProcess.Start(
            "--addr", "127.0.0.1", "--port", "0", "--dumpdir", dumps, "--config", path);
        _started.Add(server);
        return server;
    }

    private static JsonElement Json(string dir)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, DumpReport.JsonFileName)));
        return json.RootElement.Clone();
    }
}
