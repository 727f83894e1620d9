namespace Netdump.Actors.Storage;

/// <summary>
/// The operator's retention keys (SPEC §10): how many dumps each client keeps, how old a dump
/// may grow, and how much all dumps together may hold. Null or 0 means no limit; with none set,
/// nothing is ever removed.
/// </summary>
/// <param name="KeepPerHost"><c>keep_per_host</c>: the newest this many finished dumps of each client IP stay; 0 = no limit.</param>
/// <param name="MaxAge"><c>max_age</c>: a dump received longer ago goes; null = no limit.</param>
/// <param name="MaxTotal"><c>max_total</c>: the dumps' bytes on disk above this go, oldest first; null = no limit.</param>
public sealed record RetentionPolicy(int KeepPerHost, TimeSpan? MaxAge, ulong? MaxTotal)
{
    /// <summary>
    /// No dump younger than this is ever removed, whatever the keys say: a crash storm's
    /// newest dumps are the ones being looked at, and a client that just dumped may still be
    /// rebooting into a second panic.
    /// </summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(1);

    public static readonly RetentionPolicy None = new(0, null, null);

    /// <summary>Whether any key is set (otherwise retention never runs).</summary>
    public bool IsActive => KeepPerHost > 0 || MaxAge is not null || MaxTotal is not null;
}
