namespace Netdump.Actors.Ingest;

/// <summary>
/// Where a receive thread sends what it cannot decide itself (a HERALD, a control packet, a
/// failed write): the owning actor's mailbox, given as a delegate so that Ingest/ knows nothing
/// of Akka. Safe to call from any thread.
/// </summary>
public delegate void ControlEvents(object message);
