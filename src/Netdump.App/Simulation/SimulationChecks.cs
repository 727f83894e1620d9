using System.Net;
using System.Net.Sockets;

namespace Netdump.App.Simulation;

/// <summary>
/// The checks both simulated clients (FreeBSD and Linux) make of the options they share: the
/// server and source addresses, the fault probabilities and the resend bound. Each throws
/// <see cref="ArgumentException"/> with a one-line message.
/// </summary>
internal static class SimulationChecks
{
    public static void Endpoints(IPEndPoint server, IPAddress source, int sourcePort)
    {
        if (server.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"server {server.Address} is not IPv4 (netdump is IPv4 only)");
        }

        if (server.Port is < 1 or > 65535)
        {
            throw new ArgumentException($"server port {server.Port} is not 1-65535");
        }

        if (source.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"source {source} is not IPv4 (netdump is IPv4 only)");
        }

        if (sourcePort is < 0 or > 65535)
        {
            throw new ArgumentException($"source port {sourcePort} is not 0-65535");
        }
    }

    public static void Faults(double loss, double duplicate, double reorder)
    {
        Probability("loss", loss);
        Probability("duplicate", duplicate);
        Probability("reorder", reorder);
    }

    public static void Resend(TimeSpan resendAfter, int maxSends)
    {
        if (resendAfter <= TimeSpan.Zero)
        {
            throw new ArgumentException($"resend interval {resendAfter} is not positive");
        }

        if (maxSends < 1)
        {
            throw new ArgumentException($"max sends {maxSends} is below 1");
        }
    }

    private static void Probability(string name, double value)
    {
        if (!(value is >= 0 and <= 1))
        {
            throw new ArgumentException($"{name} {value} is not a probability (0..1)");
        }
    }
}
