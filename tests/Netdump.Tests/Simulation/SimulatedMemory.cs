using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

/// <summary>A simulated kernel's whole memory, before compression and encryption (the small dumps of the tests fit in an array).</summary>
internal static class SimulatedMemory
{
    /// <summary>The memory <paramref name="client"/> dumps: its seed's pattern, its size.</summary>
    public static byte[] Of(SimulatedClient client) => Generate(client.Options.Seed, client.Options.Size);

    /// <summary>The first <paramref name="size"/> bytes of the memory of <paramref name="seed"/>.</summary>
    public static byte[] Generate(int seed, long size)
    {
        var memory = new byte[checked((int)size)];
        MemoryPattern.Fill(seed, 0, memory);
        return memory;
    }
}
