namespace Netdump.Tests.Fuzzing;

/// <summary>
/// The million-datagram fuzz tests run alone, after the parallel tests: they measure the whole
/// process's memory (GC.GetTotalMemory, the working set) and need the CPU their time bounds assume.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzingCollection
{
    public const string Name = "Fuzzing (alone)";
}
