using System.Buffers.Binary;

namespace Netdump.Actors.Protocol;

/// <summary>The EKCD cipher (<c>kdk_encryption</c>).</summary>
public enum KeyEncryption : byte
{
    Aes256Cbc = 1,
    ChaCha20 = 2,
}

/// <summary>
/// The head of FreeBSD's packed <c>struct kerneldumpkey</c>: cipher, 32-byte IV and the size of
/// the RSA-encrypted key that follows. The kernel pads the whole key to its block size.
/// </summary>
public sealed record EncryptionKeyHeader(KeyEncryption Encryption, byte[] InitializationVector, uint EncryptedKeySize)
{
    public const int IvLength = 32;
    public const int HeadSize = 1 + IvLength + 4;

    /// <summary>Parses the key's head; a short key, unknown cipher or a key size past the payload gives a reason.</summary>
    public static bool TryParse(ReadOnlySpan<byte> key, out EncryptionKeyHeader? header, out string? reason)
    {
        header = null;
        if (key.Length < HeadSize)
        {
            reason = $"encryption key of {key.Length} bytes, shorter than its {HeadSize}-byte head";
            return false;
        }

        var cipher = key[0];
        if (cipher is not ((byte)KeyEncryption.Aes256Cbc or (byte)KeyEncryption.ChaCha20))
        {
            reason = $"unknown key encryption {cipher}";
            return false;
        }

        var size = BinaryPrimitives.ReadUInt32BigEndian(key[(1 + IvLength)..]);
        if (size > key.Length - HeadSize)
        {
            reason = $"encrypted key size {size} exceeds the {key.Length - HeadSize} bytes sent";
            return false;
        }

        header = new EncryptionKeyHeader((KeyEncryption)cipher, key.Slice(1, IvLength).ToArray(), size);
        reason = null;
        return true;
    }

    /// <summary>Writes the head (cipher, IV, encrypted key size) into the first 37 bytes.</summary>
    public void WriteHead(Span<byte> destination)
    {
        destination[0] = (byte)Encryption;
        InitializationVector.AsSpan(0, IvLength).CopyTo(destination[1..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(1 + IvLength)..], EncryptedKeySize);
    }
}
