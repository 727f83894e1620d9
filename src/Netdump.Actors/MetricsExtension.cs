using Akka.Actor;
using Netdump.Actors.Metrics;

namespace Netdump.Actors;

/// <summary>
/// The actor system's <see cref="NetdumpMetrics"/>: one set per system, reached by every actor
/// through <see cref="For"/> and by the host's <c>/metrics</c> endpoint, without a static.
/// </summary>
public sealed class MetricsExtension : ExtensionIdProvider<MetricsExtension.Holder>
{
    public static NetdumpMetrics For(ActorSystem system) => system.WithExtension<Holder, MetricsExtension>().Metrics;

    public override Holder CreateExtension(ExtendedActorSystem system) => new(new NetdumpMetrics());

    /// <summary>The extension object Akka keeps for a system.</summary>
    public sealed class Holder(NetdumpMetrics metrics) : IExtension
    {
        public NetdumpMetrics Metrics { get; } = metrics;
    }
}
