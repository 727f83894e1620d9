namespace Netdump.Actors.Storage;

/// <summary>What the server does to a complete dump's core once it is stored (<c>compress</c>, SPEC §10).</summary>
public enum AtRestCompression
{
    /// <summary>The core stays as it arrived.</summary>
    Off,

    /// <summary>A core that arrived uncompressed and unencrypted is rewritten as <c>vmcore.zst</c>.</summary>
    Zstd,
}
