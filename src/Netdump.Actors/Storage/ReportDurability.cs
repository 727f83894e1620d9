namespace Netdump.Actors.Storage;

/// <summary>How far a rewrite of a dump's reports (<see cref="DumpReport.Write"/>) is on disk when it returns.</summary>
public enum ReportDurability
{
    /// <summary>
    /// Not fsynced: a receiving dump's progress, which the durable final report follows anyway
    /// and the recovery scan rebuilds when it cannot read it.
    /// </summary>
    None,

    /// <summary>
    /// Each file fsynced before it is renamed into place, the directory not: after a crash the
    /// reports are either the new ones or the previous ones, never an empty or torn file. For
    /// an addition to reports that were already durable (a complete dump's SHA-256), where the
    /// previous version is still a true account of the dump.
    /// </summary>
    FilesOnly,

    /// <summary>Files and directory fsynced: the rename itself survives a crash (SPEC §3, before the FINISHED ack).</summary>
    Durable,
}
