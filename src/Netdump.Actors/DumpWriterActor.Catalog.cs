using Akka.Actor;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>What the writer tells the catalog (on the event stream): the record after each milestone and the live progress, at a flush tick, at most once a <see cref="ProgressPublishInterval"/>; the final record at the end.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>The longest a receiving dump's progress waits to reach the catalog: the views refresh about once a second.</summary>
    private static readonly TimeSpan ProgressPublishInterval = TimeSpan.FromSeconds(1);

    private TimeSpan? _progressPublishedAt;

    /// <summary>A milestone the catalog has not heard yet: its next flush tick tells the whole record.</summary>
    private bool _milestoneUnpublished;

    /// <summary>The dump's record as it stands, to the catalog.</summary>
    private void Publish(DumpRecord record) =>
        Context.System.EventStream.Publish(new CatalogProtocol.DumpChanged(record));

    /// <summary>
    /// A receiving dump's milestone (opened, header, memory description): the catalog hears it
    /// with the next flush tick's progress, as the views refresh about once a second. Told at
    /// once, each milestone cost a small dump about 0.15 ms of CPU (the record built, the catalog
    /// woken to index it), and a dump that ends before its first tick is told only its end
    /// (docs/performance.md).
    /// </summary>
    private void PublishMilestone() => _milestoneUnpublished = true;

    /// <summary>At a flush tick: the record after a milestone, else the bytes and rates when the last ones are old enough.</summary>
    private void PublishProgress(ulong bytes, TimeSpan elapsed)
    {
        if (_milestoneUnpublished)
        {
            _milestoneUnpublished = false;
            _progressPublishedAt = elapsed;
            Publish(BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null) with { Rate = _progress.Rate });
            return;
        }

        if (_progressPublishedAt is { } last && elapsed - last < ProgressPublishInterval)
        {
            return;
        }

        _progressPublishedAt = elapsed;
        Context.System.EventStream.Publish(new CatalogProtocol.DumpProgress(_directory, bytes, ExpectedLength, _progress.Rate));
    }
}
