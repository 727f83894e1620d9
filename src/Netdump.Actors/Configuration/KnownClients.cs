using System.Net;

namespace Netdump.Actors.Configuration;

/// <summary>
/// The <c>secure</c> decision (SPEC §6): with secure on, a client may dump only if its IP is in
/// <c>allow</c> or a file <c>&lt;dumpdir&gt;/magic/&lt;ip&gt;</c> exists; with secure off, anyone may.
/// </summary>
public sealed class KnownClients(NetdumpSettings settings)
{
    public const string MagicDirectory = "magic";

    public bool IsAllowed(IPAddress client) =>
        !settings.Secure
        || settings.Allow.Any(network => network.Contains(client))
        || File.Exists(Path.Combine(settings.DumpDirectory, MagicDirectory, client.ToString()));

    /// <summary>
    /// The start-up warning for secure mode when nothing but loopback could dump; null when
    /// some real client is allowed (a non-loopback prefix or any magic file).
    /// </summary>
    public string? OnlyLocalClientsWarning()
    {
        if (!settings.Secure || settings.Allow.Any(n => !IPAddress.IsLoopback(n.BaseAddress)))
        {
            return null;
        }

        var magic = Path.Combine(settings.DumpDirectory, MagicDirectory);
        if (Directory.Exists(magic) && Directory.EnumerateFiles(magic).Any())
        {
            return null;
        }

        return "secure mode allows only loopback clients: real clients will be refused; " +
               "add their networks to allow= in netdump.conf, create <dumpdir>/magic/<ip>, or run with --secure 0";
    }
}
