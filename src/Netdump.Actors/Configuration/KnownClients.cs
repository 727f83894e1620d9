using System.Net;

namespace Netdump.Actors.Configuration;

/// <summary>
/// The <c>secure</c> decision (SPEC §6): with secure on, a client may dump only if its IP is in
/// <c>allow</c> or a file <c>&lt;dumpdir&gt;/magic/&lt;ip&gt;</c> exists; with secure off, anyone may.
/// A magic file counts only in a <see cref="TrustedPath">trusted</see> folder and when it is
/// trusted itself: one that anybody could have planted admits nobody.
/// </summary>
public sealed class KnownClients(NetdumpSettings settings)
{
    public const string MagicDirectory = "magic";

    private readonly string _magic = Path.Combine(settings.DumpDirectory, MagicDirectory);

    public bool IsAllowed(IPAddress client) =>
        !settings.Secure
        || settings.Allow.Any(network => network.Contains(client))
        || HasMagicFile(client);

    /// <summary>
    /// The Linux dialect's check (SPEC §7): allowed, or the client's magic equals the content
    /// of its magic file, hex digits as the Red Hat init script writes them (<c>MAGIC2MAGIC1</c>),
    /// compared as numbers since the kernel prints the magic without leading zeros. Says why not.
    /// </summary>
    public bool IsAllowed(IPAddress client, ulong magic, out string? why)
    {
        why = null;
        if (!settings.Secure || settings.Allow.Any(network => network.Contains(client)))
        {
            return true;
        }

        var path = Path.Combine(_magic, client.ToString());
        if (!HasMagicFile(client))
        {
            why = $"no trusted magic file {path}";
            return false;
        }

        var text = ReadMagic(path);
        if (text is null || !Protocol.Linux.LinuxStart.TryHexDigits(text.TrimStart('0') is { Length: > 0 } t ? t : "0", out var expected))
        {
            why = $"{path} does not hold a hexadecimal magic";
            return false;
        }

        if (expected != magic)
        {
            why = $"its magic 0x{magic:x} does not match {path}";
            return false;
        }

        return true;
    }

    /// <summary>The file's first line, trimmed (at most 64 bytes read: a magic is 16 hex digits).</summary>
    private static string? ReadMagic(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            var buffer = new byte[64];
            var length = file.Read(buffer);
            var text = System.Text.Encoding.ASCII.GetString(buffer, 0, length).Split('\n')[0].Trim();
            return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Why the magic folder is ignored (for the start-up log): null when it is trusted or does
    /// not exist. Checked again at every HERALD, so fixing its mode needs no restart.
    /// </summary>
    public string? WhyMagicIgnored() =>
        TrustedPath.IsPresent(_magic) && TrustedPath.WhyNotTrustedDirectory(_magic) is { } problem
            ? $"{_magic} is not trusted ({problem}): its files admit no client; chown it to the server's user or root and chmod go-w"
            : null;

    /// <summary>
    /// The start-up warning for secure mode when nothing but loopback could dump; null when
    /// some real client is allowed (a non-loopback prefix or any magic file that counts).
    /// </summary>
    public string? OnlyLocalClientsWarning()
    {
        if (!settings.Secure || settings.Allow.Any(n => !IPAddress.IsLoopback(n.BaseAddress)))
        {
            return null;
        }

        if (TrustedPath.WhyNotTrustedDirectory(_magic) is null && Directory.EnumerateFiles(_magic).Any(IsTrustedFile))
        {
            return null;
        }

        return "secure mode allows only loopback clients: real clients will be refused; " +
               "add their networks to allow= in netdump.conf, create <dumpdir>/magic/<ip>, or run with --secure 0";
    }

    private bool HasMagicFile(IPAddress client) =>
        TrustedPath.WhyNotTrustedDirectory(_magic) is null && IsTrustedFile(Path.Combine(_magic, client.ToString()));

    private static bool IsTrustedFile(string path) =>
        TrustedPath.Examine(path, out var entry) is null && entry.IsRegularFile && TrustedPath.WhyNotTrusted(entry) is null;
}
