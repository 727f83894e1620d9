using System.CommandLine;

namespace Netdump.App.Simulation;

/// <summary>Placeholder until the simulated client lands (owned by the simulation work).</summary>
public static class SimulateCommand
{
    public static Command Create() => new("simulate", "behave like a crashing FreeBSD client");
}
