using System.Text;

namespace Netdump.Actors.Protocol;

/// <summary>
/// The HERALD payload: empty, or the client's <c>net.netdump.path</c> as a NUL-terminated
/// string of at most 1024 bytes. Only the text is decoded here; whether the path may be used
/// is a storage decision (<c>Storage.DumpLocation</c>).
/// </summary>
public static class HeraldPayload
{
    public const int MaxLength = 1024;

    /// <summary>
    /// Decodes the requested path. Returns false with a reason when the payload is too long,
    /// has no terminating NUL, holds a NUL or control character inside the text, or is not UTF-8.
    /// </summary>
    public static bool TryReadPath(ReadOnlySpan<byte> payload, out string path, out string? reason)
    {
        path = string.Empty;
        reason = null;
        if (payload.IsEmpty)
        {
            return true;
        }

        if (payload.Length > MaxLength)
        {
            reason = $"path of {payload.Length} bytes exceeds {MaxLength}";
            return false;
        }

        if (payload[^1] != 0)
        {
            reason = "path is not NUL-terminated";
            return false;
        }

        var text = payload[..^1];
        foreach (var b in text)
        {
            if (b < 0x20 || b == 0x7f)
            {
                reason = b == 0 ? "path holds an embedded NUL" : $"path holds control character 0x{b:x2}";
                return false;
            }
        }

        try
        {
            path = new UTF8Encoding(false, true).GetString(text);
        }
        catch (DecoderFallbackException)
        {
            reason = "path is not valid UTF-8";
            return false;
        }

        // The byte check above sees only C0 controls and DEL; C1 controls (U+0080..U+009F, such
        // as NEL or CSI) arrive as two UTF-8 bytes and would otherwise reach logs and file names.
        foreach (var c in path)
        {
            if (InvisibleText.IsUnsafe(c))
            {
                reason = $"path holds {(char.IsControl(c) ? "control" : "invisible format")} character U+{(int)c:X4}";
                path = string.Empty;
                return false;
            }
        }

        return true;
    }

    /// <summary>Encodes a path the way the FreeBSD client does: its bytes and a NUL, or nothing when empty.</summary>
    public static byte[] Encode(string path) =>
        path.Length == 0 ? [] : [.. Encoding.UTF8.GetBytes(path), 0];
}
