namespace Netdump.Actors.Storage;

/// <summary>
/// What storage care does to a complete dump besides a SHA-256 an earlier run did not write
/// (SPEC §10), as the settings ask (<see cref="Configuration.NetdumpSettings.CareSteps"/>).
/// </summary>
[Flags]
public enum CareSteps
{
    /// <summary>Neither <c>decrypt_key</c> nor <c>compress</c>: a missing checksum is all it does.</summary>
    None = 0,

    /// <summary><c>decrypt_key</c> is set: an encrypted core gets a plain one (<see cref="CoreDecryption"/>).</summary>
    Decrypt = 1,

    /// <summary><c>compress = zstd</c>: a plain core is compressed at rest (<see cref="CoreCompression"/>).</summary>
    Compress = 2,
}
