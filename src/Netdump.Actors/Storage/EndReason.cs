using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Storage;

/// <summary>Why a dump ended without being complete, as a kind a metric or a decision can use.</summary>
public enum EndKind
{
    ClientTimedOut,
    ServerShutDown,
    Superseded,
    NoSpace,
    Holes,
    NoKernelDumpHeader,
    BadKernelDumpHeader,
    KeyIncomplete,
    NoMemoryDescription,
    BadMemoryDescription,
    TooLarge,
    TooFragmented,
    WriteError,
    ReceiveError,
    WriterFailed,

    /// <summary>A previous run stopped while receiving it; the start-up scan marked it.</summary>
    ServerStopped,

    /// <summary>A Linux client refused beyond the concurrency limit (a <c>refused</c> dump).</summary>
    TooManyDumps,

    /// <summary>A reason this server does not write (a report from another version, edited by hand).</summary>
    Other,
}

/// <summary>
/// Why a dump is not complete: its <see cref="Kind"/>, and <see cref="Text"/>, the words
/// <c>info</c>, <c>dump.json</c>'s <c>reason</c>, the log and <c>NETDUMP_REASON</c> carry
/// (SPEC §3: "client timed out", "holes: ...", "no space"...). The factories below are the one
/// place each text is written; <see cref="Parse"/> reads one back from a report.
/// </summary>
public sealed record EndReason(EndKind Kind, string Text)
{
    public static EndReason ClientTimedOut { get; } = new(EndKind.ClientTimedOut, "client timed out");
    public static EndReason ServerShutDown { get; } = new(EndKind.ServerShutDown, "server shut down");
    public static EndReason Superseded { get; } = new(EndKind.Superseded, "superseded");
    public static EndReason NoSpace { get; } = new(EndKind.NoSpace, "no space");
    public static EndReason NoKernelDumpHeader { get; } = new(EndKind.NoKernelDumpHeader, "no kernel dump header");
    public static EndReason NoMemoryDescription { get; } = new(EndKind.NoMemoryDescription, "the client never described its memory");
    public static EndReason WriterFailed { get; } = new(EndKind.WriterFailed, "writer failed");
    public static EndReason TooManyDumps { get; } = new(EndKind.TooManyDumps, "too many concurrent netdumps");

    public static EndReason Holes(int count, ulong bytes) => new(EndKind.Holes, $"holes: {count} missing ranges, {bytes} bytes");
    public static EndReason BadKernelDumpHeader(string problem) => new(EndKind.BadKernelDumpHeader, $"bad kernel dump header: {problem}");
    public static EndReason KeyIncomplete(string detail) => new(EndKind.KeyIncomplete, $"encryption key incomplete: {detail}");
    public static EndReason BadMemoryDescription(string problem) => new(EndKind.BadMemoryDescription, $"unusable memory description: {problem}");
    /// <summary>A FreeBSD client's write past <c>max_dump_size</c>.</summary>
    public static EndReason TooLargeWrite(ulong length, ulong offset, ulong max) =>
        new(EndKind.TooLarge, $"{WriteOf}{length} bytes at offset {offset} is beyond {MaxDumpSize} {max}");

    /// <summary>A Linux client's page past <c>max_dump_size</c>.</summary>
    public static EndReason TooLargePage(uint pfn, ulong offset, ulong max) =>
        new(EndKind.TooLarge, $"{PageAt}{pfn} at offset {offset} is beyond {MaxDumpSize} {max}");

    /// <summary>A Linux client whose whole core, as it described it, is past <c>max_dump_size</c>.</summary>
    public static EndReason TooLargeCore(long size, ulong max) =>
        new(EndKind.TooLarge, $"{CoreOf}{size} bytes is beyond {MaxDumpSize} {max}");

    /// <summary>A Linux client that answered a question about its memory with an error (the command by its name: "GetNrPages").</summary>
    public static EndReason AnsweredWithError(LinuxCommand command) => new(EndKind.NoMemoryDescription, $"{ClientAnswered}{command} with an error");

    /// <summary>A Linux client that never answered a question about its memory (the command by its name).</summary>
    public static EndReason NoAnswer(LinuxCommand command, int sends) => new(EndKind.NoMemoryDescription, $"{NoAnswerTo}{command} after {sends} requests");

    public static EndReason TooFragmented(string detail) => new(EndKind.TooFragmented, $"too fragmented: {detail}");

    /// <summary>A write into the core that failed.</summary>
    public static EndReason WriteFailed(ulong offset, string? error) => new(EndKind.WriteError, $"{WriteErrorText} at offset {offset}: {error}");

    /// <summary>A write other than the core's data (its header, the key, a rename) that failed; <paramref name="what"/> names it, if anything.</summary>
    public static EndReason WriteFailed(string? what, string? error) =>
        new(EndKind.WriteError, what is null ? $"{WriteErrorText}: {error}" : $"{WriteErrorText} on {what}: {error}");

    /// <summary>An fsync that failed: what was acked may not be on the disk.</summary>
    public static EndReason FsyncFailed(string error) => new(EndKind.WriteError, $"{FsyncFailedText}: {error}");

    public static EndReason ReceiveError(string problem) => new(EndKind.ReceiveError, $"receive error: {problem}");
    public static EndReason ServerStopped(string text) => new(EndKind.ServerStopped, text);

    /// <summary>The reason a report's text gives, by its words; <see cref="EndKind.Other"/> for words this server never writes.</summary>
    public static EndReason Parse(string text)
    {
        foreach (var (prefix, kind) in Prefixes)
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new EndReason(kind, text);
            }
        }

        return new EndReason(EndKind.Other, text);
    }

    private static readonly string MaxDumpSize = Configuration.ConfigKeys.MaxDumpSize.Name;
    private const string WriteOf = "write of ";
    private const string PageAt = "page ";
    private const string CoreOf = "the client's core of ";
    private const string ClientAnswered = "the client answered ";
    private const string NoAnswerTo = "no answer to ";
    private const string WriteErrorText = "write error";
    private const string FsyncFailedText = "fsync failed";

    /// <summary>How each text begins, longest first where one begins another.</summary>
    private static readonly (string Prefix, EndKind Kind)[] Prefixes =
    [
        (ClientTimedOut.Text, EndKind.ClientTimedOut),
        (ServerShutDown.Text, EndKind.ServerShutDown),
        (Superseded.Text, EndKind.Superseded),
        (NoSpace.Text, EndKind.NoSpace),
        ("holes:", EndKind.Holes),
        (NoKernelDumpHeader.Text, EndKind.NoKernelDumpHeader),
        ("bad kernel dump header", EndKind.BadKernelDumpHeader),
        ("encryption key incomplete", EndKind.KeyIncomplete),
        (NoMemoryDescription.Text, EndKind.NoMemoryDescription),
        ("unusable memory description", EndKind.BadMemoryDescription),
        (ClientAnswered, EndKind.NoMemoryDescription),
        (NoAnswerTo, EndKind.NoMemoryDescription),
        ("too fragmented", EndKind.TooFragmented),
        (WriteOf, EndKind.TooLarge),
        (PageAt, EndKind.TooLarge),
        (CoreOf, EndKind.TooLarge),
        (WriteErrorText, EndKind.WriteError),
        (FsyncFailedText, EndKind.WriteError),
        ("cannot write", EndKind.WriteError), // an earlier version's "cannot write the core's header"
        ("receive error", EndKind.ReceiveError),
        (WriterFailed.Text, EndKind.WriterFailed),
        (RecoveryScan.Reason, EndKind.ServerStopped),
        (TooManyDumps.Text, EndKind.TooManyDumps),
    ];

    public override string ToString() => Text;
}
