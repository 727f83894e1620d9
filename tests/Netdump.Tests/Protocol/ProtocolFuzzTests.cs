using System.Buffers.Binary;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class ProtocolFuzzTests
{
    private const int Cases = 20_000;
    private const int MaxLength = 600;

    /// <summary>
    /// Random bytes, some of them nudged past the first checks (a valid magic and version,
    /// a matching len, a known cipher, a trailing NUL) so the deeper parsing is reached too.
    /// </summary>
    private static byte[] RandomInput(Random random)
    {
        var bytes = new byte[random.Next(MaxLength + 1)];
        random.NextBytes(bytes);
        switch (random.Next(5))
        {
            case 0 when bytes.Length >= 36:
                "FreeBSD Kernel Dump\0"u8.CopyTo(bytes);
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(32), KernelDumpHeader.SupportedVersion);
                if (bytes.Length > 495)
                {
                    bytes[495] = (byte)random.Next(4);
                }

                break;
            case 1 when bytes.Length >= MessageHeader.Size:
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), (uint)(bytes.Length - MessageHeader.Size));
                BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)random.Next(7));
                break;
            case 2 when bytes.Length >= EncryptionKeyHeader.HeadSize:
                bytes[0] = (byte)random.Next(1, 3);
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(33), (uint)random.Next(bytes.Length));
                break;
            case 3 when bytes.Length > 0:
                bytes[^1] = 0;
                break;
        }

        return bytes;
    }

    [Fact]
    public void Random_bytes_never_make_any_decoder_throw()
    {
        var random = new Random(20023);
        var parsedHeaders = 0;
        var parsedKdhs = 0;
        var parsedKeys = 0;

        for (var i = 0; i < Cases; i++)
        {
            var input = RandomInput(random);
            var thrown = Record.Exception(() =>
            {
                if (MessageHeader.TryRead(input, out var header) == HeaderError.None)
                {
                    parsedHeaders++;
                    _ = header.End;
                }

                if (KernelDumpHeader.TryParse(input, out var kdh, out _))
                {
                    parsedKdhs++;
                    _ = kdh!.DumpTimeUtc;
                }

                if (EncryptionKeyHeader.TryParse(input, out _, out _))
                {
                    parsedKeys++;
                }

                _ = HeraldPayload.TryReadPath(input, out _, out _);
                _ = Ack.TryRead(input, out _);
            });

            Assert.True(thrown is null, $"case {i} ({input.Length} bytes {Convert.ToHexString(input)}) threw {thrown}");
        }

        // The nudges must actually reach the success paths, or the test proves little.
        Assert.True(parsedHeaders > 0);
        Assert.True(parsedKdhs > 0);
        Assert.True(parsedKeys > 0);
    }
}
