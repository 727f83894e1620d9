using System.Security.Cryptography;
using Netdump.Actors.Protocol;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Netdump.Actors.Storage;

/// <summary>
/// FreeBSD's encrypted kernel dumps (EKCD), as the kernel encrypts them and <c>decryptcore</c>
/// decrypts them: a 64-byte symmetric key (KERNELDUMP_KEY_MAX_SIZE) wrapped with the RSA public
/// key of <c>dumpon -k</c>, and the dump one cipher stream from its first byte to its last.
/// AES-256-CBC (the first 32 key bytes, IV the first 16 of <c>kdk_iv</c>) runs on .NET's own
/// AES; ChaCha20 (the first 32 key bytes, DJB's 64-bit nonce <c>kdk_iv[0..8]</c> and block
/// counter from 0, which decryptcore gives OpenSSL as 8 zero bytes and the nonce) on
/// BouncyCastle's <see cref="ChaChaEngine"/>, since .NET has ChaCha20 only inside the IETF AEAD.
/// </summary>
public sealed class EkcdCipher : IDisposable
{
    /// <summary>The symmetric key's size: decryptcore insists on exactly this many bytes out of RSA.</summary>
    public const int SymmetricKeySize = 64;

    private const int AesBlock = 16;

    private readonly Aes? _aes;
    private readonly ChaChaEngine? _chacha;
    private readonly bool _encrypt;
    private readonly byte[] _chain = new byte[AesBlock];

    private EkcdCipher(KeyEncryption cipher, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, bool encrypt)
    {
        _encrypt = encrypt;
        if (cipher == KeyEncryption.Aes256Cbc)
        {
            _aes = Aes.Create();
            _aes.Key = key[..32].ToArray();
            iv[..AesBlock].CopyTo(_chain);
        }
        else
        {
            _chacha = new ChaChaEngine(20);
            _chacha.Init(encrypt, new ParametersWithIV(new KeyParameter(key[..32].ToArray()), iv[..8].ToArray()));
        }
    }

    /// <summary>A stream must be fed in multiples of this (AES's block; ChaCha20 takes any length).</summary>
    public int BlockSize => _aes is null ? 1 : AesBlock;

    /// <summary>The cipher of a dump, from its 64-byte symmetric key and its 32-byte <c>kdk_iv</c>.</summary>
    public static EkcdCipher Create(KeyEncryption cipher, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, bool encrypt) =>
        key.Length < 32 || iv.Length < EncryptionKeyHeader.IvLength
            ? throw new ArgumentException("a 32-byte key and a 32-byte IV at least")
            : new EkcdCipher(cipher, key, iv, encrypt);

    /// <summary>
    /// The 64-byte symmetric key inside <paramref name="wrapped"/>: RSA-OAEP first, then PKCS#1
    /// v1.5, which FreeBSD used before (decryptcore tries them in that order); null with why when
    /// neither gives 64 bytes, which is what a private key that does not match looks like.
    /// </summary>
    public static byte[]? Unwrap(RSA privateKey, byte[] wrapped, out string? why)
    {
        foreach (var padding in new[] { RSAEncryptionPadding.OaepSHA1, RSAEncryptionPadding.Pkcs1 })
        {
            try
            {
                var key = privateKey.Decrypt(wrapped, padding);
                if (key.Length == SymmetricKeySize)
                {
                    why = null;
                    return key;
                }
            }
            catch (CryptographicException)
            {
                // the next padding, as decryptcore does
            }
        }

        why = "the private key does not open the dump's key (neither RSA-OAEP nor PKCS#1 v1.5 gives a 64-byte key): it is not the key whose public half this client's dumpon -k used";
        return null;
    }

    /// <summary>The next bytes of the stream, in place; a length the block size divides.</summary>
    public void Transform(Span<byte> data)
    {
        if (_chacha is not null)
        {
            _chacha.ProcessBytes(data, data);
            return;
        }

        if (data.Length % AesBlock != 0)
        {
            throw new ArgumentException($"AES-CBC takes whole {AesBlock}-byte blocks");
        }

        if (data.IsEmpty)
        {
            return;
        }

        if (_encrypt)
        {
            _aes!.EncryptCbc(data, _chain, data, PaddingMode.None);
            data[^AesBlock..].CopyTo(_chain);
        }
        else
        {
            Span<byte> next = stackalloc byte[AesBlock];
            data[^AesBlock..].CopyTo(next); // the last ciphertext block chains into the next call
            _aes!.DecryptCbc(data, _chain, data, PaddingMode.None);
            next.CopyTo(_chain);
        }
    }

    public void Dispose() => _aes?.Dispose();
}
