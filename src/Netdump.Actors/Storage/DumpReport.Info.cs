using System.Text;

namespace Netdump.Actors.Storage;

/// <summary><c>info</c>: the operator's description of a dump, in netdumpd's layout.</summary>
public static partial class DumpReport
{
    private const ulong MiB = 1024 * 1024;

    /// <summary>
    /// The <c>info</c> text: <c>Dump from &lt;host&gt; [&lt;ip&gt;]</c>, indented facts, and a last
    /// line <c>Dump complete</c>, <c>Dump incomplete: &lt;reason&gt;</c> or <c>Dump in progress</c>.
    /// Kernel-supplied strings are flattened to one line so they cannot forge that last line.
    /// </summary>
    public static string FormatInfo(DumpRecord r)
    {
        var h = r.Header;
        var sb = new StringBuilder();
        var host = h is null || h.Hostname.Length == 0 ? "unknown host" : OneLine(h.Hostname);
        Line(sb, $"Dump from {host} [{DumpLocation.FormatAddress(r.ClientIp)}]");
        if (r.Linux is { } linux)
        {
            Line(sb, $"  Dialect: Linux netdump, protocol version {linux.ProtocolVersion}, ELF machine {linux.Machine}");
            Line(sb, $"  Memory: {linux.Pages} pages of {linux.PageSize} bytes ({linux.Pages * linux.PageSize / MiB} MB), {ByteRange.Total(linux.Reserved)} pages not RAM");
            Line(sb, $"  Registers: {(linux.Registers ? "received" : "not received")}");
            Line(sb, $"  Console Log: {linux.LogBytes} bytes");
            Line(sb, $"  Panic String: {(linux.PanicString is null ? "not found in the log" : OneLine(linux.PanicString))}");
        }
        else if (h is null)
        {
            Line(sb, r.Recovered
                ? "  Kernel Dump Header: unknown (kept in memory only, and the server stopped before the reports were written)"
                : "  Kernel Dump Header: not received");
        }
        else
        {
            Line(sb, $"  Architecture: {OneLine(h.Architecture)}");
            Line(sb, $"  Architecture Version: {h.ArchitectureVersion}");
            Line(sb, $"  Dump Length: {h.DumpLength}B ({h.DumpLength / MiB} MB), the dump data as the kernel dump header gives it");
            Line(sb, $"  Blocksize: {h.BlockSize}");
            Line(sb, $"  Compression: {DumpJson.CompressionName(h.Compression)}");
            Line(sb, $"  Dumptime: {FormatDumpTime(h)}");
            Line(sb, $"  Hostname: {OneLine(h.Hostname)}");
            Line(sb, $"  Version String: {OneLine(h.VersionString)}");
            Line(sb, $"  Panic String: {OneLine(h.PanicString)}");
            Line(sb, $"  Header Parity Check: {(h.ParityOk ? "Pass" : "Fail")}");
        }

        Line(sb, $"  Encrypted: {(r.Encrypted ? "yes" : "no")}");
        if (r.Recovered && r.Status != DumpStatus.Complete)
        {
            Line(sb, $"  Received: at most {r.BytesReceived} bytes (the size of {OneLine(r.Vmcore)}; which ranges of it arrived is unknown: they were kept in memory only, and the server stopped)");
            Line(sb, "  Holes: unknown (the received ranges were lost when the server stopped)");
        }
        else
        {
            Line(sb, $"  Received: {FormatReceived(r)}");
            Line(sb, $"  Holes: {FormatHoles(r)}");
        }

        if (r.Encrypted)
        {
            Line(sb, $"  Key: {r.KeyBytesReceived}{(r.Header is { DumpKeySize: > 0 } k ? $" of {k.DumpKeySize}" : "")} bytes received, in {CoreFileNames.Key}");
        }

        if (r.Rate is { } rate)
        {
            var left = ReceiveRate.SecondsLeft(r.BytesReceived, r.Length, rate.LastTick);
            Line(sb, $"  Rate: {ByteUnits.Rate(rate.LastTick)} over the last second, {ByteUnits.Rate(rate.Average)} on average{(left is { } s ? $", about {s} s left" : "")}");
        }

        if (r.Sha256 is { } sha256)
        {
            Line(sb, r.CompressedAtRest
                ? $"  SHA-256: {sha256} (the core as received; {OneLine(r.Vmcore)} decompresses to it)"
                : $"  SHA-256: {sha256} ({OneLine(r.Vmcore)})");
        }

        if (r.CompressedAtRest)
        {
            Line(sb, $"  Stored: {OneLine(r.Vmcore)}, compressed at rest with zstd, {r.StoredBytes} bytes, SHA-256 {r.StoredSha256}");
        }
        else if (r.CompressionProblem is { } compressionProblem)
        {
            Line(sb, $"  Stored: {OneLine(r.Vmcore)}, not compressed at rest: {OneLine(compressionProblem)}");
        }

        if (r.DecryptedVmcore is { } decrypted)
        {
            Line(sb, $"  Decrypted: {OneLine(decrypted)}");
        }
        else if (r.DecryptionProblem is { } decryptionProblem)
        {
            Line(sb, $"  Decrypted: no: {OneLine(decryptionProblem)}");
        }

        Line(sb, $"  Herald Path: {FormatHeraldPath(r)}");
        Line(sb, r.Status switch
        {
            DumpStatus.Complete => "Dump complete",
            DumpStatus.Incomplete => $"Dump incomplete: {(string.IsNullOrWhiteSpace(r.Reason?.Text) ? "unknown reason" : OneLine(r.Reason.Text))}",
            DumpStatus.Refused => $"Dump refused: {OneLine(r.Reason?.Text ?? "unknown reason")}; only the console log is kept",
            _ => "Dump in progress",
        });
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string text) => sb.Append(text).Append('\n');

    /// <summary>What <see cref="DumpRecord.BytesReceived"/> counts: the core's bytes, some of them perhaps past the dump length.</summary>
    private static string FormatReceived(DumpRecord r)
    {
        var text = $"{r.BytesReceived} bytes of the core in {r.Ranges.Count} {(r.Ranges.Count == 1 ? "range" : "ranges")}";
        var past = r.Length is { } length ? r.Ranges.Aggregate(0UL, (sum, x) => sum + (x.End > length ? x.End - Math.Max(x.Start, length) : 0)) : 0;
        return past == 0 ? text : $"{text}, {past} of them past the dump length (where the client pads its last block)";
    }

    private static string FormatHoles(DumpRecord r)
    {
        var until = r.HolesKnownUntil ?? 0;
        if (r.Length is null)
        {
            // the gaps between received ranges are holes whatever the length turns out to be
            var why = r.Linux is null ? "no kernel dump header" : "no memory description";
            return until == 0
                ? $"unknown (nothing received, and no dump length: {why})"
                : $"{(r.Holes.Count == 0 ? "none" : ListHoles(r.Holes))} before byte {until}; beyond it unknown (no dump length: {why})";
        }

        return r.Holes.Count == 0 ? "none" : ListHoles(r.Holes);
    }

    private static string ListHoles(IReadOnlyList<ByteRange> holes)
    {
        var shown = holes.Take(MaxInfoHoles).Select(x => $"[{x.Start}, {x.End})");
        var text = string.Join(", ", shown);
        var total = ByteRange.Total(holes);
        var more = holes.Count > MaxInfoHoles ? $", ... {holes.Count - MaxInfoHoles} more" : "";
        return $"{text}{more} ({total} bytes missing)";
    }

    /// <summary>The path asked for and, when it was not used, why and where the dump went instead.</summary>
    private static string FormatHeraldPath(DumpRecord r)
    {
        // an undecodable path is recorded as "": it was asked for all the same
        var asked = r.HeraldPath.Length > 0 ? OneLine(r.HeraldPath) : r.HeraldPathFallback is null ? "none" : "unreadable";
        return r.HeraldPathFallback is { } why
            ? $"{asked}, not used: {OneLine(why)}; the dump went to the dump directory instead"
            : asked;
    }
}
