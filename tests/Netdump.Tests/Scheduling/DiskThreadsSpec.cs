using Akka.Actor;
using Akka.Dispatch;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scheduling;
using Xunit.Abstractions;

namespace Netdump.Tests.Scheduling;

/// <summary>The disk dispatcher netdump.hocon gives the writers: threads of its own, apart from the control actors' pool.</summary>
public sealed class DiskThreadsSpec(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(NetdumpSettings.BuiltInConfig(), output: output)
{
    private sealed class Blocking : ReceiveActor
    {
        public Blocking(ManualResetEventSlim gate)
        {
            Receive<string>(_ =>
            {
                Sender.Tell(Thread.CurrentThread.Name ?? "");
                gate.Wait(TimeSpan.FromSeconds(20)); // a write stuck in fsync
            });
        }
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    [Fact]
    public void Actors_on_the_disk_dispatcher_run_on_its_own_threads_and_blocking_them_all_leaves_the_control_actors_running()
    {
        using var gate = new ManualResetEventSlim();
        try
        {
            var threads = new HashSet<string>();
            for (var i = 0; i < 4; i++)
            {
                Sys.ActorOf(Props.Create(() => new Blocking(gate)).WithDispatcher(DumpWriterActor.DispatcherId)).Tell("block", TestActor);
                threads.Add(ExpectMsg<string>());
            }

            // every disk thread is blocked, each in its own actor
            Assert.Equal(4, threads.Count);
            Assert.All(threads, name => Assert.StartsWith("disk-", name));

            // a control actor on the default dispatcher still answers at once
            var echo = Sys.ActorOf(Props.Create(() => new Echo()));
            echo.Tell("still here", TestActor);
            ExpectMsg("still here");
        }
        finally
        {
            gate.Set();
        }
    }

    private sealed record ClientWaiting : IClientWaits;

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(string name, System.Collections.Concurrent.ConcurrentQueue<string> ran)
        {
            Receive<Identify>(i => Sender.Tell(new ActorIdentity(i.MessageId, Self)));
            ReceiveAny(_ => ran.Enqueue(name));
        }
    }

    [Fact]
    public void A_writer_a_client_waits_for_runs_before_writers_queued_earlier_with_only_ticks()
    {
        // two writers, started (each answered) before the disk threads are all blocked, so that
        // what is told them below goes straight into their mailboxes
        var ran = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var ticking = Started("ticking");
        var waitedFor = Started("waited-for");
        var gates = Enumerable.Range(0, 4).Select(_ => new ManualResetEventSlim()).ToArray();
        try
        {
            foreach (var gate in gates)
            {
                Sys.ActorOf(Props.Create(() => new Blocking(gate)).WithDispatcher(DumpWriterActor.DispatcherId)).Tell("block", TestActor);
                ExpectMsg<string>();
            }

            ticking.Tell("tick");
            waitedFor.Tell(new ClientWaiting());

            gates[0].Set(); // one thread free: it takes the waited-for writer first
            AwaitCondition(() => ran.Count == 2, TimeSpan.FromSeconds(10));
            Assert.Equal(["waited-for", "ticking"], ran.ToArray());
        }
        finally
        {
            foreach (var gate in gates)
            {
                gate.Set();
            }
        }

        IActorRef Started(string name)
        {
            var writer = Sys.ActorOf(Props.Create(() => new Recorder(name, ran))
                .WithDispatcher(DumpWriterActor.DispatcherId).WithMailbox(DumpWriterActor.MailboxId));
            writer.Tell(new Identify(name), TestActor);
            ExpectMsg<ActorIdentity>();
            return writer;
        }
    }

    [Fact]
    public void Runs_queued_while_every_thread_is_busy_run_in_order_once_one_is_free()
    {
        var executor = new DiskThreads("test", threads: 1);
        using var gate = new ManualResetEventSlim();
        var order = new List<int>();
        using var done = new CountdownEvent(3);
        executor.Execute(new ActionRunnable(() => gate.Wait()));
        for (var i = 0; i < 3; i++)
        {
            var n = i;
            executor.Execute(new ActionRunnable(() =>
            {
                order.Add(n);
                done.Signal();
            }));
        }

        Assert.Empty(order);
        gate.Set();
        Assert.True(done.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal([0, 1, 2], order);
        executor.Shutdown();
    }

    private sealed class Runnable(Action action) : IRunnable
    {
        public void Run() => action();

#if NET6_0_OR_GREATER
        public void Execute() => action();
#endif
    }

    [Fact]
    public void Work_queued_before_a_shutdown_runs_and_work_after_it_is_refused()
    {
        var threads = new DiskThreads("test-disk", 1);
        using var ran = new CountdownEvent(2);
        threads.Execute(new Runnable(() => ran.Signal()));
        threads.Execute(new Runnable(() => ran.Signal()));
        threads.Shutdown();

        Assert.True(ran.Wait(TimeSpan.FromSeconds(10)));
        Assert.Throws<RejectedExecutionException>(() => threads.Execute(new Runnable(() => { })));
    }
}
