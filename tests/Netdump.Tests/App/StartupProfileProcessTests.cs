using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>
/// <c>cache_dir</c> on the real executable: the runtime's start-up profile written there at a
/// clean exit, and a cache_dir that cannot be made is one warning, not a failed start.
/// </summary>
public sealed class StartupProfileProcessTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<ServerProcess> RunUntilListeningThenStop(string cacheDir)
    {
        var conf = _dir.Combine("netdump.conf");
        File.WriteAllText(conf, $"cache_dir = {cacheDir}\n");
        var server = ServerProcess.Start("--port", "0", "--addr", "127.0.0.1", "--dumpdir", _dir.Combine("crash"), "--config", conf);
        await server.WaitForOutputAsync("Listening for netdump HERALDs on 127.0.0.1:", RunTimeout);
        server.Terminate();
        var exitCode = await server.WaitForExitAsync(RunTimeout);
        Assert.True(exitCode == 0, $"exit {exitCode}; stderr:\n{server.Stderr}");
        return server;
    }

    [Fact]
    public async Task The_server_makes_its_cache_dir_and_leaves_its_start_up_profile_there_at_a_clean_exit()
    {
        var cache = _dir.Combine("cache", "netdump-server");

        using var first = await RunUntilListeningThenStop(cache);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(cache));
        if (Environment.ProcessorCount < 2)
        {
            return; // the runtime keeps no multi-core JIT profile on one core
        }

        var profile = new FileInfo(Path.Combine(cache, Netdump.App.Hosting.StartupProfile.FileName));
        Assert.True(profile.Exists && profile.Length > 0, $"no profile in {cache}: {string.Join(", ", Directory.GetFileSystemEntries(cache))}");

        // the next run starts with it, without a word, and writes it again at its own exit
        var longAgo = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(profile.FullName, longAgo);
        using var second = await RunUntilListeningThenStop(cache);
        Assert.DoesNotContain(second.StdoutLines, l => l.Contains("[WRN]", StringComparison.Ordinal) && l.Contains("cache_dir", StringComparison.Ordinal));
        profile.Refresh();
        Assert.True(profile.Length > 0 && profile.LastWriteTimeUtc > longAgo, $"the profile was not written again: {profile.LastWriteTimeUtc:O}, {profile.Length} bytes");
    }

    [Fact]
    public async Task A_cache_dir_that_cannot_be_made_is_a_warning_and_the_server_runs_without_a_profile()
    {
        var file = _dir.Combine("a-file");
        File.WriteAllText(file, "");
        var cache = Path.Combine(file, "netdump-server"); // under a regular file: ENOTDIR

        using var server = await RunUntilListeningThenStop(cache);

        Assert.Contains(server.StdoutLines, l => l.Contains("[WRN]", StringComparison.Ordinal)
            && l.Contains($"cache_dir {cache} cannot be made", StringComparison.Ordinal)
            && l.Contains("the server starts without its start-up profile", StringComparison.Ordinal));
    }
}
