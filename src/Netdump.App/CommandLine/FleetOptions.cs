using System.CommandLine;
using System.Net;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>
/// The options the fleet commands (<c>list</c>, <c>show</c>, <c>status</c>, <c>groups</c>)
/// share, and what they resolve to: the server to ask (<c>--server</c>, else the conf's
/// <c>http</c>), its bearer token (the conf's <c>http_token_file</c>), and for <c>list</c> and
/// <c>show</c> the dump directory to read when no server answers (<c>--offline</c>,
/// <c>--dumpdir</c>, else the conf's <c>dumpdir</c>).
/// </summary>
public sealed class FleetOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        HelpName = "URL",
        Description = "the running server's HTTP address (default: from the conf's http key, e.g. http://127.0.0.1:20080)",
    };

    public Option<string?> Config { get; } = new(ServerOptions.ConfigOption)
    {
        HelpName = "PATH",
        Description = $"the key=value settings file (default {OperatorConfig.DefaultConfigPath}; may be missing)",
    };

    public Option<bool> Json { get; } = new("--json") { Description = "print the API's JSON instead of a table (for scripts)" };

    public Option<bool> Offline { get; } = new("--offline") { Description = "read the dump directory's dump.json files; ask no server" };

    public Option<string?> DumpDir { get; } = new(ServerOptions.OptionOf(ConfigKeys.DumpDir))
    {
        HelpName = "PATH",
        Description = "the dump directory read without a server (default: dumpdir of the settings)",
    };

    /// <summary>Adds the options; <paramref name="disk"/> adds <c>--offline</c> and <c>--dumpdir</c> (list, show).</summary>
    public void AddTo(Command command, bool disk)
    {
        command.Options.Add(Server);
        command.Options.Add(Config);
        command.Options.Add(Json);
        if (disk)
        {
            command.Options.Add(Offline);
            command.Options.Add(DumpDir);
            command.Validators.Add(result =>
            {
                if (result.GetValue(Offline) && result.GetValue(Server) is not null)
                {
                    result.AddError("--offline and --server exclude each other");
                }
            });
        }
    }

    /// <summary>
    /// Where to ask and where to read, from the command line and the settings; throws
    /// <see cref="OperatorConfigException"/> (one line) for a bad conf file or URL.
    /// </summary>
    public FleetTarget Resolve(ParseResult parse)
    {
        var configPath = parse.GetValue(Config);
        var dumpDir = parse.GetValue(DumpDir);
        var loaded = OperatorConfig.Load(
            new Dictionary<string, object?>(StringComparer.Ordinal) { [ConfigKeys.DumpDir.Name] = dumpDir },
            configPath ?? OperatorConfig.DefaultConfigPath, explicitPath: configPath is not null, ServerOptions.OptionOfKey);
        var settings = loaded.Settings;
        var offline = parse.GetValue(Offline);
        if (parse.GetValue(Server) is { } explicitUrl)
        {
            return new FleetTarget(ParseUrl(explicitUrl), Explicit: true, settings.Http?.TokenFile, Pinned: null, settings.DumpDirectory);
        }

        if (offline || settings.Http is not { } http)
        {
            // http = off: no server to ask, whatever runs
            return new FleetTarget(null, Explicit: false, null, null, settings.DumpDirectory);
        }

        // a server listening on every address is asked on loopback
        var address = http.Endpoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : http.Endpoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : http.Endpoint.Address;
        var url = new Uri($"{(http.Tls ? "https" : "http")}://{new IPEndPoint(address, http.Endpoint.Port)}/");
        return new FleetTarget(url, Explicit: false, http.TokenFile, http.CertificateFile, settings.DumpDirectory);
    }

    private static Uri ParseUrl(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : $"http://{text}";
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0
            || (url.HostNameType == UriHostNameType.IPv4 && !DottedQuad.TryParse(HostAsWritten(withScheme), out _)))
        {
            throw new OperatorConfigException($"--server: \"{text}\" is not an http:// or https:// URL (such as http://127.0.0.1:20080; an IPv4 address is {DottedQuad.Form})");
        }

        return new Uri(url.GetLeftPart(UriPartial.Authority) + "/");
    }

    /// <summary>The host of a URL as the operator wrote it: <see cref="Uri.Host"/> has already turned <c>127.1</c> into 127.0.0.1.</summary>
    private static string HostAsWritten(string url)
    {
        var authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        authority = authority[..(authority.IndexOfAny(['/', '?', '#']) is >= 0 and var end ? end : authority.Length)];
        authority = authority[(authority.LastIndexOf('@') + 1)..];
        return authority.LastIndexOf(':') is >= 0 and var colon ? authority[..colon] : authority;
    }
}

/// <summary>
/// Whom a fleet command asks: <paramref name="Server"/> (null: nobody, read
/// <paramref name="DumpDirectory"/>), whether the operator named it (then a server that does
/// not answer is an error, never a fall-back to the disk), the token file to send, and the
/// certificate of the server's own conf, trusted for its TLS (<c>http_cert</c>, often self-signed).
/// </summary>
public sealed record FleetTarget(Uri? Server, bool Explicit, string? TokenFile, string? Pinned, string DumpDirectory);
