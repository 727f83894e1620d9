using System.Buffers.Binary;
using Netdump.Actors.Protocol;
using SharpFuzz;

// Coverage-guided fuzzing of the pure codec (fuzz/README.md says how to run it):
//   Netdump.Fuzz                  AFL: one input per run, through SharpFuzz's out-of-process loop
//   Netdump.Fuzz --libfuzzer      libFuzzer, through libfuzzer-dotnet
//   Netdump.Fuzz --seeds DIR      writes one valid datagram of each message type into DIR
//   Netdump.Fuzz --replay FILE... decodes the given inputs once: reproduces a crash without a fuzzer
switch (args)
{
    case []:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Codec.Decode(copy.ToArray());
        });
        return 0;
    case ["--libfuzzer"]:
        Fuzzer.LibFuzzer.Run(Codec.Decode);
        return 0;
    case ["--seeds", var directory]:
        Seeds.Write(directory);
        return 0;
    case ["--replay", .. var files] when files.Length > 0:
        foreach (var file in files)
        {
            Codec.Decode(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: decoded");
        }

        return 0;
    default:
        Console.Error.WriteLine("usage: Netdump.Fuzz [--libfuzzer | --seeds DIR | --replay FILE...]");
        return 2;
}

/// <summary>
/// One datagram through every decoder, as the server reads it: the header, then the payload by
/// the type the header names. An exception is a finding; so is an answer that contradicts the
/// bytes (thrown as <see cref="InvalidOperationException"/>, which the fuzzer reports as a crash).
/// </summary>
internal static class Codec
{
    public static void Decode(ReadOnlySpan<byte> datagram)
    {
        var error = MessageHeader.TryRead(datagram, out var header);
        Ack.TryRead(datagram, out _);
        if (error == HeaderError.TooShort)
        {
            Check(datagram.Length < MessageHeader.Size, "TooShort for a datagram holding a header");
            return;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(datagram[16..]);
        Check((error == HeaderError.LengthMismatch) == ((ulong)datagram.Length != MessageHeader.Size + (ulong)length), "length check");
        Check(error != HeaderError.None || (uint)header.Type is >= 1 and <= 5, "None for an unknown type");
        Check(header.End is null == header.Offset > ulong.MaxValue - header.Length, "End overflow");

        var payload = datagram[MessageHeader.Size..];
        switch (header.Type)
        {
            case MessageType.Herald:
                var pathOk = HeraldPayload.TryReadPath(payload, out var path, out var why);
                Check(pathOk == (why is null), "HERALD path: success and reason disagree");
                Check(!pathOk || !path.Any(char.IsControl), "HERALD path with a control character accepted");
                break;
            case MessageType.Kdh:
                if (KernelDumpHeader.TryParse(payload, out var kdh, out var kdhWhy))
                {
                    Check(kdhWhy is null && kdh is not null, "KDH accepted with a reason or without a header");
                    Check(kdh!.Version == KernelDumpHeader.SupportedVersion, "KDH accepted with a bad version");
                    Check(kdh.Magic is KernelDumpHeader.KernelDumpMagic or KernelDumpHeader.TextDumpMagic, "KDH accepted with a bad magic");
                    Check(kdh.ParityOk == (KernelDumpHeader.ComputeParity(payload[..KernelDumpHeader.Size]) == 0), "KDH parity");
                    _ = kdh.DumpTimeUtc;
                }
                else
                {
                    Check(kdh is null && kdhWhy is not null, "KDH refused without a reason");
                }

                break;
            case MessageType.EkcdKey:
                if (EncryptionKeyHeader.TryParse(payload, out var key, out var keyWhy))
                {
                    Check(keyWhy is null && key is not null, "key accepted with a reason or without a header");
                    Check(key!.EncryptedKeySize <= payload.Length - EncryptionKeyHeader.HeadSize, "key size past the payload");
                }
                else
                {
                    Check(key is null && keyWhy is not null, "key refused without a reason");
                }

                break;
        }
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }
}

/// <summary>A starting corpus: one valid datagram of each message type, as a FreeBSD client sends it.</summary>
internal static class Seeds
{
    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var kdh = new byte[KernelDumpHeader.Size];
        new KernelDumpHeader(KernelDumpHeader.KernelDumpMagic, "amd64", KernelDumpHeader.SupportedVersion, 1, 1 << 20,
            1_700_000_000, 0, 512, "web7", "FreeBSD 14.1-RELEASE", "page fault", DumpCompression.None, 1 << 20, 0).Write(kdh);
        var key = new byte[4096];
        key[0] = (byte)KeyEncryption.Aes256Cbc;
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(1 + EncryptionKeyHeader.IvLength), 256);

        Save(directory, "herald", MessageType.Herald, 1, 0, HeraldPayload.Encode("crash/web7"));
        Save(directory, "herald-empty", MessageType.Herald, 1, 0, []);
        Save(directory, "vmcore", MessageType.Vmcore, 2, 0, new byte[1448]);
        Save(directory, "kdh", MessageType.Kdh, 3, 0, kdh);
        Save(directory, "ekcd-key", MessageType.EkcdKey, 4, 0, key);
        Save(directory, "finished", MessageType.Finished, 5, 0, []);
    }

    private static void Save(string directory, string name, MessageType type, uint sequence, ulong offset, byte[] payload)
    {
        var datagram = new byte[MessageHeader.Size + payload.Length];
        new MessageHeader(type, sequence, offset, (uint)payload.Length, 0).Write(datagram);
        payload.CopyTo(datagram, MessageHeader.Size);
        File.WriteAllBytes(Path.Combine(directory, name), datagram);
    }
}
