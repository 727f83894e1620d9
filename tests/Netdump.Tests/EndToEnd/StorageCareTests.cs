using System.Security.Cryptography;
using System.Text.Json;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>What the server does for a complete dump once it is stored: its checksum and its host's <c>.last</c> link.</summary>
public sealed class StorageCareTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_complete_dump_gets_the_sha256_of_its_vmcore_and_its_hosts_last_link_which_the_next_dump_replaces()
    {
        var first = await CompleteDump("127.0.0.61", "web7.example.org");
        var json = await WaitForChecksum(first);
        Assert.Equal(Sha256Of(Path.Combine(first, "vmcore")), json.GetProperty("sha256").GetString());
        Assert.Contains($"  SHA-256: {json.GetProperty("sha256").GetString()} (vmcore)", File.ReadAllLines(Path.Combine(first, "info")));
        // a small core is hashed before its ack: the dump's end line says the hash
        await _server.WaitForLogAsync("Client 127.0.0.61: dump complete in", $", SHA-256 {json.GetProperty("sha256").GetString()}");
        var link = new FileInfo(Path.Combine(_server.DumpDir, "web7.example.org.last"));
        Assert.Equal(Path.GetFileName(first), link.LinkTarget);

        // the same host, back from another address (DHCP): its link follows its name
        var second = await CompleteDump("127.0.0.62", "web7.example.org");
        await WaitForChecksum(second);
        Assert.Equal(Path.GetFileName(second), new FileInfo(link.FullName).LinkTarget);
        Assert.Single(Directory.GetFileSystemEntries(_server.DumpDir, "*.last"));
        Assert.Empty(Directory.GetFileSystemEntries(_server.DumpDir, ".*.tmp"));
    }

    [Fact]
    public async Task A_hostname_that_climbs_out_names_a_link_inside_the_dump_directory()
    {
        var dir = await CompleteDump("127.0.0.63", "../../escape");
        await WaitForChecksum(dir);

        Assert.Equal(Path.GetFileName(dir), new FileInfo(Path.Combine(_server.DumpDir, "_._.._escape.last")).LinkTarget);
        Assert.False(Path.Exists(Path.Combine(Path.GetDirectoryName(_server.DumpDir)!, "escape.last")));
    }

    [Fact]
    public async Task A_complete_dump_left_without_its_checksum_by_an_earlier_run_gets_it_at_the_next_start()
    {
        var dir = await CompleteDump("127.0.0.65", "web9.example.org");
        await WaitForChecksum(dir);
        var dumpDir = _server.DumpDir;
        await _server.StopAsync(); // as a server stopped while it hashed: the reports without the hash (the next one removes the directory)
        DumpReport.Write(DumpRecordReader.Read(dir, out var why)! with { Sha256 = null, StoredSha256 = null, StoredBytes = null });
        Assert.Null(why);
        Assert.Equal(JsonValueKind.Null, ServerHarness.ReadJson(dir).GetProperty("sha256").ValueKind);

        _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["dumpdir"] = dumpDir, ["http"] = "127.0.0.1:0" });

        var json = await WaitForChecksum(dir);
        Assert.Equal(Sha256Of(Path.Combine(dir, "vmcore")), json.GetProperty("sha256").GetString());
        Assert.Equal("complete", json.GetProperty("status").GetString());
        await _server.WaitForLogAsync("Storage care: SHA-256 of", "missing since an earlier run");

        // the catalog, which read the reports before storage care rewrote them, hears of it too
        using var http = new HttpClient { BaseAddress = new Uri(_server.HttpUrl!) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string? listed;
        while ((listed = JsonDocument.Parse(await http.GetStringAsync("/api/dumps")).RootElement.GetProperty("items")[0].GetProperty("sha256").GetString()) is null
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(json.GetProperty("sha256").GetString(), listed);
    }

    [Fact]
    public async Task An_incomplete_dump_gets_no_checksum_and_no_link()
    {
        await new SimulatedClient(_server.Client("127.0.0.64") with { Size = 300_000, Hostname = "lost.example.org", DieAfterBytes = 100_000 }).RunAsync();
        var dir = _server.SingleDumpOf("127.0.0.64");
        var json = await ServerHarness.WaitForEndAsync(dir, TimeSpan.FromSeconds(10));

        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("sha256").ValueKind);
        Assert.Empty(Directory.GetFileSystemEntries(_server.DumpDir, "*.last"));
    }

    private async Task<string> CompleteDump(string source, string hostname)
    {
        var result = await new SimulatedClient(_server.Client(source) with { Size = 300_000, Hostname = hostname }).RunAsync();
        Assert.True(result.Success, result.Error);
        return _server.SingleDumpOf(source);
    }

    private static Task<JsonElement> WaitForChecksum(string dir) =>
        ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("sha256").ValueKind == JsonValueKind.String);

    private static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
