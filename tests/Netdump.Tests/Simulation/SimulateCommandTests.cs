using System.CommandLine;
using System.Globalization;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

public sealed class SimulateCommandTests
{
    internal static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        var root = new RootCommand("test");
        root.Subcommands.Add(SimulateCommand.Create());
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var exitCode = root.Parse(["simulate", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void Simulate_completes_a_dump_and_prints_each_phase()
    {
        using var peer = new AckingPeer();

        var (exitCode, output, error) = Invoke(
            "--port", peer.ListenEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            "--size", "256K", "--compress", "gzip", "--hostname", "web3", "--path", "fleet");

        Assert.True(exitCode == 0, error + output);
        Assert.Contains($"herald acked from port {peer.SessionPort}", output);
        Assert.Contains("MiB/s", output);
        Assert.Contains("KDH acked", output);
        Assert.Contains("FINISHED acked", output);
        Assert.Contains("dump complete", output);
        Assert.Equal("", error);
        Assert.True(KernelDumpHeader.TryParse(peer.Reassemble(MessageType.Kdh), out var kdh, out _));
        Assert.Equal(("web3", DumpCompression.Gzip), (kdh!.Hostname, kdh.Compression));
        Assert.Equal("fleet\0"u8.ToArray(), peer.Packets.Single(p => p.Header.Type == MessageType.Herald).Payload);
    }

    [Fact]
    public void Simulate_passes_the_release_and_encryption_through()
    {
        using var peer = new AckingPeer();

        var (exitCode, output, _) = Invoke(
            "--port", peer.ListenEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            "--size", "64K", "--encrypt", "--freebsd12", "--mtu", "9000", "--seed", "7");

        Assert.Equal(0, exitCode);
        Assert.Contains("key acked (4096 bytes)", output);
        Assert.Equal(4096u, peer.Packets.Where(p => p.Header.Type == MessageType.Vmcore).Max(p => p.Header.Length));
        Assert.Equal(MessageType.EkcdKey, peer.Packets.OrderBy(p => p.Header.Sequence).SkipLast(1).Last().Header.Type);
    }

    [Fact]
    public void Simulate_wraps_its_key_with_the_public_key_given_as_dumpon_k_does_with_the_cipher_asked_for()
    {
        using var peer = new AckingPeer();
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var pem = Path.Combine(Path.GetTempPath(), $"netdump-public-{Guid.NewGuid():N}.pem");
        File.WriteAllText(pem, rsa.ExportSubjectPublicKeyInfoPem());
        try
        {
            var (exitCode, output, _) = Invoke(
                "--port", peer.ListenEndPoint.Port.ToString(CultureInfo.InvariantCulture),
                "--size", "64K", "--encrypt", "--cipher", "chacha20", "--public-key", pem);

            Assert.Equal(0, exitCode);
            Assert.Contains("encrypted with chacha20", output);
            var key = peer.Reassemble(MessageType.EkcdKey);
            Assert.True(EncryptionKeyHeader.TryParse(key, out var head, out _));
            Assert.Equal(KeyEncryption.ChaCha20, head!.Encryption);
            var wrapped = key[EncryptionKeyHeader.HeadSize..(EncryptionKeyHeader.HeadSize + (int)head.EncryptedKeySize)];
            Assert.Equal(64, rsa.Decrypt(wrapped, System.Security.Cryptography.RSAEncryptionPadding.OaepSHA1).Length);
        }
        finally
        {
            File.Delete(pem);
        }
    }

    [Theory]
    [InlineData("--size", "12X")]
    [InlineData("--size", "-5")]
    [InlineData("--port", "70000")]
    [InlineData("--port", "http")]
    [InlineData("--server", "::1")]
    [InlineData("--server", "not-an-ip")]
    [InlineData("--server", "127.1")] // inet_aton's 127.0.0.1: a dotted quad or nothing
    [InlineData("--source", "1.2.3")]
    [InlineData("--mtu", "500")]
    [InlineData("--loss", "1.5")]
    [InlineData("--dup", "-0.1")]
    [InlineData("--reorder", "x")]
    [InlineData("--compress", "lz4")]
    [InlineData("--cipher", "rot13")]
    [InlineData("--public-key", "/nonexistent.pem")] // and without --encrypt
    [InlineData("--seed", "1e9")]
    public void Bad_values_give_one_line_and_exit_1(string option, string value)
    {
        var (exitCode, output, error) = Invoke(option, value);

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("netdump-server: simulate: ", line);
    }

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64K", 65536L)]
    [InlineData("64M", 64L << 20)]
    [InlineData("64m", 64L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("100B", 100L)]
    public void Sizes_accept_binary_suffixes(string text, long bytes)
    {
        Assert.True(SimulateCommand.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("1.5M")]
    [InlineData("-1")]
    [InlineData("99999999999999999999")]
    [InlineData("9999999999T")]
    public void Bad_sizes_are_refused(string text)
    {
        Assert.False(SimulateCommand.TryParseSize(text, out _));
    }
}
