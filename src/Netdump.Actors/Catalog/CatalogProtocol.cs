using Netdump.Actors.Storage;

namespace Netdump.Actors.Catalog;

/// <summary>
/// What the catalog hears and answers. The writers publish <see cref="DumpChanged"/> and
/// <see cref="DumpProgress"/> on the actor system's event stream, retention publishes
/// <see cref="DumpsRemoved"/>; whoever reads the catalog (the HTTP API) asks the
/// <see cref="CatalogActor"/> the queries. Another node's catalog could be fed the same events.
/// </summary>
public static class CatalogProtocol
{
    /// <summary>A dump's report changed (opened, header stored, ended, checksummed).</summary>
    public sealed record DumpChanged(DumpRecord Record);

    /// <summary>A receiving dump's progress, at most about once a second.</summary>
    public sealed record DumpProgress(string Directory, ulong BytesReceived, ulong? Length, ReceiveRate Rate);

    /// <summary>Dumps that are gone from disk (retention, or an empty refused dump removed).</summary>
    public sealed record DumpsRemoved(IReadOnlyList<string> Directories);

    /// <summary>Answered with a <see cref="DumpPage"/>.</summary>
    public sealed record QueryDumps(DumpFilter Filter, int Offset, int Limit);

    /// <summary>Answered with <see cref="DumpFound"/> or <see cref="DumpNotFound"/>.</summary>
    public sealed record GetDump(string Id);

    public sealed record DumpFound(CatalogEntry Entry);

    public sealed class DumpNotFound
    {
        public static readonly DumpNotFound Instance = new();
        private DumpNotFound() { }
    }

    /// <summary>Answered with <see cref="Sessions"/>: the dumps receiving now.</summary>
    public sealed class GetSessions
    {
        public static readonly GetSessions Instance = new();
        private GetSessions() { }
    }

    public sealed record Sessions(IReadOnlyList<CatalogEntry> Items);

    /// <summary>A page of the panic groups, the most recently seen first, each naming at most <paramref name="HostsListed"/> hosts; answered with <see cref="Groups"/>.</summary>
    public sealed record GetGroups(int Offset, int Limit, int HostsListed);

    /// <summary>The page of groups asked for, and how many there are.</summary>
    public sealed record Groups(int Total, IReadOnlyList<PanicGroupSummary> Items);
}
