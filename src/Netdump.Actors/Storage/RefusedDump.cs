using System.Net;
using Netdump.Actors.Ingest;

namespace Netdump.Actors.Storage;

/// <summary>
/// What is kept of a Linux client refused beyond <c>max_concurrent_dumps</c> (SPEC §7, as the
/// Red Hat server did: "logged and then rebooted", its log kept): a dump directory holding only
/// <c>log</c>, the console text known before its START (the oops that preceded the panic, at
/// most 64 KiB), and <c>info</c> and <c>dump.json</c> with status <c>refused</c>. No memory is
/// pulled and no slot is held.
/// </summary>
public static class RefusedDump
{
    /// <summary>Refused directories one run of the server keeps; beyond that a refusal is only logged.</summary>
    public const int MaxKept = 64;

    /// <summary>Makes the directory; returns its record. Throws <see cref="IOException"/> as the directory layout does.</summary>
    public static DumpRecord Write(string dumpDirectory, Herald herald, ReadOnlySpan<byte> console)
    {
        var directory = DumpLocation.CreateDumpDirectory(dumpDirectory, herald.Client.Address, herald.ReceivedAt.LocalDateTime);
        using (var log = new FileStream(Path.Combine(directory, ConsoleLogFile.FileName), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            log.Write(console);
            log.Flush(flushToDisk: true);
        }

        var (bytes, panic, kernel) = ConsoleLog.Read(Path.Combine(directory, ConsoleLogFile.FileName));
        var start = herald.Linux!;
        var record = new DumpRecord
        {
            Status = DumpStatus.Refused,
            Reason = EndReason.TooManyDumps,
            ClientIp = herald.Client.Address,
            ServerIp = herald.LocalAddress,
            HeraldPath = "",
            Directory = directory,
            ReceivedAt = herald.ReceivedAt,
            FinishedAt = DateTimeOffset.UtcNow,
            Vmcore = "",
            Dialect = Dialect.Linux,
            Linux = new LinuxFacts(Protocol.Linux.LinuxVersion.Effective(start.MaxVersion), start.Machine, 0, 0, [], false, bytes, panic) { KernelVersion = kernel },
        };
        DumpReport.Write(record);
        return record;
    }
}
