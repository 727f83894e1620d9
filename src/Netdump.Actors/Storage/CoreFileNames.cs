using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>
/// The names a dump's core (and an encrypted core's key) can have (SPEC §3; FreeBSD's, so that decryptcore and savecore's
/// habits work): one home for the writer that gives them, the scans that look for them, and the
/// aftercare that adds <c>vmcore.zst</c> or a decrypted core.
/// </summary>
public static class CoreFileNames
{
    /// <summary>While receiving, and for good when the dump is not complete.</summary>
    public const string Incomplete = "vmcore-incomplete";

    public const string Plain = "vmcore";

    public const string Encrypted = "vmcore_encrypted";

    /// <summary>The client's encryption key of an encrypted dump (EKCD), beside its core.</summary>
    public const string Key = "key";

    /// <summary>A core the server compressed at rest.</summary>
    public const string CompressedAtRest = Plain + ".zst";

    /// <summary>Every name, in the order a scan looks for them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Incomplete,
        Plain, WithCompression(Plain, DumpCompression.Gzip), WithCompression(Plain, DumpCompression.Zstd),
        Encrypted, WithCompression(Encrypted, DumpCompression.Gzip), WithCompression(Encrypted, DumpCompression.Zstd),
    ];

    /// <summary>The compression a core's name says the client used (<c>.gz</c>, <c>.zst</c>); none for any other name.</summary>
    public static DumpCompression CompressionOf(string name) =>
        Enum.GetValues<DumpCompression>().FirstOrDefault(c => c != DumpCompression.None && name.EndsWith(WithCompression("", c), StringComparison.Ordinal));

    /// <summary><paramref name="name"/> with the suffix of the compression the client used (<c>.gz</c>, <c>.zst</c>).</summary>
    public static string WithCompression(string name, DumpCompression compression) => compression switch
    {
        DumpCompression.Gzip => name + ".gz",
        DumpCompression.Zstd => name + ".zst",
        _ => name,
    };
}
