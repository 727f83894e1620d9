using System.Security.Cryptography;

namespace Netdump.Actors.Configuration;

/// <summary>
/// The RSA private key of <c>decrypt_key</c>: whoever holds it reads every encrypted dump, so
/// the server takes it only from a file nobody else could have written or can read, as
/// <see cref="TrustedPath"/> judges the other files it takes orders from, and only when it is a
/// usable RSA private key. Checked at start (a problem stops the start with one line) and loaded
/// again by the actor that decrypts.
/// </summary>
public static class DecryptKey
{
    private const uint GroupOrOthers = 0x3F; // S_IRWXG | S_IRWXO

    /// <summary>
    /// The key in <paramref name="path"/>, or null with <paramref name="why"/>: a one-line reason
    /// that names the key and the remedy (<c>chmod 0400</c>, <c>chown</c>, a PEM that is an RSA
    /// private key, not encrypted with a passphrase).
    /// </summary>
    public static RSA? Load(string path, out string? why)
    {
        if (TrustedPath.Examine(path, out var entry) is { } problem)
        {
            why = $"decrypt_key {path}: {problem}";
            return null;
        }

        if (!entry.IsRegularFile)
        {
            why = $"decrypt_key {path} is not a regular file";
            return null;
        }

        if (TrustedPath.WhyNotTrusted(entry) is { } untrusted)
        {
            why = $"decrypt_key {path} is not trusted: {untrusted}";
            return null;
        }

        if ((entry.Mode & GroupOrOthers) != 0)
        {
            why = $"decrypt_key {path} may be read by others (mode {Convert.ToString(entry.Mode & 0xFFF, 8).PadLeft(4, '0')}): the key to every encrypted dump must be readable by the server's user alone (chmod 0400)";
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"decrypt_key {path} cannot be read: {e.Message}";
            return null;
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(text);
            _ = rsa.ExportParameters(includePrivateParameters: true); // a public key imports too, and cannot decrypt
            why = null;
            return rsa;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            why = $"decrypt_key {path} is not an unencrypted RSA private key in PEM (as openssl genrsa writes it): {e.Message.ReplaceLineEndings(" ")}";
            return null;
        }
    }
}
