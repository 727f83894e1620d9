namespace Netdump.Tests;

/// <summary>A clock the test sets: time is injected, never slept for.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
