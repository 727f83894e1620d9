using Netdump.Actors.Storage;

namespace Netdump.Actors.Catalog;

/// <summary>
/// Which dumps a listing wants (SPEC §9): from one host (its KDH host name or its client
/// address, compared without case), in one of some statuses, received at or after a time, in
/// one panic group. A null part does not filter.
/// </summary>
public sealed record DumpFilter(string? Host = null, IReadOnlySet<DumpStatus>? Statuses = null, DateTimeOffset? Since = null, string? Group = null)
{
    public static DumpFilter All { get; } = new();

    public bool Matches(CatalogEntry e) =>
        (Host is null || string.Equals(e.Host, Host, StringComparison.OrdinalIgnoreCase) || e.ClientIp == Host)
        && (Statuses is null || Statuses.Contains(e.Status))
        && (Since is null || e.ReceivedAt >= Since)
        && (Group is null || e.Group == Group);
}

/// <summary>One page of a listing, newest first: the <paramref name="Total"/> that match, and those from <paramref name="Offset"/> on.</summary>
public sealed record DumpPage(int Total, int Offset, int Limit, IReadOnlyList<CatalogEntry> Items);
