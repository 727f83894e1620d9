using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Netdump.Actors.Configuration;

/// <summary>
/// The one reader of an IPv4 address an operator wrote (an option, a netdump.conf or hocon key):
/// four decimal numbers 0-255 joined by dots, <c>192.0.2.10</c>, and nothing else.
/// <see cref="IPAddress.Parse(string)"/> also takes inet_aton's forms, in which a typo names
/// another address without a word: <c>1.2.3</c> is 1.2.0.3, <c>127.1</c> is 127.0.0.1,
/// <c>010.0.0.1</c> is 8.0.0.1 (octal), <c>0x7f.1</c> and a bare 32-bit number too. A part with
/// a leading zero is refused for the same reason (octal to inet_aton, decimal to a reader).
/// </summary>
public static class DottedQuad
{
    /// <summary>What a valid address looks like, for the error that refuses one.</summary>
    public const string Form = "four numbers 0-255 with dots, such as 192.0.2.10";

    /// <summary>The address <paramref name="text"/> names when it is a dotted quad; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        Span<byte> bytes = stackalloc byte[4];
        var part = 0;
        foreach (var range in text.Split('.'))
        {
            var digits = text[range];
            if (part == 4 || digits.Length is 0 or > 3 || (digits.Length > 1 && digits[0] == '0')
                || !digits.ContainsOnlyDigits()
                || !byte.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[part]))
            {
                return false;
            }

            part++;
        }

        if (part != 4)
        {
            return false;
        }

        address = new IPAddress(bytes);
        return true;
    }

    /// <summary>
    /// Whether a host name (a seed, a URL's host) is one the resolver would take as an IPv4
    /// address in one of inet_aton's forms: written so, it must be a dotted quad.
    /// </summary>
    public static bool IsLooseAddress(string host) =>
        IPAddress.TryParse(host, out var parsed) && parsed.AddressFamily == AddressFamily.InterNetwork && !TryParse(host, out _);

    private static bool ContainsOnlyDigits(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
