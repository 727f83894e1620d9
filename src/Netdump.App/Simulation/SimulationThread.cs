namespace Netdump.App.Simulation;

/// <summary>
/// Where a simulated client runs: its own long-running thread, since it blocks on its socket
/// the way a crashed kernel polls its network card.
/// </summary>
internal static class SimulationThread
{
    public static Task<T> Run<T>(Func<T> run, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(run, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
