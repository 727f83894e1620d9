using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>
/// The two descriptions of a dump that sit beside its core (SPEC §3): <c>info</c> for the
/// operator, in netdumpd's layout, and <c>dump.json</c> for machines. Both are replaced
/// atomically, so a reader never sees a half-written file.
/// </summary>
public static class DumpReport
{
    public const string InfoFileName = "info";
    public const string JsonFileName = "dump.json";

    /// <summary>How many holes <c>info</c> lists before summarising; dump.json lists all.</summary>
    public const int MaxInfoHoles = 16;

    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
    private const string DumpTimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    private const ulong MiB = 1024 * 1024;

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        // The file is not embedded in HTML: keep '+', '<', non-ASCII and so on readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

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
            Line(sb, $"  Memory: {linux.Pages} pages of {linux.PageSize} bytes ({linux.Pages * linux.PageSize / MiB} MB), {linux.Reserved.Aggregate(0UL, (n, r) => n + r.Length)} pages not RAM");
            Line(sb, $"  Registers: {(linux.Registers ? "received" : "not received")}");
            Line(sb, $"  Console Log: {linux.LogBytes} bytes");
            Line(sb, $"  Panic String: {(linux.PanicString is null ? "not found in the log" : OneLine(linux.PanicString))}");
        }
        else if (h is null)
        {
            Line(sb, "  Kernel Dump Header: not received");
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
        if (r.Recovered)
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
            Line(sb, $"  Key: {r.KeyBytesReceived}{(r.Header is { DumpKeySize: > 0 } k ? $" of {k.DumpKeySize}" : "")} bytes received, in {DumpWriterActor.KeyFileName}");
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

    /// <summary>
    /// The <c>dump.json</c> text (schema in SPEC §3, and docs/operations.md for the keys added
    /// since). Header-derived fields are null until a KDH arrived; 64-bit counts are written as
    /// exact integers. <c>holes</c> covers <c>[0, holes_known_until)</c>: the whole dump once its
    /// length is known, the gaps up to the last byte received before. <c>recovered</c> is true
    /// for a dump marked at start-up after the server stopped while receiving it: its
    /// <c>ranges</c> and <c>holes</c> are then unknown (empty, <c>holes_known_until</c> null) and
    /// <c>bytes_received</c> is the core's size. The rates and <c>eta_seconds</c> are those of a
    /// dump still receiving, null otherwise. <c>sha256</c> is that of <c>vmcore</c>, written
    /// only once computed after a complete dump ended, null until then and for any other dump.
    /// </summary>
    public static string FormatJson(DumpRecord r)
    {
        var h = r.Header;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, JsonOptions))
        {
            w.WriteStartObject();
            w.WriteString(DumpJson.Status, DumpJson.StatusName(r.Status));
            w.WriteString(DumpJson.Reason, r.Status == DumpStatus.Complete ? null : r.Reason?.Text);
            w.WriteString(DumpJson.ClientIp, DumpLocation.FormatAddress(r.ClientIp));
            w.WriteString(DumpJson.ServerIp, DumpLocation.FormatAddress(r.ServerIp));
            w.WriteString(DumpJson.HeraldPath, r.HeraldPath);
            w.WriteString(DumpJson.HeraldPathFallback, r.HeraldPathFallback);
            w.WriteString(DumpJson.Directory, r.Directory);
            w.WriteString(DumpJson.ReceivedAt, FormatTimestamp(r.ReceivedAt));
            w.WriteString(DumpJson.FinishedAt, r.FinishedAt is { } finished ? FormatTimestamp(finished) : null);
            w.WriteString(DumpJson.Magic, h?.Magic);
            w.WriteString(DumpJson.Hostname, h?.Hostname);
            w.WriteString(DumpJson.Architecture, h?.Architecture);
            WriteNumberOrNull(w, DumpJson.ArchitectureVersion, h?.ArchitectureVersion);
            w.WriteString(DumpJson.VersionString, h?.VersionString);
            w.WriteString(DumpJson.PanicString, h?.PanicString ?? r.Linux?.PanicString);
            w.WriteString(DumpJson.DumpTime, h is null ? null : FormatDumpTime(h));
            WriteNumberOrNull(w, DumpJson.DumpLength, r.Length); // the KDH's, or a Linux core's full size
            WriteNumberOrNull(w, DumpJson.BlockSize, h?.BlockSize);
            WriteNumberOrNull(w, DumpJson.DumpKeySize, h?.DumpKeySize);
            w.WriteNumber(DumpJson.BytesReceived, r.BytesReceived);
            WriteRanges(w, DumpJson.Ranges, r.Ranges);
            WriteRanges(w, DumpJson.Holes, r.Holes);
            WriteNumberOrNull(w, DumpJson.HolesKnownUntil, r.HolesKnownUntil);
            WriteNumberOrNull(w, DumpJson.RateBytesPerSecond, r.Rate?.LastTick);
            WriteNumberOrNull(w, DumpJson.AverageRateBytesPerSecond, r.Rate?.Average);
            WriteNumberOrNull(w, DumpJson.EtaSeconds, r.Rate is { } rate ? ReceiveRate.SecondsLeft(r.BytesReceived, r.Length, rate.LastTick) : null);
            w.WriteNumber(DumpJson.KeyBytesReceived, r.KeyBytesReceived);
            w.WriteString(DumpJson.Compression, h is null ? null : DumpJson.CompressionName(h.Compression));
            w.WriteBoolean(DumpJson.Encrypted, r.Encrypted);
            if (h is null)
            {
                w.WriteNull(DumpJson.ParityOk);
            }
            else
            {
                w.WriteBoolean(DumpJson.ParityOk, h.ParityOk);
            }

            w.WriteString(DumpJson.Vmcore, r.Vmcore);
            w.WriteString(DumpJson.Sha256, r.Sha256);
            w.WriteString(DumpJson.StoredCompression, StoredCompression(r) is { } stored ? DumpJson.CompressionName(stored) : null);
            w.WriteBoolean(DumpJson.CompressedAtRest, r.CompressedAtRest);
            WriteNumberOrNull(w, DumpJson.StoredBytes, r.StoredBytes);
            w.WriteString(DumpJson.StoredSha256, r.StoredSha256);
            w.WriteString(DumpJson.CompressionProblem, r.CompressionProblem);
            w.WriteString(DumpJson.DecryptedVmcore, r.DecryptedVmcore);
            w.WriteString(DumpJson.DecryptionProblem, r.DecryptionProblem);
            w.WriteString(DumpJson.SupersededBy, r.SupersededBy);
            w.WriteBoolean(DumpJson.Recovered, r.Recovered);
            w.WriteString(DumpJson.Dialect, DumpJson.DialectName(r.Dialect));
            if (r.Linux is { } linux)
            {
                w.WriteNumber(DumpJson.ProtocolVersion, linux.ProtocolVersion);
                w.WriteNumber(DumpJson.Machine, linux.Machine);
                w.WriteNumber(DumpJson.PageSize, linux.PageSize);
                w.WriteNumber(DumpJson.Pages, linux.Pages);
                WriteRanges(w, DumpJson.Reserved, linux.Reserved);
                w.WriteBoolean(DumpJson.Registers, linux.Registers);
                w.WriteNumber(DumpJson.LogBytes, linux.LogBytes);
                w.WriteString(DumpJson.KernelVersion, linux.KernelVersion);
            }

            w.WriteEndObject();
        }

        return Utf8NoBom.GetString(buffer.GetBuffer(), 0, (int)buffer.Length) + "\n";
    }

    /// <summary>
    /// Creates the files that <see cref="WriteFinal"/> fills: <c>info</c>'s and
    /// <c>dump.json</c>'s temporary names, <see cref="ReservedInfoBytes"/> and
    /// <see cref="ReservedJsonBytes"/> long, so that a dump which fills the file system can still
    /// be described (the final write overwrites blocks it already holds). Throws
    /// <see cref="IOException"/> when there is no room; a file is kept only whole.
    /// </summary>
    public static void Reserve(string directory)
    {
        ReserveOne(Path.Combine(directory, ReservedName(InfoFileName)), ReservedInfoBytes);
        ReserveOne(Path.Combine(directory, ReservedName(JsonFileName)), ReservedJsonBytes);
    }

    /// <summary>What <see cref="Reserve"/> takes on the disk.</summary>
    public const ulong ReservedBytes = ReservedInfoBytes + ReservedJsonBytes;

    /// <summary>Room kept for <c>info</c> (one block), which lists at most <see cref="MaxInfoHoles"/> holes.</summary>
    public const int ReservedInfoBytes = 4 * 1024;

    /// <summary>
    /// Room kept for <c>dump.json</c>: a few hundred ranges and holes. One that lists more needs
    /// free blocks for the rest; on a full file system its write fails, which is logged and
    /// makes the dump incomplete. Each reserved block costs every dump CPU (docs/performance.md).
    /// </summary>
    public const int ReservedJsonBytes = 12 * 1024;

    /// <summary>The temporary name <see cref="WriteFinal"/> writes <paramref name="name"/> through, made early by <see cref="Reserve"/>.</summary>
    public static string ReservedName(string name) => $".{name}.final.tmp";

    /// <summary>
    /// Writes <c>info</c> and <c>dump.json</c> into <see cref="DumpRecord.Directory"/>: each to a
    /// fresh temporary name (mode 0600, never following or reusing anything at that name),
    /// renamed over the final name, as durably as <paramref name="durability"/> says. Throws
    /// <see cref="IOException"/> on failure, leaving the previous files in place.
    /// </summary>
    public static void Write(DumpRecord r, ReportDurability durability = ReportDurability.Durable) => Write(r, durability, reserved: false);

    /// <summary>
    /// The writer's final, durable reports, written into the files <see cref="Reserve"/> made in
    /// the dump directory it created (0700, its own: nothing else can have put a link there),
    /// or made now if the reservation failed. A reserved file whose write fails is left for the
    /// recovery scan, which reads it as the mark of an unfinished dump.
    /// </summary>
    public static void WriteFinal(DumpRecord r) => Write(r, ReportDurability.Durable, reserved: true);

    private static void Write(DumpRecord r, ReportDurability durability, bool reserved)
    {
        var fsyncFiles = durability != ReportDurability.None;
        WriteAtomically(r.Directory, InfoFileName, FormatInfo(r), fsyncFiles, reserved);
        WriteAtomically(r.Directory, JsonFileName, FormatJson(r), fsyncFiles, reserved);
        if (durability == ReportDurability.Durable)
        {
            FileSystemSync.FsyncDirectory(r.Directory);
        }
    }

    private static void WriteAtomically(string directory, string name, string text, bool fsync, bool reserved)
    {
        var final = Path.Combine(directory, name);
        var temporary = Path.Combine(directory, reserved ? ReservedName(name) : $".{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, TemporaryOptions(reserved ? FileMode.OpenOrCreate : FileMode.CreateNew)))
            {
                var bytes = Utf8NoBom.GetBytes(text);
                stream.Write(bytes);
                stream.SetLength(bytes.Length); // the rest of a reservation
                stream.Flush(flushToDisk: fsync);
            }

            File.Move(temporary, final, overwrite: true);
        }
        catch
        {
            if (!reserved)
            {
                TryDelete(temporary);
            }

            throw;
        }
    }

    private static void ReserveOne(string path, int length)
    {
        try
        {
            using var stream = new FileStream(path, TemporaryOptions(FileMode.CreateNew));
            // written, not preallocated: delayed allocation holds the blocks for this file from
            // now on, and the final write overwrites them (no fsync: it is a reservation only)
            stream.Write(Zeros.AsSpan(0, length));
        }
        catch
        {
            TryDelete(path);
            throw;
        }
    }

    private static readonly byte[] Zeros = new byte[Math.Max(ReservedInfoBytes, ReservedJsonBytes)];

    private static FileStreamOptions TemporaryOptions(FileMode mode)
    {
        var options = new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original error matters more; a stray temp file is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void Line(StringBuilder sb, string text) => sb.Append(text).Append('\n');

    private static string FormatTimestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static string FormatDumpTime(KernelDumpHeader h) =>
        h.DumpTimeUtc.UtcDateTime.ToString(DumpTimeFormat, CultureInfo.InvariantCulture);

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
        var total = holes.Aggregate(0UL, (sum, x) => sum + x.Length);
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

    /// <summary>How the stored core is encoded, once its size is known: the client's compression, or zstd when the server compressed it at rest.</summary>
    private static DumpCompression? StoredCompression(DumpRecord r) =>
        r.StoredBytes is null ? null
        : r.CompressedAtRest ? DumpCompression.Zstd
        : r.Header?.Compression ?? DumpCompression.None;

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, ulong? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteRanges(Utf8JsonWriter w, string name, IReadOnlyList<ByteRange> ranges)
    {
        w.WritePropertyName(name);
        if (ranges.Count == 0)
        {
            w.WriteRawValue("[]", skipInputValidation: true);
            return;
        }

        // One pair per line rather than one number per line, so that a dump with many holes
        // stays readable; the indentation matches the writer's for a top-level property.
        var sb = new StringBuilder("[");
        for (var i = 0; i < ranges.Count; i++)
        {
            sb.Append(i == 0 ? "\n    [" : ",\n    [")
                .Append(ranges[i].Start.ToString(CultureInfo.InvariantCulture))
                .Append(", ")
                .Append(ranges[i].End.ToString(CultureInfo.InvariantCulture))
                .Append(']');
        }

        sb.Append("\n  ]");
        w.WriteRawValue(sb.ToString(), skipInputValidation: true);
    }

    /// <summary>One line of printable text: control characters and whitespace runs become one space.</summary>
    /// <summary>Client-supplied text made safe for one line of a report or the log: no control characters or line breaks.</summary>
    public static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                pendingSpace = sb.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                sb.Append(' ');
                pendingSpace = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }
}
