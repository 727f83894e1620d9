using System.Security.Cryptography;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class CoreChecksumTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1024 * 1024)] // one whole chunk
    [InlineData(3 * 1024 * 1024 + 17)] // chunks and a tail
    public void The_checksum_is_the_files_sha256_in_lowercase_hex(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        var path = _temp.Combine("vmcore");
        File.WriteAllBytes(path, bytes);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), CoreChecksum.Compute(path, CancellationToken.None));
    }

    [Fact]
    public void A_hash_up_to_a_size_gives_the_length_it_read_and_nothing_for_a_larger_file()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        var path = _temp.Combine("vmcore");
        File.WriteAllBytes(path, bytes);

        Assert.Equal(new CoreHash(Convert.ToHexStringLower(SHA256.HashData(bytes)), 4096), CoreChecksum.Hash(path, maxBytes: 4096, CancellationToken.None));
        Assert.Null(CoreChecksum.Hash(path, maxBytes: 4095, CancellationToken.None));
    }

    [Fact]
    public void The_empty_file_has_the_well_known_digest()
    {
        var path = _temp.Combine("vmcore");
        File.WriteAllBytes(path, []);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", CoreChecksum.Compute(path, CancellationToken.None));
    }

    [Fact]
    public void A_sparse_cores_holes_hash_as_zeros()
    {
        var path = _temp.Combine("vmcore");
        using (var file = File.Create(path))
        {
            file.SetLength(2 * 1024 * 1024);
            file.Position = 1024 * 1024 + 5;
            file.WriteByte(7);
        }

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), CoreChecksum.Compute(path, CancellationToken.None));
    }

    [Fact]
    public void A_cancelled_hash_stops()
    {
        var path = _temp.Combine("vmcore");
        File.WriteAllBytes(path, new byte[16]);
        Assert.Throws<OperationCanceledException>(() => CoreChecksum.Compute(path, new CancellationToken(canceled: true)));
    }

    [Fact]
    public void A_missing_core_is_an_io_error()
    {
        Assert.ThrowsAny<IOException>(() => CoreChecksum.Compute(_temp.Combine("vmcore"), CancellationToken.None));
    }

    public void Dispose() => _temp.Dispose();
}
