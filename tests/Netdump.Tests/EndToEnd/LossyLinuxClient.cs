using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>What a test may ask of a Linux client on a lossy network once it has sent its memory.</summary>
internal static class LossyLinuxClient
{
    /// <summary>
    /// The client sent its memory. How it ended is the network's: each of the server's three
    /// COMM_REBOOTs is lost at the client's loss rate, and a client that misses all three (at
    /// 30 %, 0.3³: about one run in 37) waits out its silence instead of rebooting. The dump is
    /// on the server either way, which is what the callers then check.
    /// </summary>
    public static void AssertDumped(LinuxSimulationResult result) =>
        Assert.True(result.End is LinuxClientEnd.Rebooted or LinuxClientEnd.ServerSilent, $"{result.End}: {result.Error}");
}
