using Akka.Actor;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>What the writer tells the catalog (on the event stream): at a flush tick, the record its receiving report says or else the live progress, at most once a <see cref="ProgressPublishInterval"/>; the final record at the end.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>The longest a receiving dump's progress waits to reach the catalog: the views refresh about once a second.</summary>
    private static readonly TimeSpan ProgressPublishInterval = TimeSpan.FromSeconds(1);

    private TimeSpan? _progressPublishedAt;

    /// <summary>The dump's record as it stands, to the catalog.</summary>
    private void Publish(DumpRecord record) =>
        Context.System.EventStream.Publish(new CatalogProtocol.DumpChanged(record));

    /// <summary>
    /// A receiving dump's record, as its receiving report is written (at a flush tick, after its
    /// open, its KDH or its memory description, and now and then as bytes arrive): the catalog
    /// hears what <c>dump.json</c> says, and hears it too when that write fails. Told at each milestone instead, a small dump paid about
    /// 0.15 ms of CPU each time (the record built, the catalog woken to index it), and a dump that
    /// ends before its first tick is told only its end (docs/performance.md).
    /// </summary>
    private void PublishReceiving(DumpRecord record, TimeSpan elapsed)
    {
        _progressPublishedAt = elapsed;
        Publish(record);
    }

    /// <summary>At a flush tick without a receiving report: the bytes and rates, when the last ones are old enough.</summary>
    private void PublishProgress(ulong bytes, TimeSpan elapsed)
    {
        if (_progressPublishedAt is { } last && elapsed - last < ProgressPublishInterval)
        {
            return;
        }

        _progressPublishedAt = elapsed;
        Context.System.EventStream.Publish(new CatalogProtocol.DumpProgress(_directory, bytes, ExpectedLength, _progress.Rate));
    }
}
