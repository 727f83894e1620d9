using Akka.Actor;

namespace Netdump.Actors;

/// <summary>
/// Props whose actor is made by a plain constructor call. Akka's <c>Props.Create&lt;T&gt;(args)</c>
/// looks the constructor up by reflection for every actor it makes, and
/// <c>Props.Create(() =&gt; new T(...))</c> compiles the expression into new code for every actor
/// (for a session, its writer and its script runner: more than the rest of the dump's start). A crash
/// storm makes hundreds of these actors at once, each before its dump's HERALD is acked
/// (docs/performance.md, "What the HERALD-to-ack is made of").
/// </summary>
internal static class ActorProps
{
    public static Props Of<T>(Func<T> create) where T : ActorBase => Props.CreateBy(new Producer<T>(create));

    private sealed class Producer<T>(Func<T> create) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);

        public ActorBase Produce() => create();

        public void Release(ActorBase actor)
        {
        }
    }
}
