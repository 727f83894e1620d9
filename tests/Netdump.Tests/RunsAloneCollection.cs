namespace Netdump.Tests;

/// <summary>
/// Tests that measure the whole process (its memory, threads and descriptors) or need the CPU
/// their time bounds assume: the million-datagram fuzz tests and the HERALD flood. They run
/// alone, after the parallel tests, so no other test's threads or sockets are counted.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAloneCollection
{
    public const string Name = "Runs alone";
}
