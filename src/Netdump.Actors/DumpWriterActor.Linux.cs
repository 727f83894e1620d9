using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>A Linux dump: the client's description of its memory becomes the ELF core's header; its console log feeds the reports.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>
    /// A Linux client described its memory: write the ELF core's header (SPEC §7). Answered with
    /// <see cref="LinuxDescribed"/>, or <see cref="DiskFailed"/> when the description or the write cannot be used.
    /// </summary>
    public sealed record DescribeLinux(LinuxStart Start, uint Pages, uint PageSize, byte[] Registers) : Scheduling.IClientWaits;
    /// <summary>The header is written; page frame N goes at <paramref name="DataOffset"/> + N × page size.</summary>
    public sealed record LinuxDescribed(long DataOffset);
    /// <summary>
    /// The page frames that are not RAM (SPEC §7: reserved, not holes): all of them once every page
    /// is in, or those the pull had met when a dump ended before.
    /// </summary>
    public sealed record LinuxReserved(IReadOnlyList<ByteRange> Frames);
    /// <summary>A Linux dump's core: its layout and what the client said.</summary>
    private sealed record LinuxCore(LinuxStart Start, ElfCoreLayout Layout, bool Registers, IReadOnlyList<ByteRange> Reserved);
    private void HandleDescribeLinux(DescribeLinux describe)
    {
        var start = describe.Start;
        if (!ElfCoreLayout.TryCreate(start.Machine, describe.PageSize, describe.Pages, start.PageOffset, out var layout, out var problem))
        {
            _failure ??= EndReason.BadMemoryDescription(problem!);
            _log.Warning("Client {Client}: {Problem}", _herald.Client.Address, _failure);
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        if (_settings.MaxDumpSize is { } cap && (ulong)layout!.FileSize > cap)
        {
            _failure ??= EndReason.TooLargeCore(layout.FileSize, cap);
            _log.Warning("Client {Client}: {Problem}", _herald.Client.Address, _failure);
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        var header = layout!.Header(describe.Registers, start.TaskStruct);
        if (_core!.WriteHeader(header) != CoreWriteResult.Written)
        {
            _failure ??= EndReason.WriteFailed("the core's header", _core.LastError);
            Sender.Tell(new DiskFailed(_failure));
            return;
        }

        // registers count only where the core holds them (a machine whose layout is known here)
        _linux = new LinuxCore(start, layout, describe.Registers.Length > 0 && LinuxRegisters.GregsetSize(start.Machine) is not null, []);
        _log.Info("Client {Client}: {Pages} pages of {PageSize} bytes, machine {Machine}; pulling the memory",
            _herald.Client.Address, describe.Pages, describe.PageSize, start.Machine);
        _news = ReportNews.Change;
        // the whole size is known now: a shortage reaches the session before the header's news,
        // so that netdump-nospace decides before the first SEND_MEM (SPEC §7)
        ReportLowSpace();
        Sender.Tell(new LinuxDescribed(layout.DataOffset));
    }
    private LinuxFacts? LinuxFacts()
    {
        if (_herald.Linux is not { } start)
        {
            return null;
        }

        var log = ReadConsoleLog();
        return new LinuxFacts(LinuxVersion.Effective(start.MaxVersion), start.Machine, _linux?.Layout.PageSize ?? 0,
            _linux?.Layout.Pages ?? 0, _linux?.Reserved ?? [], _linux?.Registers ?? false, log.Bytes, log.PanicString)
        {
            CoreSize = (ulong?)_linux?.Layout.FileSize,
            KernelVersion = log.KernelVersion,
        };
    }
    /// <summary>
    /// A Linux dump's log made durable with its core. Its pull writes the log's last text and
    /// closes it on the Linux port's thread, which serves every Linux client and so never waits
    /// for a disk; the fsync is here, on a disk thread, before the core's and the final reports.
    /// The log is the dump's companion: a failure is logged, and the dump ends as its data decides.
    /// </summary>
    private void FsyncConsoleLog()
    {
        if (_herald.Linux is null)
        {
            return;
        }

        try
        {
            _disk.FsyncFile(Path.Combine(_directory, ConsoleLogFile.FileName));
        }
        catch (FileNotFoundException)
        {
            // no log could be made: the dump went on without its console text
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Client {Client}: cannot fsync the console log of {Dir}: {Error}; its core decides the dump without it",
                _herald.Client.Address, _directory, e.Message);
        }
    }

    /// <summary>
    /// A Linux dump's log as the reports show it, read again only when it grew: the receiving
    /// report is written every tick, and the log (appended to, up to 1 MiB searched) rarely changes.
    /// </summary>
    private ConsoleFacts ReadConsoleLog()
    {
        var log = new FileInfo(Path.Combine(_directory, ConsoleLogFile.FileName));
        if ((log.Exists ? log.Length : 0) != _consoleLog.Bytes)
        {
            _consoleLog = ConsoleLog.Read(log.FullName);
        }

        return _consoleLog;
    }
}
