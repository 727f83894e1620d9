using Akka.Actor;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>What the writer tells the catalog (on the event stream): each milestone's record, and the live progress at most once a <see cref="ProgressPublishInterval"/>.</summary>
public sealed partial class DumpWriterActor
{
    /// <summary>The longest a receiving dump's progress waits to reach the catalog: the views refresh about once a second.</summary>
    private static readonly TimeSpan ProgressPublishInterval = TimeSpan.FromSeconds(1);

    private TimeSpan? _progressPublishedAt;

    /// <summary>The dump's record as it stands, to the catalog.</summary>
    private void Publish(DumpRecord record) =>
        Context.System.EventStream.Publish(new CatalogProtocol.DumpChanged(record));

    /// <summary>A receiving dump's record after a milestone (opened, header, memory description).</summary>
    private void PublishReceiving() =>
        Publish(BuildRecord(DumpStatus.Receiving, reason: null, supersededBy: null, finishedAt: null) with { Rate = _progress.Rate });

    /// <summary>At a flush tick: the bytes and rates, when the last ones are old enough.</summary>
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
