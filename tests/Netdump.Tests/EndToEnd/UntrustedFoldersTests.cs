using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Issue 13: files anybody could plant under dumpdir take no part. A magic file in a
/// world-writable <c>magic/</c> admits nobody, and a script in a world-writable <c>scripts/</c>
/// does not run; both folders are named at start-up, each skipped script in the log.
/// </summary>
public sealed class UntrustedFoldersTests : IAsyncLifetime
{
    private static readonly UnixFileMode WorldWritable = (UnixFileMode)Convert.ToInt32("1777", 8);

    private ServerHarness? _server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_magic_file_planted_in_a_world_writable_folder_admits_nobody()
    {
        var dumpDir = Directory.CreateTempSubdirectory("netdump-magic-").FullName;
        var magic = Path.Combine(dumpDir, "magic");
        Directory.CreateDirectory(magic);
        File.WriteAllText(Path.Combine(magic, "127.0.0.43"), "");
        File.SetUnixFileMode(magic, WorldWritable);

        var server = _server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["secure"] = true, ["allow"] = "127.0.0.1/32", ["dumpdir"] = dumpDir,
        });
        await server.WaitForLogAsync(magic, "is not trusted (group or world writable (mode 1777)): its files admit no client");

        var refused = await new SimulatedClient(server.Client("127.0.0.43") with { Size = 10_000, MaxSends = 4 }).RunAsync();

        Assert.False(refused.Success);
        Assert.Equal(0, refused.AcksReceived);
        Assert.Empty(server.DumpsOf("127.0.0.43"));
    }

    [Fact]
    public async Task A_script_in_a_world_writable_folder_does_not_run_and_the_dump_goes_ahead()
    {
        var dumpDir = Directory.CreateTempSubdirectory("netdump-scripts-").FullName;
        var scripts = Path.Combine(dumpDir, "scripts");
        Directory.CreateDirectory(scripts);
        var crash = Path.Combine(scripts, "netdump-crash");
        File.CreateSymbolicLink(crash, "/bin/false"); // would refuse every dump
        File.SetUnixFileMode(scripts, WorldWritable);

        var server = _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["secure"] = false, ["dumpdir"] = dumpDir });
        await server.WaitForLogAsync(scripts, "is not trusted (group or world writable (mode 1777)): no script in it will run");

        var result = await new SimulatedClient(server.Client("127.0.0.44") with { Size = 10_000 }).RunAsync();

        Assert.True(result.Success, result.Error);
        await server.WaitForLogAsync("skipping", crash, $"its folder {scripts} is not trusted: group or world writable (mode 1777)");
    }
}
