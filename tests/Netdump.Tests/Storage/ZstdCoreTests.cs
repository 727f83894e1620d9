using System.Diagnostics;
using System.Security.Cryptography;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class ZstdCoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(3 * 1024 * 1024 + 17, 0)]
    [InlineData(9 * 1024 * 1024 + 5, 2)] // libzstd's worker threads
    public void A_compressed_core_reads_back_to_the_same_bytes_and_its_hashes_are_the_contents_and_the_files(int length, int workers)
    {
        var bytes = Compressible(length);
        var core = _temp.Combine("vmcore");
        File.WriteAllBytes(core, bytes);

        var written = ZstdCore.Compress(core, core + ".zst", workers, CancellationToken.None);

        var stored = File.ReadAllBytes(core + ".zst");
        Assert.Equal(stored.Length, written);
        Assert.True(length < 4096 || written < length * 3 / 4, $"{written} bytes for {length}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(core + ".zst"));
        var (content, file) = ZstdCore.HashThrough(core + ".zst", CancellationToken.None);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), content);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(stored)), file);
    }

    [Fact]
    public void The_zstd_tool_reads_what_it_writes()
    {
        var bytes = Compressible(2 * 1024 * 1024 + 3);
        var core = _temp.Combine("vmcore");
        File.WriteAllBytes(core, bytes);
        ZstdCore.Compress(core, core + ".zst", 2, CancellationToken.None);

        using var zstd = Process.Start(new ProcessStartInfo("zstd", ["-q", "-d", core + ".zst", "-o", _temp.Combine("out")]) { RedirectStandardError = true })!;
        zstd.WaitForExit();
        Assert.True(zstd.ExitCode == 0, zstd.StandardError.ReadToEnd());
        Assert.Equal(bytes, File.ReadAllBytes(_temp.Combine("out")));
    }

    [Fact]
    public void A_truncated_or_damaged_file_is_no_zstd_frame()
    {
        var core = _temp.Combine("vmcore");
        File.WriteAllBytes(core, Compressible(1024 * 1024));
        ZstdCore.Compress(core, core + ".zst", 0, CancellationToken.None);
        var stored = File.ReadAllBytes(core + ".zst");

        File.WriteAllBytes(_temp.Combine("short.zst"), stored[..^9]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => ZstdCore.HashThrough(_temp.Combine("short.zst"), CancellationToken.None)).Message);

        stored[stored.Length / 2] ^= 0xFF;
        File.WriteAllBytes(_temp.Combine("bad.zst"), stored);
        Assert.StartsWith("zstd decompression:", Assert.Throws<InvalidDataException>(() => ZstdCore.HashThrough(_temp.Combine("bad.zst"), CancellationToken.None)).Message);

        File.WriteAllBytes(_temp.Combine("empty.zst"), []);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => ZstdCore.HashThrough(_temp.Combine("empty.zst"), CancellationToken.None)).Message);
    }

    [Fact]
    public void An_existing_destination_is_never_overwritten_and_a_cancelled_compression_leaves_no_file()
    {
        var core = _temp.Combine("vmcore");
        File.WriteAllBytes(core, Compressible(4 * 1024 * 1024));
        File.WriteAllText(core + ".zst", "someone else's");
        Assert.Throws<IOException>(() => ZstdCore.Compress(core, core + ".zst", 0, CancellationToken.None));
        Assert.Equal("someone else's", File.ReadAllText(core + ".zst"));

        Assert.ThrowsAny<OperationCanceledException>(() => ZstdCore.Compress(core, _temp.Combine("x.zst"), 0, new CancellationToken(canceled: true)));
        Assert.False(File.Exists(_temp.Combine("x.zst")));
    }

    /// <summary>Half noise, half repeated text: compressible, and not trivially so.</summary>
    internal static byte[] Compressible(int length, int? seed = null)
    {
        var bytes = new byte[length];
        var random = new Random(seed ?? length);
        for (var page = 0; page < length; page += 4096)
        {
            var span = bytes.AsSpan(page, Math.Min(4096, length - page));
            if (page / 4096 % 2 == 0)
            {
                random.NextBytes(span);
            }
            else
            {
                for (var i = 0; i < span.Length; i++)
                {
                    span[i] = (byte)"kernel panic: page fault while in kernel mode\n"[i % 46];
                }
            }
        }

        return bytes;
    }
}
