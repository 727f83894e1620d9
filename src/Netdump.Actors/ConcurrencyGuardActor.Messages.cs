using System.Net;
using Akka.Actor;

namespace Netdump.Actors;

/// <summary>What sessions, the listener and the fleet guard tell the concurrency guard, and its answers.</summary>
public sealed partial class ConcurrencyGuardActor
{
    /// <summary>
    /// From a session: may its client dump? Answered with <see cref="SlotGranted"/> or
    /// <see cref="SlotRefused"/>, at once or after waiting in line. A session that supersedes
    /// another takes over its slot.
    /// </summary>
    public sealed record RequestSlot(IPAddress Client, IActorRef? Supersedes = null);

    /// <summary>On the event stream, whenever it changes: how many dumps hold a slot (are being received).</summary>
    public sealed record SlotsInUse(int Count);

    public sealed class SlotGranted
    {
        public static readonly SlotGranted Instance = new();
        private SlotGranted() { }
    }

    public sealed class SlotRefused
    {
        public static readonly SlotRefused Instance = new();
        private SlotRefused() { }
    }

    /// <summary>From a session holding a slot: its HERALD was acked (its silence counts from now).</summary>
    public sealed class SlotAcked
    {
        public static readonly SlotAcked Instance = new();
        private SlotAcked() { }
    }

    /// <summary>From a session holding a slot: its client sent something besides the HERALD.</summary>
    public sealed class SlotActive
    {
        public static readonly SlotActive Instance = new();
        private SlotActive() { }
    }

    /// <summary>
    /// To a silent holder, when a client waits: give the slot up if nothing has arrived yet.
    /// Answered with <see cref="SlotYielded"/> (its dump is gone, its pump will accept nothing)
    /// or <see cref="SlotKept"/>.
    /// </summary>
    public sealed class YieldSlot
    {
        public static readonly YieldSlot Instance = new();
        private YieldSlot() { }
    }

    public sealed class SlotYielded
    {
        public static readonly SlotYielded Instance = new();
        private SlotYielded() { }
    }

    public sealed class SlotKept
    {
        public static readonly SlotKept Instance = new();
        private SlotKept() { }
    }

    /// <summary>
    /// From a session that was granted a slot but cannot use it (no session port): the slot
    /// goes back, and the refusal is logged and counted under its reason once per episode like
    /// any other.
    /// </summary>
    public sealed record SlotUnusable(IPAddress Client, Metrics.RefusalReason Reason, string Why);

    /// <summary>From a session: its dump stopped receiving (a lingering session holds no slot).</summary>
    public sealed class ReleaseSlot
    {
        public static readonly ReleaseSlot Instance = new();
        private ReleaseSlot() { }
    }

    /// <summary>To a session during a recount: answer <see cref="SlotHeld"/> or <see cref="NoSlot"/>.</summary>
    public sealed class ConfirmSlot
    {
        public static readonly ConfirmSlot Instance = new();
        private ConfirmSlot() { }
    }

    /// <summary>A session's answer to a recount: it holds a slot; acked or not, active or silent.</summary>
    public sealed record SlotHeld(IPAddress Client, bool Active, bool Acked = false);

    public sealed class NoSlot
    {
        public static readonly NoSlot Instance = new();
        private NoSlot() { }
    }

    /// <summary>Asks for the clients holding slots, answered with <see cref="Slots"/>.</summary>
    public sealed class GetSlots
    {
        public static readonly GetSlots Instance = new();
        private GetSlots() { }
    }

    public sealed record Slots(IReadOnlyList<IPAddress> Clients, int Silent, int Waiting = 0);

    /// <summary>A second after a refusal went unlogged: the count of those still unnamed.</summary>
    private sealed class RefusalSummary
    {
        public static readonly RefusalSummary Instance = new();
        private RefusalSummary() { }
    }

    private sealed class Serve
    {
        public static readonly Serve Instance = new();
        private Serve() { }
    }
}
