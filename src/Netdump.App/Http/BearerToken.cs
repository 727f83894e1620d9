using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;

namespace Netdump.App.Http;

/// <summary>
/// The bearer token of <c>http_token_file</c>: every request must carry
/// <c>Authorization: Bearer &lt;token&gt;</c>, compared in constant time, or is answered 401. The
/// file holds the token on its first line; it must be owned by the server's user or root and
/// not readable by others (like an ssh key), since the token opens every dump.
/// </summary>
public sealed class BearerToken
{
    private readonly byte[] _expected;

    private BearerToken(string token) => _expected = Encoding.UTF8.GetBytes(token);

    /// <summary>Reads the token; every problem is an <see cref="OperatorConfigException"/> with one line.</summary>
    public static BearerToken Load(string path)
    {
        string text;
        try
        {
            var untrusted = TrustedPath.Examine(path, out var entry)
                ?? (entry.IsRegularFile ? TrustedPath.WhyNotTrusted(entry) : "not a regular file");
            if (untrusted is not null)
            {
                throw new OperatorConfigException($"http_token_file {path} is not usable: {untrusted}");
            }

            if ((entry.Mode & (uint)UnixFileMode.OtherRead) != 0)
            {
                throw new OperatorConfigException($"http_token_file {path} is readable by others; chmod o-r it (the token opens every dump)");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperatorConfigException($"http_token_file {path} cannot be read: {e.Message}", e);
        }

        var token = text.Split('\n', 2)[0].Trim();
        if (token.Length < 16)
        {
            throw new OperatorConfigException($"http_token_file {path}: the token on its first line must be at least 16 characters (e.g. openssl rand -hex 32)");
        }

        return new BearerToken(token);
    }

    /// <summary>True when the request carries the token.</summary>
    public bool Admits(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, _expected);
    }
}
