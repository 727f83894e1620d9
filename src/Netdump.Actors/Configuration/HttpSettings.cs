using System.Net;
using Akka.Configuration;

namespace Netdump.Actors.Configuration;

/// <summary>
/// Where and how the HTTP API, <c>/metrics</c> and the dashboard are served (SPEC §9): the
/// <c>http</c> address and port, the bearer token file every request must then match
/// (<c>http_token_file</c>; required for an address other than loopback, since dumps are
/// kernel memory), and a PEM certificate and key (<c>http_cert</c>, <c>http_key</c>) for TLS.
/// </summary>
public sealed record HttpSettings(IPEndPoint Endpoint, string? TokenFile, string? CertificateFile, string? KeyFile)
{
    /// <summary>The value of <c>http</c> that starts nothing.</summary>
    public const string Off = "off";

    /// <summary>TLS is on when a certificate is configured.</summary>
    public bool Tls => CertificateFile is not null;

    /// <summary>The base URL a client uses (<c>http://127.0.0.1:20080</c>), for a given port (the bound one when <c>http</c> asked for port 0).</summary>
    public string Url(int port) =>
        $"{(Tls ? "https" : "http")}://{new IPEndPoint(Endpoint.Address, port)}";

    /// <summary>
    /// Reads the <c>http*</c> keys of the <c>netdump</c> block; null when <c>http = off</c>.
    /// Throws <see cref="ConfigurationException"/> naming the key and the problem.
    /// </summary>
    public static HttpSettings? Create(Config c)
    {
        var text = c.GetString(ConfigKeys.Http.Name, "").Trim();
        var tokenFile = Optional(c, ConfigKeys.HttpTokenFile);
        var certificate = Optional(c, ConfigKeys.HttpCert);
        var key = Optional(c, ConfigKeys.HttpKey);
        if (text.Length == 0 || text.Equals(Off, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (ParseEndpoint(text) is not { } endpoint)
        {
            throw ConfigKeys.Http.Invalid($"\"{text}\" is not an address and port such as 127.0.0.1:20080 (or off; an IPv4 address is {DottedQuad.Form})");
        }

        if (!IPAddress.IsLoopback(endpoint.Address) && tokenFile is null)
        {
            throw ConfigKeys.Http.Invalid(
                $"{text} is not a loopback address, and dumps are kernel memory: set http_token_file (every request must then carry its bearer token) or listen on 127.0.0.1");
        }

        if ((certificate is null) != (key is null))
        {
            throw new ConfigurationException($"{ConfigKeys.HttpCert.Name} and {ConfigKeys.HttpKey.Name} go together: set both (a PEM certificate and its PEM private key) or neither");
        }

        return new HttpSettings(endpoint, tokenFile, certificate, key);
    }

    /// <summary>
    /// <c>ADDR:PORT</c> with a <see cref="DottedQuad"/> address, or <c>[IPV6]:PORT</c>; null for
    /// anything else (<see cref="IPEndPoint.TryParse(string, out IPEndPoint?)"/> alone takes
    /// <c>127.1:20080</c> as 127.0.0.1, and an address without a port).
    /// </summary>
    private static IPEndPoint? ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var portText = colon <= 0 ? "" : text[(colon + 1)..];
        if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit)
            || int.Parse(portText, System.Globalization.CultureInfo.InvariantCulture) is not (>= 0 and <= 65535 and var port))
        {
            return null;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? new IPEndPoint(v6, port)
                : null;
        }

        return DottedQuad.TryParse(host, out var v4) ? new IPEndPoint(v4, port) : null;
    }

    private static string? Optional(Config c, ConfigKey key) =>
        c.GetString(key.Name, "") is { } value && !string.IsNullOrWhiteSpace(value) ? Path.GetFullPath(value) : null;
}

/// <summary>
/// Panic storms (SPEC §9): when <see cref="Hosts"/> distinct hosts join one panic group within
/// <see cref="Window"/>, one warning and <c>netdump-storm</c>.
/// </summary>
public sealed record StormSettings(int Hosts, TimeSpan Window)
{
    public static StormSettings Default { get; } = new(5, TimeSpan.FromMinutes(10));

    public static StormSettings Create(Config c)
    {
        var hosts = c.GetInt(ConfigKeys.StormHosts.Name, Default.Hosts);
        if (hosts < 2)
        {
            throw ConfigKeys.StormHosts.Invalid($"{hosts} must be at least 2 (a storm is several hosts)");
        }

        var window = c.GetTimeSpan(ConfigKeys.StormWindow.Name, Default.Window);
        if (window <= TimeSpan.Zero)
        {
            throw ConfigKeys.StormWindow.Invalid("must be positive");
        }

        return new StormSettings(hosts, window);
    }
}
