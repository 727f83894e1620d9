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
    public static EndReason TooLarge(string detail) => new(EndKind.TooLarge, detail);

    /// <summary>A Linux client that could not say its memory's size (<paramref name="problem"/> says why).</summary>
    public static EndReason Undescribed(string problem) => new(EndKind.NoMemoryDescription, problem);
    public static EndReason TooFragmented(string detail) => new(EndKind.TooFragmented, $"too fragmented: {detail}");

    /// <summary>A write, fsync or rename that failed; <paramref name="text"/> says which (<c>write error: ...</c>, <c>fsync failed: ...</c>).</summary>
    public static EndReason WriteError(string text) => new(EndKind.WriteError, text);
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
        ("the client answered ", EndKind.NoMemoryDescription),
        ("no answer to ", EndKind.NoMemoryDescription),
        ("too fragmented", EndKind.TooFragmented),
        ("write of ", EndKind.TooLarge),
        ("page ", EndKind.TooLarge),
        ("the client's core of ", EndKind.TooLarge),
        ("write error", EndKind.WriteError),
        ("fsync failed", EndKind.WriteError),
        ("cannot write", EndKind.WriteError),
        ("receive error", EndKind.ReceiveError),
        (WriterFailed.Text, EndKind.WriterFailed),
        (RecoveryScan.Reason, EndKind.ServerStopped),
        (TooManyDumps.Text, EndKind.TooManyDumps),
    ];

    public override string ToString() => Text;
}
