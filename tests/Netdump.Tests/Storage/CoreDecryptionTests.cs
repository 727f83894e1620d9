using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Netdump.Actors.Configuration;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Simulation;

namespace Netdump.Tests.Storage;

/// <summary>
/// Decryption on dumps made on disk from the simulated client: the bytes are those decryptcore
/// writes (its steps done here with the openssl tool, decryptcore's library), and a key that does
/// not fit is refused with the reason.
/// </summary>
public sealed class CoreDecryptionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public CoreDecryptionTests() => AtRestTests.WriteKeyPair(_temp.Path, "private.pem", "public.pem");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("vmcore_encrypted", "vmcore")]
    [InlineData("vmcore_encrypted.gz", "vmcore.gz")]
    [InlineData("vmcore_encrypted.zst", "vmcore.zst")]
    public void A_dump_recovered_without_its_header_gets_a_plain_name_from_its_cores_name(string encrypted, string plain)
    {
        // a complete dump the start-up scan recovered: its KDH (the compression) was in memory only
        var record = DumpRecordReaderTests.Sample("minimal") with { Status = DumpStatus.Complete, Encrypted = true, Vmcore = encrypted, Header = null, Recovered = true };

        Assert.Equal(plain, CoreDecryption.PlainName(record));
    }

    [Theory]
    [InlineData(KeyEncryption.Aes256Cbc)]
    [InlineData(KeyEncryption.ChaCha20)]
    public void The_plain_core_is_what_decryptcores_steps_give_and_the_simulated_memory(KeyEncryption cipher)
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 3 * 1024 * 1024 + 7, Encrypt = true, Cipher = cipher, PublicKey = _temp.Combine("public.pem") });
        var dir = EncryptedDump(client, "d");
        using var key = DecryptKey.Load(_temp.Combine("private.pem"), out var why)!;

        var result = CoreDecryption.Run(Read(dir), key, CancellationToken.None);

        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        var plain = File.ReadAllBytes(Path.Combine(dir, "vmcore"));
        Assert.Equal(Decryptcore(dir, cipher), plain);
        var memory = SimulatedMemory.Of(client);
        Assert.Equal(memory, plain[..memory.Length]);
        Assert.Equal("vmcore", Json(dir).GetProperty("decrypted_vmcore").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "vmcore")));
        Assert.Equal("decrypted already", CoreDecryption.WhyNot(Read(dir)));
    }

    [Fact]
    public void Without_room_for_a_whole_plain_copy_above_the_reserve_nothing_is_written()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 1024 * 1024, Encrypt = true, PublicKey = _temp.Combine("public.pem") });
        var dir = EncryptedDump(client, "d");
        var before = Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order().ToList();
        var core = new FileInfo(Path.Combine(dir, Read(dir).Vmcore)).Length;
        using var key = DecryptKey.Load(_temp.Combine("private.pem"), out _)!;
        var room = new CopyRoom(_ => (ulong)core + 4095, Reserve: 4096);

        var result = CoreDecryption.Run(Read(dir), key, CancellationToken.None, room: room);

        Assert.Equal(DecryptionOutcome.Failed, result.Outcome);
        Assert.Equal($"no room for the copy: {core + 4095} bytes free, {core + 4096} needed (the core's size above min_free_space)", result.Why);
        Assert.Equal(before, Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Equal(DecryptionOutcome.Decrypted, CoreDecryption.Run(Read(dir), key, CancellationToken.None, room: room with { Reserve = 4095 }).Outcome);
    }

    [Fact]
    public void Room_taken_by_others_while_it_runs_stops_the_plain_copy_before_it_writes_below_the_reserve()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 3 * 1024 * 1024, Encrypt = true, PublicKey = _temp.Combine("public.pem") });
        var dir = EncryptedDump(client, "d");
        var before = Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order().ToList();
        using var key = DecryptKey.Load(_temp.Combine("private.pem"), out _)!;
        var asked = 0;
        var room = new CopyRoom(_ => ++asked == 1 ? 64UL << 20 : 4096, Reserve: 4096);

        var result = CoreDecryption.Run(Read(dir), key, CancellationToken.None, room: room);

        Assert.Equal(DecryptionOutcome.Failed, result.Outcome);
        Assert.StartsWith("no room for the rest of the copy: 4096 bytes free, ", result.Why);
        Assert.Equal(before, Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_private_key_of_another_size_is_refused_by_its_modulus_and_the_reports_say_so()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 8192, Encrypt = true, PublicKey = _temp.Combine("public.pem") });
        var dir = EncryptedDump(client, "d");
        using var other = RSA.Create(3072);

        var result = CoreDecryption.Run(Read(dir), other, CancellationToken.None);

        Assert.Equal(DecryptionOutcome.Refused, result.Outcome);
        Assert.Contains("its RSA modulus is 3072 bits, the dump's key was wrapped for 2048 bits", result.Why);
        Assert.Equal(result.Why, Json(dir).GetProperty("decryption_problem").GetString());
        Assert.Equal(["dump.json", "info", "key", "vmcore_encrypted"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.StartsWith("given up before", CoreDecryption.WhyNot(Read(dir)));
    }

    [Fact]
    public void An_aes_core_cut_inside_a_block_and_an_unusable_key_are_refused_as_decryptcore_would()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 8192, Encrypt = true, PublicKey = _temp.Combine("public.pem") });
        using var key = DecryptKey.Load(_temp.Combine("private.pem"), out _)!;

        var cut = EncryptedDump(client, "cut");
        File.WriteAllBytes(Path.Combine(cut, "vmcore_encrypted"), client.Core.ToArray()[..8001]);
        Assert.Contains("not whole 16-byte AES blocks", CoreDecryption.Run(Read(cut), key, CancellationToken.None).Why);

        var broken = EncryptedDump(client, "broken");
        File.WriteAllBytes(Path.Combine(broken, "key"), [9, 9, 9]);
        Assert.Contains("the dump's key is unusable", CoreDecryption.Run(Read(broken), key, CancellationToken.None).Why);
        Assert.False(File.Exists(Path.Combine(broken, "vmcore")));
    }

    [Fact]
    public void The_key_file_is_taken_only_from_the_servers_user_or_root_readable_by_nobody_else_and_a_usable_private_key()
    {
        var path = _temp.Combine("private.pem");
        using (var ok = DecryptKey.Load(path, out var fine))
        {
            Assert.True(ok is not null, fine);
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.Null(DecryptKey.Load(path, out var why));
        Assert.Equal($"decrypt_key {path} may be read by others (mode 0640): the key to every encrypted dump must be readable by the server's user alone (chmod 0400)", why);

        var publicKey = _temp.Combine("public.pem");
        File.SetUnixFileMode(publicKey, UnixFileMode.UserRead);
        Assert.Null(DecryptKey.Load(publicKey, out why));
        Assert.StartsWith($"decrypt_key {publicKey} is not an unencrypted RSA private key in PEM", why);

        Assert.Null(DecryptKey.Load(_temp.Combine("missing.pem"), out why));
        Assert.Equal($"decrypt_key {_temp.Combine("missing.pem")}: it does not exist", why);

        if (Tmpfs.IsRoot)
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead);
            Netdump.Tests.Scripts.ScriptFolder.Chown(path, 65534);
            Assert.Null(DecryptKey.Load(path, out why));
            Assert.Contains("is not trusted: owned by uid 65534", why);
        }
    }

    /// <summary>decryptcore's steps with the openssl tool: the key opened with RSA-OAEP, the core deciphered in one stream (ChaCha20's IV: 8 zero bytes, then the nonce).</summary>
    private byte[] Decryptcore(string dir, KeyEncryption cipher)
    {
        var key = File.ReadAllBytes(Path.Combine(dir, "key"));
        Assert.True(EncryptionKeyHeader.TryParse(key, out var head, out _));
        File.WriteAllBytes(_temp.Combine("wrapped"), key[EncryptionKeyHeader.HeadSize..(EncryptionKeyHeader.HeadSize + (int)head!.EncryptedKeySize)]);
        Openssl("pkeyutl", "-decrypt", "-inkey", _temp.Combine("private.pem"), "-pkeyopt", "rsa_padding_mode:oaep", "-in", _temp.Combine("wrapped"), "-out", _temp.Combine("symmetric"));
        var symmetric = File.ReadAllBytes(_temp.Combine("symmetric"));
        Assert.Equal(64, symmetric.Length);
        var iv = cipher == KeyEncryption.ChaCha20
            ? "0000000000000000" + Convert.ToHexString(head.InitializationVector[..8])
            : Convert.ToHexString(head.InitializationVector[..16]);
        Openssl("enc", "-d", cipher == KeyEncryption.ChaCha20 ? "-chacha20" : "-aes-256-cbc", "-nopad", "-K", Convert.ToHexString(symmetric[..32]), "-iv", iv,
            "-in", Path.Combine(dir, "vmcore_encrypted"), "-out", _temp.Combine("decryptcore.out"));
        return File.ReadAllBytes(_temp.Combine("decryptcore.out"));
    }

    private static void Openssl(params string[] arguments)
    {
        using var openssl = Process.Start(new ProcessStartInfo("openssl", arguments) { RedirectStandardError = true })!;
        var error = openssl.StandardError.ReadToEnd();
        openssl.WaitForExit();
        Assert.True(openssl.ExitCode == 0, $"openssl {string.Join(' ', arguments)}: {error}");
    }

    /// <summary>A complete encrypted dump as the writer leaves it: vmcore_encrypted, key, reports.</summary>
    private string EncryptedDump(SimulatedClient client, string name)
    {
        var dir = _temp.Combine(name);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "vmcore_encrypted"), client.Core.ToArray());
        File.WriteAllBytes(Path.Combine(dir, "key"), client.Key.ToArray());
        DumpReport.Write(DumpRecordReaderTests.Sample("minimal") with
        {
            Status = DumpStatus.Complete,
            Reason = null,
            Directory = dir,
            Header = client.Header,
            Encrypted = true,
            KeyBytesReceived = (ulong)client.Key.Length,
            Vmcore = "vmcore_encrypted",
        });
        return dir;
    }

    private static DumpRecord Read(string dir) => DumpRecordReader.Read(dir, out var why) ?? throw new InvalidOperationException(why);

    private static JsonElement Json(string dir)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "dump.json")));
        return document.RootElement.Clone();
    }
}
