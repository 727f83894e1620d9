namespace Netdump.Actors.Scheduling;

/// <summary>How Linux schedules the server's threads (<c>cpu_scheduling</c>).</summary>
public enum CpuScheduling
{
    /// <summary><c>SCHED_BATCH</c> for every thread, from the start (the host's <c>BatchScheduling</c>).</summary>
    Batch,

    /// <summary>The policy the server was started with, untouched.</summary>
    Normal,
}
