using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

/// <summary>What the simulated client's dump contains: compressed, encrypted, padded as the kernel does it.</summary>
public sealed class SimulatedDumpContentTests
{
    private static SimulationOptions Options(AckingPeer peer, long size) => new()
    {
        Server = peer.ListenEndPoint,
        Size = size,
        ResendAfter = TimeSpan.FromMilliseconds(500),
    };

    private static async Task<SimulationResult> Run(SimulatedClient client) =>
        await client.RunAsync().WaitAsync(TimeSpan.FromSeconds(10));

    private static byte[] Gunzip(ReadOnlySpan<byte> data)
    {
        using var input = new GZipStream(new MemoryStream(data.ToArray()), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>decryptcore's steps: parse the key, RSA-decrypt the 64-byte key, AES-256-CBC the whole core.</summary>
    private static byte[] Decrypt(SimulatedClient client, byte[] key, byte[] encrypted)
    {
        Assert.True(EncryptionKeyHeader.TryParse(key, out var head, out var reason), reason);
        Assert.Equal(KeyEncryption.Aes256Cbc, head!.Encryption);
        Assert.Equal(256u, head.EncryptedKeySize);
        var wrapped = key.AsSpan(EncryptionKeyHeader.HeadSize, (int)head.EncryptedKeySize).ToArray();
        var symmetric = client.Image.Rsa!.Decrypt(wrapped, RSAEncryptionPadding.OaepSHA1);
        Assert.Equal(64, symmetric.Length);
        using var aes = Aes.Create();
        aes.Key = symmetric[..32];
        return aes.DecryptCbc(encrypted, head.InitializationVector.AsSpan(0, 16), PaddingMode.None);
    }

    [Fact]
    public void Memory_is_deterministic_from_the_seed_and_stamped_per_page()
    {
        var a = new SimulatedClient(new SimulationOptions { Size = 1 << 20, Seed = 3 });
        var b = new SimulatedClient(new SimulationOptions { Size = 1 << 20, Seed = 3 });
        var c = new SimulatedClient(new SimulationOptions { Size = 1 << 20, Seed = 4 });

        Assert.True(a.Core.Span.SequenceEqual(b.Core.Span));
        Assert.False(a.Core.Span.SequenceEqual(c.Core.Span));
        var core = a.Core.Span;
        for (var page = 0; page < core.Length; page += 4096)
        {
            Assert.Equal(0x4E44534Du, BinaryPrimitives.ReadUInt32BigEndian(core[page..]));
            Assert.Equal(page, BinaryPrimitives.ReadInt64BigEndian(core[(page + 8)..]));
        }
    }

    [Fact]
    public void Memory_can_be_read_from_any_offset()
    {
        var memory = SimulatedMemory.Generate(5, 20_000);
        var piece = new byte[7_000];

        MemoryPattern.Fill(5, 3_333, piece);

        Assert.Equal(memory.AsSpan(3_333, 7_000).ToArray(), piece);
    }

    [Fact]
    public async Task Gzip_core_is_the_exact_stream_and_decompresses_to_the_memory()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 1 << 20) with { Compress = DumpCompression.Gzip });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var memory = SimulatedMemory.Of(client);
        Assert.Equal(memory, Gunzip(client.Core.Span));
        Assert.True(client.Core.Length < memory.Length * 3 / 4, $"gzip kept {client.Core.Length} of {memory.Length} bytes");
        Assert.Equal((ulong)client.Core.Length, client.Header.DumpLength);
        Assert.Equal(client.Header.DumpLength, client.Header.DumpExtent);
        Assert.Equal(DumpCompression.Gzip, client.Header.Compression);

        // Sent: the stream padded with zeros to the 4096-byte block.
        var sent = peer.Reassemble(MessageType.Vmcore);
        Assert.Equal(0, sent.Length % 4096);
        Assert.InRange(sent.Length - client.Core.Length, 0, 4095);
        Assert.Equal(client.Core.ToArray(), sent[..client.Core.Length]);
        Assert.All(sent[client.Core.Length..], b => Assert.Equal(0, b));
        Assert.True(KernelDumpHeader.TryParse(peer.Reassemble(MessageType.Kdh), out var kdh, out _));
        Assert.Equal((ulong)client.Core.Length, kdh!.DumpLength);
    }

    [Fact]
    public async Task Zstd_core_is_a_valid_frame_of_raw_blocks_holding_the_memory()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 300_000) with { Compress = DumpCompression.Zstd });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var content = ZstdTestReader.Decode(client.Core.Span, out var blocks);
        Assert.Equal(SimulatedMemory.Of(client), content);
        Assert.Equal(3, blocks);
        Assert.Equal((ulong)client.Core.Length, client.Header.DumpLength);
        var sent = peer.Reassemble(MessageType.Vmcore);
        Assert.Equal(0, sent.Length % 4096);
        Assert.Equal(client.Core.ToArray(), sent[..client.Core.Length]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(131072)]
    [InlineData(131073)]
    public void Zstd_frame_blocks_split_at_128_KiB(int size)
    {
        var client = new SimulatedClient(new SimulationOptions { Size = size, Compress = DumpCompression.Zstd });

        var content = ZstdTestReader.Decode(client.Core.Span, out var blocks);

        Assert.Equal(size, content.Length);
        Assert.Equal(Math.Max(1, (size + 131071) / 131072), blocks);
    }

    [Fact]
    public async Task Encrypted_core_decrypts_with_the_clients_private_key()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 250_000) with { Encrypt = true });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var key = peer.Reassemble(MessageType.EkcdKey);
        Assert.Equal(4096, key.Length);
        Assert.Equal(client.Key.ToArray(), key);
        Assert.Equal(4096u, client.Header.DumpKeySize);

        // The memory is padded to the 4096-byte block before encryption; dumplength covers it.
        var sent = peer.Reassemble(MessageType.Vmcore);
        Assert.Equal(253_952, sent.Length);
        Assert.Equal(client.Core.ToArray(), sent);
        Assert.Equal((ulong)sent.Length, client.Header.DumpLength);
        var memory = SimulatedMemory.Of(client);
        Assert.False(sent.AsSpan(0, 4096).SequenceEqual(memory.AsSpan(0, 4096)));
        var plain = Decrypt(client, key, sent);
        Assert.Equal(memory, plain[..memory.Length]);
        Assert.All(plain[memory.Length..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(DumpCompression.Gzip)]
    [InlineData(DumpCompression.Zstd)]
    public async Task Compressed_and_encrypted_core_decrypts_then_decompresses(DumpCompression compression)
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 200_000) with { Encrypt = true, Compress = compression });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var sent = peer.Reassemble(MessageType.Vmcore);
        Assert.Equal(0, sent.Length % 4096);
        var length = (int)client.Header.DumpLength;
        Assert.Equal(client.Core.ToArray(), sent[..length]);

        var compressed = Decrypt(client, peer.Reassemble(MessageType.EkcdKey), sent)[..length];
        var memory = compression == DumpCompression.Gzip ? Gunzip(compressed) : ZstdTestReader.Decode(compressed, out _);
        Assert.Equal(SimulatedMemory.Of(client), memory);
    }

    [Fact]
    public void Key_is_the_padded_kerneldumpkey()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 4096, Encrypt = true });

        var key = client.Key.ToArray();

        Assert.Equal(4096, key.Length);
        Assert.True(EncryptionKeyHeader.TryParse(key, out var head, out _));
        Assert.Equal(client.Image.Iv, head!.InitializationVector);
        Assert.All(key[(EncryptionKeyHeader.HeadSize + 256)..], b => Assert.Equal(0, b));
        Assert.Empty(new SimulatedClient(new SimulationOptions { Size = 4096 }).Key.ToArray());
    }

    [Fact]
    public void FreeBsd12_header_names_its_release()
    {
        var client = new SimulatedClient(new SimulationOptions { Size = 4096, FreeBsd12 = true });

        Assert.Equal("FreeBSD 12.4-RELEASE simulated", client.Header.VersionString);
        Assert.True(client.Header.ParityOk);
    }
}
