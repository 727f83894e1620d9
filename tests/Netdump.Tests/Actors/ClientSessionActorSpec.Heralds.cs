using System.Net;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Ingest;
using Netdump.Actors.Scripts;
using Netdump.Actors.Storage;
using static Netdump.Tests.Actors.FakeSessionChannel;

namespace Netdump.Tests.Actors;

/// <summary>HERALDs again: retransmissions, late ones, and a new dump that supersedes this one.</summary>
public sealed partial class ClientSessionActorSpec
{
    [Fact]
    public async Task Session_reacks_a_retransmitted_herald_while_no_data_has_arrived()
    {
        var session = await StartReceiving();

        session.Tell(HeraldFromClient());
        await _acks.ExpectMsgAsync(new AckSent(1));

        session.Tell(new PumpEvent.HeraldRetransmitted(1, DateTimeOffset.UtcNow)); // on the session socket
        await _acks.ExpectMsgAsync(new AckSent(1));

        await ExpectNoMsgAsync(Quiet); // the parent is not asked to supersede a retransmission
    }

    /// <summary>
    /// The session socket is connected to the first HERALD's source, so it can neither ack nor
    /// hear another port of the same client: a HERALD from there is a new dump, even before data.
    /// </summary>
    [Fact]
    public async Task Session_gives_way_to_a_herald_from_another_port_of_its_client()
    {
        var session = await StartReceiving();
        var fromAnotherPort = HeraldFromClient() with { Client = new IPEndPoint(Client.Address, 20025) };

        session.Tell(fromAnotherPort);
        session.Tell(fromAnotherPort);

        Assert.Equal(fromAnotherPort, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        await ExpectNoMsgAsync(Quiet); // asked once
        await _acks.ExpectNoMsgAsync(Quiet); // never acked from this socket
    }

    [Fact]
    public async Task Session_asks_its_parent_exactly_once_to_supersede_it_when_heralds_follow_data()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var second = HeraldFromClient() with { ReceivedAt = ReceivedAt.AddSeconds(40) };

        session.Tell(second);
        session.Tell(HeraldFromClient());
        session.Tell(new PumpEvent.HeraldRetransmitted(1, ReceivedAt.AddSeconds(41)));

        Assert.Equal(second, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        await ExpectNoMsgAsync(Quiet);
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero); // the dump goes on until the new one exists
    }

    /// <summary>
    /// A HERALD retransmitted before the client had the session's ack, and handled by the
    /// session only after the dump's first data (the listener was busy with a mass panic), is
    /// no new dump: found when 64 clients at once lost dumps that such a HERALD had replaced.
    /// </summary>
    [Theory]
    [InlineData(-0.5)]
    [InlineData(0.5)]
    [InlineData(9.5)]
    public async Task Session_ignores_a_herald_received_before_or_soon_after_its_first_data(double secondsAfterFirstData)
    {
        var session = await StartReceiving();
        var firstData = ReceivedAt.AddSeconds(1);
        Channel.FirstDataAt = firstData;

        session.Tell(HeraldFromClient() with { ReceivedAt = firstData.AddSeconds(secondsAfterFirstData) });

        await ExpectNoMsgAsync(Quiet); // no Supersede
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero);
        Assert.False(Channel.Disposed);

        session.Tell(HeraldFromClient() with { ReceivedAt = firstData + _settings.HeraldRetransmitWindow });
        Assert.NotNull(await ExpectMsgAsync<UdpListenerActor.Supersede>());
    }

    [Fact]
    public async Task Session_dates_a_new_dump_heralded_on_its_own_socket_by_that_heralds_arrival()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var arrived = ReceivedAt.AddMinutes(5);

        session.Tell(new PumpEvent.HeraldRetransmitted(1, arrived));

        var herald = (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald;
        Assert.Equal(Client, herald.Client);
        Assert.Equal(arrived, herald.ReceivedAt); // not the arrival of the HERALD of the dump it replaces
    }

    [Fact]
    public async Task Session_ignores_a_herald_its_pump_read_before_the_first_data_even_when_handled_later()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);

        session.Tell(new PumpEvent.HeraldRetransmitted(1, ReceivedAt.AddSeconds(0.9)));

        await ExpectNoMsgAsync(Quiet); // no Supersede
        await _acks.ExpectNoMsgAsync(TimeSpan.Zero);
    }

    [Fact]
    public async Task Session_ends_a_superseded_dump_as_incomplete_and_stops_without_acking()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var watcher = WatcherOf(session);
        const string newDump = "/var/crash/127.0.0.9-2024-03-09-13:05:47";

        session.Tell(new ClientSessionActor.SupersededBy(newDump));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("superseded"), newDump));
        Assert.True(Channel.Disposed);
        _writer.Reply(Finalized("superseded"));
        WriterStops();
        await ExpectMsgAsync(new UdpListenerActor.ReceivingEnded(Client.Address));
        await watcher.ExpectTerminatedAsync(session);
        await _acks.ExpectNoMsgAsync(Quiet);
    }

    /// <summary>
    /// A client that starts over from a new port before sending data (seen when a HERALD flood
    /// repeated its sources) leaves one dump, not a trail of empty "superseded" ones.
    /// </summary>
    [Fact]
    public async Task Session_superseded_before_any_data_removes_its_empty_dump_and_stops()
    {
        var session = await StartReceiving();
        var watcher = WatcherOf(session);

        session.Tell(new ClientSessionActor.SupersededBy("/var/crash/127.0.0.9-2024-03-09-13:05:47"));

        await _writer.ExpectMsgAsync<DumpWriterActor.Discard>();
        Assert.True(Channel.Disposed);
        _writer.Reply(DumpWriterActor.Discarded.Instance);
        await watcher.ExpectTerminatedAsync(session);
        Assert.Contains(_guardMessages, m => m is ConcurrencyGuardActor.ReleaseSlot);
        Assert.DoesNotContain(_scriptRuns, r => r.Name == ScriptNames.Reboot);
        await _acks.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_superseded_while_its_first_data_arrives_keeps_that_data_as_a_superseded_dump()
    {
        var session = await StartReceiving();
        const string newDump = "/var/crash/127.0.0.9-2024-03-09-13:05:47";
        Channel.BeforeRetiring = () => Channel.FirstDataAt = ReceivedAt.AddSeconds(1); // acked before the pump could be retired

        session.Tell(new ClientSessionActor.SupersededBy(newDump));

        await _writer.ExpectMsgAsync(new DumpWriterActor.EndNow(EndReason.Parse("superseded"), newDump));
    }

    [Fact]
    public async Task Session_tells_the_dump_it_supersedes_its_directory_once_opened()
    {
        var supersedes = CreateTestProbe("previous-session");
        await StartSession(supersedes: supersedes.Ref);

        await supersedes.ExpectNoMsgAsync(Quiet);
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));

        await supersedes.ExpectMsgAsync(new ClientSessionActor.SupersededBy(_dumpDir));
    }

    [Fact]
    public async Task Session_that_was_to_supersede_a_dump_and_ends_before_its_ack_tells_that_dump_it_receives_on()
    {
        var supersedes = CreateTestProbe("previous-session");
        var session = await StartSession(supersedes: supersedes.Ref);
        var watcher = WatcherOf(session);

        _writer.Reply(new DumpWriterActor.OpenFailed("permission denied"));

        await watcher.ExpectTerminatedAsync(session);
        await supersedes.ExpectMsgAsync(new ClientSessionActor.SupersedeAbandoned(session));
    }

    [Fact]
    public async Task Session_that_superseded_a_dump_tells_it_only_that_it_was_superseded_when_it_ends()
    {
        var supersedes = CreateTestProbe("previous-session");
        var session = await StartSession(supersedes: supersedes.Ref);
        _writer.Reply(new DumpWriterActor.Opened(_dumpDir, _core));
        await supersedes.ExpectMsgAsync(new ClientSessionActor.SupersededBy(_dumpDir));
        var watcher = WatcherOf(session);

        Sys.Stop(session);

        await watcher.ExpectTerminatedAsync(session);
        await supersedes.ExpectNoMsgAsync(Quiet);
    }

    [Fact]
    public async Task Session_whose_replacement_ended_before_its_ack_tells_its_parent_it_still_receives_and_may_be_superseded_again()
    {
        var session = await StartReceiving();
        Channel.FirstDataAt = ReceivedAt.AddSeconds(1);
        var second = HeraldFromClient() with { ReceivedAt = ReceivedAt.AddSeconds(40) };
        session.Tell(second);
        Assert.Equal(second, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        var replacement = CreateTestProbe("replacement").Ref;

        session.Tell(new ClientSessionActor.SupersedeAbandoned(replacement));

        await ExpectMsgAsync(new UdpListenerActor.StillReceiving(Client.Address, replacement));
        var third = HeraldFromClient() with { ReceivedAt = ReceivedAt.AddSeconds(45) };
        session.Tell(third);
        Assert.Equal(third, (await ExpectMsgAsync<UdpListenerActor.Supersede>()).Herald);
        await _writer.ExpectNoMsgAsync(TimeSpan.Zero); // the dump went on throughout
    }
}
