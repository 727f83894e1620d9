namespace Netdump.Actors.Storage;

/// <summary>
/// Lets long background work on the disk (compression at rest, decryption) step aside: its
/// owner closes the gate while dumps are being received, and the work waits at the gate between
/// chunks until it opens again: a low CPU priority alone still took a large share of a
/// receiving dump's speed on a small machine (docs/performance.md).
/// </summary>
public sealed class PauseGate : IDisposable
{
    private readonly ManualResetEventSlim _open = new(initialState: true);

    public void Open() => _open.Set();

    public void Close() => _open.Reset();

    /// <summary>Returns at once when open; otherwise waits until it opens or <paramref name="cancel"/> fires (then throws <see cref="OperationCanceledException"/>).</summary>
    public void Pass(CancellationToken cancel) => _open.Wait(cancel);

    public void Dispose() => _open.Dispose();
}
