using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Netdump.Actors.Scheduling;

/// <summary>A message a client waits for (its ack follows the answer): the disk threads take its actor first.</summary>
public interface IClientWaits;

/// <summary>
/// The writers' mailbox (<c>netdump-writer-mailbox</c> in netdump.hocon): an unbounded queue
/// that counts the <see cref="IClientWaits"/> messages it holds, so that
/// <see cref="DiskThreads"/> can run a writer a client waits for before one with only flush
/// ticks. In a crash storm of equal clients the dumps' ends come in the same second as the
/// others' ticks, and a FINISHED's ack waited for a disk thread, not for the disk
/// (docs/performance.md).
/// </summary>
public sealed class ClientWaitsMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<ClientWaitsQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new ClientWaitsQueue();
}

/// <summary>The queue of <see cref="ClientWaitsMailbox"/>.</summary>
public sealed class ClientWaitsQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly ConcurrentQueue<Envelope> _queue = new();
    private int _waiting;

    /// <summary>Whether a message a client waits for is queued.</summary>
    public bool ClientWaits => Volatile.Read(ref _waiting) > 0;

    public bool HasMessages => !_queue.IsEmpty;

    public int Count => _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (envelope.Message is IClientWaits)
        {
            Interlocked.Increment(ref _waiting);
        }

        _queue.Enqueue(envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (!_queue.TryDequeue(out envelope))
        {
            return false;
        }

        if (envelope.Message is IClientWaits)
        {
            Interlocked.Decrement(ref _waiting);
        }

        return true;
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }
}
