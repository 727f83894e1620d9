using System.Security.Cryptography;
using System.Text.Json;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;
using Netdump.Tests.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A real server with <c>compress = zstd</c> and <c>decrypt_key</c>, fed by the simulated
/// FreeBSD client: a plain dump is rewritten as a verified vmcore.zst, an encrypted one gets the
/// plain core decryptcore would write, for both of FreeBSD's ciphers, and the rest is left alone.
/// </summary>
public sealed class AtRestTests : IAsyncLifetime
{
    private readonly TempDirectory _keys = new();
    private ServerHarness _server = null!;

    private string PrivateKey => _keys.Combine("private.pem");

    private string PublicKey => _keys.Combine("public.pem");

    public async Task InitializeAsync()
    {
        WriteKeyPair(_keys.Path, "private.pem", "public.pem");
        _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["compress"] = "zstd", ["decrypt_key"] = PrivateKey });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _keys.Dispose();
    }

    [Fact]
    public async Task A_plain_dump_is_rewritten_as_a_verified_vmcore_zst_and_its_reports_name_it()
    {
        var (client, dir) = await CompleteDump("127.0.0.121", _server.Client("127.0.0.121") with { Size = 2_000_000 });

        var json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("compressed_at_rest").GetBoolean());
        // the report naming vmcore.zst is durable before vmcore is removed (a crash between the
        // two must leave a described dump): the removal is over once it is logged
        await _server.WaitForLogAsync("Compressed", dir, "verified against its SHA-256; vmcore removed");

        Assert.False(File.Exists(Path.Combine(dir, "vmcore")));
        Assert.Equal("vmcore.zst", json.GetProperty("vmcore").GetString());
        var core = client.Core.ToArray();
        Assert.Equal(CoreCompressionTests.Sha(core), json.GetProperty("sha256").GetString());
        Assert.Equal(CoreCompressionTests.Sha(core), ZstdCore.HashThrough(Path.Combine(dir, "vmcore.zst"), CancellationToken.None).Content);
        Assert.True(json.GetProperty("stored_bytes").GetInt64() < core.Length);
        Assert.Empty(Directory.GetFiles(dir, ".*"));
        Assert.Equal(Path.GetFileName(dir), new FileInfo(Path.Combine(_server.DumpDir, "simulated-host.last")).LinkTarget);
    }

    [Theory]
    [InlineData(KeyEncryption.Aes256Cbc, "127.0.0.122")]
    [InlineData(KeyEncryption.ChaCha20, "127.0.0.123")]
    public async Task An_encrypted_dump_gets_the_plain_core_of_its_simulated_memory_and_keeps_its_encrypted_core(KeyEncryption cipher, string source)
    {
        var (client, dir) = await CompleteDump(source, _server.Client(source) with
        {
            Size = 1_000_000 + 123, Encrypt = true, Cipher = cipher, PublicKey = PublicKey,
        });

        var json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("decrypted_vmcore").ValueKind == JsonValueKind.String);

        Assert.Equal("vmcore", json.GetProperty("decrypted_vmcore").GetString());
        var memory = SimulatedMemory.Of(client);
        var plain = File.ReadAllBytes(Path.Combine(dir, "vmcore"));
        Assert.Equal(client.Core.Length, plain.Length); // the memory padded to the block, as the kernel encrypted it
        Assert.Equal(memory, plain[..memory.Length]);
        Assert.All(plain[memory.Length..], b => Assert.Equal(0, b));
        Assert.Equal(client.Core.ToArray(), File.ReadAllBytes(Path.Combine(dir, "vmcore_encrypted")));
        Assert.Equal("vmcore_encrypted", json.GetProperty("vmcore").GetString());
        Assert.False(json.GetProperty("compressed_at_rest").GetBoolean()); // it arrived encrypted
        Assert.Contains("  Decrypted: vmcore", File.ReadAllLines(Path.Combine(dir, "info")));
        await _server.WaitForLogAsync("Decrypted", dir, "into vmcore");
    }

    [Fact]
    public async Task An_encrypted_compressed_dump_gets_its_plain_compressed_stream()
    {
        var (client, dir) = await CompleteDump("127.0.0.124", _server.Client("127.0.0.124") with
        {
            Size = 300_000, Encrypt = true, Cipher = KeyEncryption.ChaCha20, PublicKey = PublicKey, Compress = DumpCompression.Zstd,
        });

        await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("decrypted_vmcore").ValueKind == JsonValueKind.String);

        Assert.Equal(SimulatedMemory.Of(client), ZstdTestReader.Decode(File.ReadAllBytes(Path.Combine(dir, "vmcore.zst")), out _));
        Assert.True(File.Exists(Path.Combine(dir, "vmcore_encrypted.zst")));
    }

    [Fact]
    public async Task A_dump_whose_key_does_not_match_keeps_its_encrypted_core_and_says_why()
    {
        WriteKeyPair(_keys.Path, "other-private.pem", "other-public.pem");
        var (client, dir) = await CompleteDump("127.0.0.125", _server.Client("127.0.0.125") with
        {
            Size = 200_000, Encrypt = true, PublicKey = _keys.Combine("other-public.pem"),
        });

        var json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("decryption_problem").ValueKind == JsonValueKind.String);

        Assert.Contains("does not open the dump's key", json.GetProperty("decryption_problem").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("decrypted_vmcore").ValueKind);
        Assert.False(File.Exists(Path.Combine(dir, "vmcore")));
        Assert.Equal(client.Core.ToArray(), File.ReadAllBytes(Path.Combine(dir, "vmcore_encrypted")));
        Assert.Empty(Directory.GetFiles(dir, ".*"));
        await _server.WaitForLogAsync("Cannot decrypt", dir, "the encrypted core is kept");
    }

    [Fact]
    public async Task A_dump_that_arrived_compressed_is_left_as_it_is()
    {
        var (client, gzipped) = await CompleteDump("127.0.0.126", _server.Client("127.0.0.126") with { Size = 300_000, Compress = DumpCompression.Gzip });
        // one dump at a time, in order: once the plain dump after it is compressed, the gzip one had its turn
        var (_, plain) = await CompleteDump("127.0.0.127", _server.Client("127.0.0.127") with { Size = 100_000 });
        await ServerHarness.WaitForJsonAsync(plain, j => j.GetProperty("compressed_at_rest").GetBoolean());

        var json = ServerHarness.ReadJson(gzipped);
        Assert.False(json.GetProperty("compressed_at_rest").GetBoolean());
        Assert.Equal("vmcore.gz", json.GetProperty("vmcore").GetString());
        Assert.Equal("gzip", json.GetProperty("stored_compression").GetString());
        Assert.Equal(client.Core.ToArray(), File.ReadAllBytes(Path.Combine(gzipped, "vmcore.gz")));
    }

    [Fact]
    public async Task Compression_waits_while_another_dump_is_being_received()
    {
        // a client that stops sending: its dump holds a slot until session_timeout (2 s here)
        var dying = await new SimulatedClient(_server.Client("127.0.0.128") with { Size = 4_000_000, DieAfterBytes = 200_000 }).RunAsync();
        Assert.False(dying.Success);
        var (_, dir) = await CompleteDump("127.0.0.129", _server.Client("127.0.0.129") with { Size = 300_000 });

        await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("compressed_at_rest").GetBoolean());
        // the storage-care actor logs it once the compression thread's answer (sent after dump.json) arrives
        await _server.WaitForLogAsync("Compressed", dir);

        // a compression of 300 KB takes milliseconds: it finished only after the other dump ended
        var lines = _server.LogLines.ToList();
        var ended = lines.FindIndex(l => l.Contains("Client 127.0.0.128", StringComparison.Ordinal) && l.Contains("client timed out", StringComparison.Ordinal));
        var compressed = lines.FindIndex(l => l.Contains("Compressed", StringComparison.Ordinal) && l.Contains(dir, StringComparison.Ordinal));
        Assert.True(ended >= 0 && ended < compressed, $"timed out at line {ended}, compressed at line {compressed}");
    }

    private async Task<(SimulatedClient Client, string Directory)> CompleteDump(string source, SimulationOptions options)
    {
        var client = new SimulatedClient(options);
        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error);
        return (client, _server.SingleDumpOf(source));
    }

    /// <summary>An RSA-2048 pair as <c>openssl genrsa</c> and <c>openssl rsa -pubout</c> write them, the private one mode 0600.</summary>
    internal static void WriteKeyPair(string directory, string privateName, string publicName)
    {
        using var rsa = RSA.Create(2048);
        var path = Path.Combine(directory, privateName);
        File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(directory, publicName), rsa.ExportSubjectPublicKeyInfoPem());
    }
}
