using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Catalog;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;
using static Netdump.Actors.Catalog.CatalogProtocol;

namespace Netdump.Actors;

/// <summary>
/// Holds every dump under dumpdir (SPEC §9): built at start from the <c>dump.json</c> files the
/// recovery scan read, then kept current by the writers' <see cref="DumpChanged"/> and
/// <see cref="DumpProgress"/> and retention's <see cref="DumpsRemoved"/> on the event stream, so
/// that no question it answers walks the disk. Answers <see cref="QueryDumps"/>,
/// <see cref="GetDump"/>, <see cref="GetSessions"/> and <see cref="GetGroups"/>.
/// </summary>
public sealed class CatalogActor : ReceiveActor
{
    private readonly CatalogIndex _index = new();
    private readonly string _root;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public CatalogActor(NetdumpSettings settings, IReadOnlyList<CatalogEntry> initial)
    {
        _root = settings.DumpDirectory;
        foreach (var entry in initial)
        {
            _index.Put(entry);
        }

        Receive<DumpChanged>(changed => _index.Put(CatalogEntries.FromRecord(_root, changed.Record)));
        Receive<DumpProgress>(HandleProgress);
        Receive<DumpsRemoved>(removed =>
        {
            foreach (var directory in removed.Directories)
            {
                _index.Remove(DumpId.Of(_root, directory));
            }
        });
        Receive<QueryDumps>(q => Sender.Tell(_index.Query(q.Filter, q.Offset, q.Limit)));
        Receive<GetDump>(g => Sender.Tell(_index.Get(g.Id) is { } entry ? new DumpFound(entry) : DumpNotFound.Instance));
        Receive<GetSessions>(_ => Sender.Tell(new Sessions(_index.Receiving())));
        Receive<GetGroups>(_ => Sender.Tell(new Groups(_index.Groups.All())));
    }

    public static Props Props(NetdumpSettings settings, IReadOnlyList<CatalogEntry> initial) =>
        Akka.Actor.Props.Create<CatalogActor>(settings, initial);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe<DumpChanged>(Self);
        Context.System.EventStream.Subscribe<DumpProgress>(Self);
        Context.System.EventStream.Subscribe<DumpsRemoved>(Self);
        _log.Info("Catalog: {Dumps} dumps in {Groups} panic groups", _index.Count, _index.Groups.Count);
    }

    private void HandleProgress(DumpProgress progress)
    {
        // only a dump still receiving moves: a late tick must not undo its end
        if (_index.Get(DumpId.Of(_root, progress.Directory)) is { Status: DumpStatus.Receiving } entry)
        {
            _index.Put(entry with { BytesReceived = progress.BytesReceived, DumpLength = progress.Length ?? entry.DumpLength, Rate = progress.Rate });
        }
    }
}
