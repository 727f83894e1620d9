namespace Netdump.App.Simulation;

/// <summary>
/// The faults a simulated client's network adds, drawn from one seeded generator so that a run
/// is reproducible: a datagram lost (either way), a datagram sent twice, a burst shuffled.
/// A probability of 0 draws nothing, so a clean network leaves the sequence untouched.
/// </summary>
internal sealed class SimulatedNetwork(double loss, double duplicate, double reorder, int seed)
{
    private readonly Random random = new(seed);

    public bool Loses() => loss > 0 && random.NextDouble() < loss;

    public bool Duplicates() => duplicate > 0 && random.NextDouble() < duplicate;

    /// <summary>Shuffles the order a burst is sent in, with the reorder probability.</summary>
    public void MaybeShuffle(Span<int> order)
    {
        if (reorder > 0 && random.NextDouble() < reorder)
        {
            random.Shuffle(order);
        }
    }
}
