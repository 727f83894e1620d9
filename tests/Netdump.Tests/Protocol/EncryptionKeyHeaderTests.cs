using System.Buffers.Binary;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class EncryptionKeyHeaderTests
{
    private const string IvHex = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";

    // struct kerneldumpkey, packed: kdk_encryption u8, kdk_iv[32], kdk_encryptedkeysize u32 BE.
    private const string AesHeadHex =
        "01" + // AES-256-CBC
        IvHex + // IV
        "00000100"; // 256-byte RSA-encrypted key

    /// <summary>The key as the kernel sends it: head, encrypted key, zero padding to the 4096-byte block.</summary>
    private static byte[] PaddedKey(string headHex, int keyBytes)
    {
        var key = new byte[4096];
        Convert.FromHexString(headHex).CopyTo(key, 0);
        for (var i = 0; i < keyBytes; i++)
        {
            key[EncryptionKeyHeader.HeadSize + i] = (byte)(0xC0 ^ i);
        }

        return key;
    }

    private static (bool Ok, EncryptionKeyHeader? Header, string? Reason) Parse(byte[] key)
    {
        EncryptionKeyHeader? header = null;
        string? reason = null;
        var ok = false;
        var thrown = Record.Exception(() => ok = EncryptionKeyHeader.TryParse(key, out header, out reason));
        Assert.Null(thrown);
        Assert.True(ok ? header is not null && reason is null : header is null && !string.IsNullOrWhiteSpace(reason));
        return (ok, header, reason);
    }

    [Fact]
    public void Head_is_37_bytes()
    {
        Assert.Equal(32, EncryptionKeyHeader.IvLength);
        Assert.Equal(37, EncryptionKeyHeader.HeadSize);
    }

    [Fact]
    public void Literal_aes_key_padded_to_4096_bytes_is_parsed()
    {
        var (ok, header, reason) = Parse(PaddedKey(AesHeadHex, 256));

        Assert.True(ok, reason);
        Assert.Equal(KeyEncryption.Aes256Cbc, header!.Encryption);
        Assert.Equal(IvHex, Convert.ToHexString(header.InitializationVector));
        Assert.Equal(256u, header.EncryptedKeySize);
    }

    [Fact]
    public void Literal_chacha20_key_is_parsed()
    {
        var key = PaddedKey("02" + IvHex + "00000200", 512);

        var (ok, header, _) = Parse(key);

        Assert.True(ok);
        Assert.Equal(KeyEncryption.ChaCha20, header!.Encryption);
        Assert.Equal(512u, header.EncryptedKeySize);
    }

    [Fact]
    public void Key_size_is_read_big_endian()
    {
        var key = PaddedKey("01" + IvHex + "00000F00", 0x0F00);

        Assert.Equal(0x0F00u, Parse(key).Header!.EncryptedKeySize);
    }

    [Fact]
    public void Key_without_padding_whose_size_fills_the_rest_is_accepted()
    {
        var key = PaddedKey(AesHeadHex, 256)[..(37 + 256)];

        var (ok, header, _) = Parse(key);

        Assert.True(ok);
        Assert.Equal(256u, header!.EncryptedKeySize);
    }

    [Fact]
    public void Parsed_iv_is_a_copy_of_the_received_bytes()
    {
        var key = PaddedKey(AesHeadHex, 256);
        var (_, header, _) = Parse(key);

        key.AsSpan(1, 32).Clear();

        Assert.Equal(IvHex, Convert.ToHexString(header!.InitializationVector));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(36)]
    public void Key_shorter_than_its_head_gives_a_reason(int size)
    {
        var (ok, header, reason) = Parse(PaddedKey(AesHeadHex, 256)[..size]);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("37", reason);
    }

    [Theory]
    [InlineData("00")]
    [InlineData("03")]
    [InlineData("FF")]
    public void Key_with_an_unknown_cipher_gives_a_reason(string cipherHex)
    {
        var (ok, header, reason) = Parse(PaddedKey(cipherHex + IvHex + "00000100", 256));

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("encryption", reason);
        Assert.Contains(Convert.FromHexString(cipherHex)[0].ToString(), reason);
    }

    [Fact]
    public void Key_size_one_more_than_the_bytes_sent_gives_a_reason()
    {
        var key = PaddedKey(AesHeadHex, 256)[..(37 + 255)];

        var (ok, header, reason) = Parse(key);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("256", reason);
        Assert.Contains("255", reason);
    }

    [Theory]
    [InlineData("00001000")] // 4096: one whole block, but only 4096 - 37 bytes follow the head
    [InlineData("7FFFFFFF")]
    [InlineData("80000000")] // negative as a signed int
    [InlineData("FFFFFFFF")]
    public void Key_size_larger_than_what_was_sent_gives_a_reason(string sizeHex)
    {
        var (ok, header, reason) = Parse(PaddedKey("01" + IvHex + sizeHex, 0));

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("exceeds", reason);
    }

    [Fact]
    public void Head_is_written_byte_by_byte()
    {
        var iv = Convert.FromHexString(IvHex);
        var buffer = new byte[40];
        buffer.AsSpan().Fill(0xEE);

        new EncryptionKeyHeader(KeyEncryption.Aes256Cbc, iv, 256).WriteHead(buffer);

        Assert.Equal(AesHeadHex + "EEEEEE", Convert.ToHexString(buffer));
    }

    [Theory]
    [InlineData(KeyEncryption.Aes256Cbc, 256u)]
    [InlineData(KeyEncryption.ChaCha20, 512u)]
    [InlineData(KeyEncryption.Aes256Cbc, 0x00000F00u)]
    public void Written_head_parses_back_equal(KeyEncryption encryption, uint size)
    {
        var iv = Enumerable.Range(0, 32).Select(i => (byte)(0xFF - i)).ToArray();
        var written = new EncryptionKeyHeader(encryption, iv, size);
        var key = new byte[4096];
        written.WriteHead(key);

        var (ok, read, reason) = Parse(key);

        Assert.True(ok, reason);
        Assert.Equal(written.Encryption, read!.Encryption);
        Assert.Equal(written.InitializationVector, read.InitializationVector);
        Assert.Equal(written.EncryptedKeySize, read.EncryptedKeySize);
        Assert.Equal(size, BinaryPrimitives.ReadUInt32BigEndian(key.AsSpan(33)));
    }
}
