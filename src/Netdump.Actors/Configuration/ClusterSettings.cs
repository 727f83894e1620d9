using System.Net;
using Akka.Configuration;

namespace Netdump.Actors.Configuration;

/// <summary>
/// A cluster of collectors behind one config (SPEC §8): this node's name and Akka port, the seed
/// nodes every node reads from the same conf file, and the fleet-wide limit with how long a node
/// waits for its answer. Null in <see cref="NetdumpSettings.Cluster"/> when <c>cluster = off</c>:
/// then no remoting is loaded at all.
/// </summary>
public sealed record ClusterSettings(
    string NodeName,
    string Host,
    int Port,
    IReadOnlyList<DnsEndPoint> Seeds,
    int FleetMaxConcurrentDumps,
    TimeSpan FleetGuardTimeout)
{
    /// <summary>The Akka address of a node of this fleet (every node's actor system has the same name).</summary>
    public static string AddressOf(string systemName, DnsEndPoint node) => $"akka.tcp://{systemName}@{node.Host}:{node.Port}";

    /// <summary>Whether a fleet-wide limit is set (<c>fleet_max_concurrent_dumps</c> above 0).</summary>
    public bool HasFleetLimit => FleetMaxConcurrentDumps > 0;

    /// <summary>
    /// Reads the <c>cluster*</c>, <c>node_name</c> and <c>fleet_*</c> keys of the <c>netdump</c>
    /// block; null when <c>cluster = off</c>. Every value is checked either way (the whole file
    /// is checked at every start: a bad line must not wait for the day the cluster is turned on);
    /// only the need for a seed comes with <c>cluster = on</c>. <paramref name="address"/> is
    /// <c>addr</c>: the node listens for its peers there too, and under the machine's host name
    /// when it is 0.0.0.0.
    /// </summary>
    public static ClusterSettings? Create(Config c, IPAddress address)
    {
        var on = c.GetBoolean(ConfigKeys.Cluster.Name, false);
        var port = c.GetInt(ConfigKeys.ClusterPort.Name);
        if (port is < 1 or > 65535)
        {
            throw ConfigKeys.ClusterPort.Invalid($"{port} is out of range 1-65535");
        }

        var seeds = new List<DnsEndPoint>();
        foreach (var item in c.GetString(ConfigKeys.ClusterSeeds.Name, "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = item.LastIndexOf(':');
            // a host name may be a DNS name, but one the resolver reads as an address must be a
            // dotted quad: "10.1:20090" would join 10.0.0.1
            if (colon <= 0 || !int.TryParse(item[(colon + 1)..], out var seedPort) || seedPort is < 1 or > 65535
                || DottedQuad.IsLooseAddress(item[..colon]))
            {
                throw ConfigKeys.ClusterSeeds.Invalid($"\"{item}\" is not host:port such as 192.0.2.10:20090");
            }

            seeds.Add(new DnsEndPoint(item[..colon], seedPort));
        }

        var name = c.GetString(ConfigKeys.NodeName.Name, "").Trim();
        if (name.Any(ch => char.IsWhiteSpace(ch) || ch is '~' or '/' or '"' or '\\'))
        {
            throw ConfigKeys.NodeName.Invalid($"\"{name}\" may not hold spaces, ~, /, \\ or quotes");
        }

        var fleetMax = c.GetInt(ConfigKeys.FleetMaxConcurrentDumps.Name, 0);
        if (fleetMax < 0)
        {
            throw ConfigKeys.FleetMaxConcurrentDumps.Invalid($"{fleetMax} must be 0 (no fleet limit) or more");
        }

        var timeout = c.GetTimeSpan(ConfigKeys.FleetGuardTimeout.Name);
        if (timeout <= TimeSpan.Zero)
        {
            throw ConfigKeys.FleetGuardTimeout.Invalid("must be positive");
        }

        if (!on)
        {
            return null;
        }

        if (seeds.Count == 0)
        {
            throw ConfigKeys.ClusterSeeds.Invalid("cluster = on needs at least one seed node (host:port, comma-separated; the same list on every node)");
        }

        var host = address.Equals(IPAddress.Any) ? Dns.GetHostName() : address.ToString();
        if (name.Length == 0)
        {
            // derived: the address and port are what makes a node unique on a network
            name = $"{host}:{port}";
        }

        return new ClusterSettings(name, host, port, seeds, fleetMax, timeout);
    }
}
