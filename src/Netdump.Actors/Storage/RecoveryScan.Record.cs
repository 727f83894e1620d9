using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>What the start-up scan reads from a dump's directory to rebuild its record: the core (locked), the header, the Linux facts, the HERALD path; and the leftovers it removes.</summary>
public static partial class RecoveryScan
{
    /// <summary>
    /// Opens the core read-only and takes its exclusive lock (<see cref="CoreLock"/>): the core of
    /// a live writer (another server on the same dumpdir) or of a copy in progress holds a shared
    /// one, so a dump still being received or compressed elsewhere is not taken from it. Null
    /// without a core.
    /// </summary>
    internal static SafeFileHandle? OpenExclusive(string directory, string? coreName, out string? problem)
    {
        problem = null;
        if (coreName is null)
        {
            return null;
        }

        try
        {
            var handle = RegularFile.OpenRead(Path.Combine(directory, coreName));
            if (!CoreLock.TryExclusive(handle))
            {
                handle.Dispose();
                problem = $"{coreName} is in use (a server is writing or copying it); left alone";
            }

            return problem is null ? handle : null;
        }
        catch (IOException e)
        {
            problem = $"{coreName} cannot be opened exclusively (is a server still writing it?): {e.Message}; left alone";
            return null;
        }
    }

    /// <summary>The writer's report reserve and the temporary files of a report write cut short.</summary>
    private static void RemoveLeftovers(string directory, Dictionary<string, FileSystemInfo> entries)
    {
        foreach (var entry in entries.Values)
        {
            var name = entry.Name;
            // the reserve is made of the reports' own temporary names
            var leftover = name.EndsWith(".tmp", StringComparison.Ordinal)
                && (name.StartsWith($".{DumpReport.InfoFileName}.", StringComparison.Ordinal)
                    || name.StartsWith($".{DumpReport.JsonFileName}.", StringComparison.Ordinal));
            if (leftover && DumpTree.IsPlainFile(entry))
            {
                File.Delete(Path.Combine(directory, name));
            }
        }
    }

    /// <summary>The herald path a dump's place implies: its parent relative to dumpdir ("" directly in it).</summary>
    private static string HeraldPathFrom(string root, string directory)
    {
        var parent = Path.GetDirectoryName(directory) ?? root;
        var relative = Path.GetRelativePath(root, parent);
        return relative == "." ? "" : relative;
    }

    /// <summary>
    /// The kernel dump header as dump.json described it, when every field is there. The KDH
    /// version, extent and parity word are not in dump.json; only version 4 is ever accepted,
    /// and the others are not reported.
    /// </summary>
    internal static KernelDumpHeader? HeaderFrom(JsonElement? json)
    {
        if (DumpJson.String(json, DumpJson.Magic) is not { } magic
            || DumpJson.String(json, DumpJson.Architecture) is not { } architecture
            || DumpJson.UInt(json, DumpJson.ArchitectureVersion) is not { } architectureVersion
            || DumpJson.ULong(json, DumpJson.DumpLength) is not { } length
            || DumpJson.Time(json, DumpJson.DumpTime) is not { } dumpTime
            || dumpTime.ToUnixTimeSeconds() < 0
            || DumpJson.UInt(json, DumpJson.DumpKeySize) is not { } keySize
            || DumpJson.UInt(json, DumpJson.BlockSize) is not { } blockSize
            || DumpJson.String(json, DumpJson.Hostname) is not { } hostname
            || DumpJson.String(json, DumpJson.VersionString) is not { } versionString
            || DumpJson.String(json, DumpJson.PanicString) is not { } panicString
            || DumpJson.ParseCompression(DumpJson.String(json, DumpJson.Compression)) is not { } compression
            || DumpJson.Bool(json, DumpJson.ParityOk) is not { } parityOk)
        {
            return null;
        }

        return new KernelDumpHeader(
            magic, architecture, KernelDumpHeader.SupportedVersion, architectureVersion, length,
            (ulong)dumpTime.ToUnixTimeSeconds(), keySize, blockSize, hostname, versionString, panicString,
            compression, DumpExtent: length, Parity: 0)
        {
            ParityOk = parityOk,
        };
    }

    /// <summary>A Linux dump says so in its report; one killed before its first report has a console log.</summary>
    private static bool IsLinux(JsonElement? previous, IReadOnlyDictionary<string, FileSystemInfo> entries) =>
        DumpJson.String(previous, DumpJson.Dialect) is { } dialect ? dialect == DumpJson.Linux : entries.ContainsKey(ConsoleLogFile.FileName);

    /// <summary>What the last report said of a Linux client's memory (the reserved frames are not kept), and its log as it is.</summary>
    private static LinuxFacts LinuxFactsFrom(JsonElement? previous, string directory)
    {
        var (logBytes, panic, kernel) = ConsoleLog.Read(Path.Combine(directory, ConsoleLogFile.FileName));
        return new LinuxFacts(DumpJson.UInt(previous, DumpJson.ProtocolVersion) ?? 0, (ushort)(DumpJson.UInt(previous, DumpJson.Machine) ?? 0),
            DumpJson.UInt(previous, DumpJson.PageSize) ?? 0, DumpJson.ULong(previous, DumpJson.Pages) ?? 0, [], DumpJson.Bool(previous, DumpJson.Registers) == true, logBytes, panic) { KernelVersion = kernel };
    }
}
