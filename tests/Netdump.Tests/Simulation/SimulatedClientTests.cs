using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;
using Xunit.Abstractions;

namespace Netdump.Tests.Simulation;

public sealed class SimulatedClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    // Long enough that a busy test machine never causes a spurious resend; tests of resending set their own.
    private static SimulationOptions Options(AckingPeer peer, long size = 256 * 1024) => new()
    {
        Server = peer.ListenEndPoint,
        Size = size,
        ResendAfter = TimeSpan.FromMilliseconds(500),
    };

    private static async Task<SimulationResult> Run(SimulatedClient client)
    {
        var result = await client.RunAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return result;
    }

    /// <summary>The message kinds in seqno order, consecutive repeats collapsed.</summary>
    private static List<MessageType> Order(IEnumerable<AckingPeer.Packet> packets)
    {
        var order = new List<MessageType>();
        foreach (var packet in packets.OrderBy(p => p.Header.Sequence))
        {
            if (order.Count == 0 || order[^1] != packet.Header.Type)
            {
                order.Add(packet.Header.Type);
            }
        }

        return order;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Client_sends_messages_in_the_order_of_its_release(bool freeBsd12, bool encrypt)
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer) with { FreeBsd12 = freeBsd12, Encrypt = encrypt });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        MessageType[] expected = (freeBsd12, encrypt) switch
        {
            (false, false) => [MessageType.Herald, MessageType.Vmcore, MessageType.Kdh, MessageType.Finished],
            (false, true) => [MessageType.Herald, MessageType.EkcdKey, MessageType.Vmcore, MessageType.Kdh, MessageType.Finished],
            (true, false) => [MessageType.Herald, MessageType.Vmcore, MessageType.Kdh, MessageType.Finished],
            (true, true) => [MessageType.Herald, MessageType.Vmcore, MessageType.Kdh, MessageType.EkcdKey, MessageType.Finished],
        };
        Assert.Equal(expected, Order(peer.Packets));
        var packets = peer.Packets;
        Assert.All(packets, p => Assert.Equal(0u, p.Header.Aux2));
        var herald = Assert.Single(packets, p => p.Header.Type == MessageType.Herald);
        Assert.Equal(1u, herald.Header.Sequence);
        Assert.Equal(0ul, herald.Header.Offset);
        Assert.Empty(herald.Payload);
        var kdh = Assert.Single(packets, p => p.Header.Type == MessageType.Kdh);
        Assert.Equal((0ul, 512u), (kdh.Header.Offset, kdh.Header.Length));
        var finished = Assert.Single(packets, p => p.Header.Type == MessageType.Finished);
        Assert.Equal(0u, finished.Header.Length);
        Assert.Equal(encrypt ? client.Key.ToArray() : [], peer.Reassemble(MessageType.EkcdKey));
    }

    [Fact]
    public async Task Herald_carries_the_nul_terminated_path()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 4096) with { Path = "fleet/web" });

        Assert.True((await Run(client)).Success);

        var herald = Assert.Single(peer.Packets, p => p.Header.Type == MessageType.Herald);
        Assert.Equal("fleet/web\0"u8.ToArray(), herald.Payload);
    }

    [Theory]
    [InlineData(1500, false, 1448)]
    [InlineData(9000, false, 8948)]
    [InlineData(9000, true, 4096)]
    [InlineData(1500, true, 1448)]
    public async Task Payloads_are_as_large_as_the_release_allows(int mtu, bool freeBsd12, int payload)
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer) with { Mtu = mtu, FreeBsd12 = freeBsd12 });

        Assert.True((await Run(client)).Success);

        var data = peer.Packets.Where(p => p.Header.Type == MessageType.Vmcore).ToList();
        Assert.Equal(payload, data.Max(p => (int)p.Header.Length));
        foreach (var buffer in data.GroupBy(p => p.Header.Offset / 65536))
        {
            // Every packet of a 64 KiB call is full except its last one.
            var sizes = buffer.OrderBy(p => p.Header.Offset).Select(p => (int)p.Header.Length).ToList();
            Assert.All(sizes[..^1], size => Assert.Equal(payload, size));
            Assert.Equal((65536 + payload - 1) / payload, sizes.Count);
        }
    }

    [Fact]
    public async Task Bursts_hold_at_most_64_packets_and_64_KiB_with_contiguous_seqnos()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, (1 << 20) + 1000));

        Assert.True((await Run(client)).Success);

        var packets = peer.Packets.OrderBy(p => p.Header.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, packets.Count).Select(i => (uint)i), packets.Select(p => p.Header.Sequence));
        var data = packets.Where(p => p.Header.Type == MessageType.Vmcore).ToList();
        foreach (var burst in data.GroupBy(p => p.Header.Offset / 65536))
        {
            Assert.True(burst.Count() <= 64);
            Assert.True(burst.Sum(p => p.Header.Length) <= 65536);
            Assert.All(burst, p => Assert.Equal(burst.Key, (p.Header.Offset + p.Header.Length - 1) / 65536));
        }

        // Offsets count up in seqno order: buffer start + bytes sent so far.
        ulong expected = 0;
        foreach (var packet in data)
        {
            Assert.Equal(expected, packet.Header.Offset);
            expected += packet.Header.Length;
        }

        Assert.Equal((ulong)client.Core.Length, expected);
    }

    [Fact]
    public async Task Reassembled_vmcore_equals_core_and_kdh_describes_it()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 300_000) with { Hostname = "db7", Panic = "page fault", Seed = 9 });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        Assert.Equal(client.Core.ToArray(), peer.Reassemble(MessageType.Vmcore));
        Assert.Equal(300_000, result.CoreBytes);
        Assert.Equal(peer.Packets.Count, result.PacketsSent);
        Assert.Equal(0, result.Retransmits);
        Assert.Equal(result.PacketsSent, result.AcksReceived);

        var kdhBytes = peer.Reassemble(MessageType.Kdh);
        Assert.True(KernelDumpHeader.TryParse(kdhBytes, out var kdh, out var reason), reason);
        Assert.True(kdh!.ParityOk);
        Assert.Equal(0u, KernelDumpHeader.ComputeParity(kdhBytes));
        Assert.Equal(client.Header, kdh);
        Assert.Equal(KernelDumpHeader.KernelDumpMagic, kdh.Magic);
        Assert.Equal(("amd64", 4u, 2u, 4096u), (kdh.Architecture, kdh.Version, kdh.ArchitectureVersion, kdh.BlockSize));
        Assert.Equal((300_000ul, 300_000ul, 0u), (kdh.DumpLength, kdh.DumpExtent, kdh.DumpKeySize));
        Assert.Equal(("db7", "page fault", DumpCompression.None), (kdh.Hostname, kdh.PanicString, kdh.Compression));
        Assert.Equal("FreeBSD 14.1-RELEASE simulated", kdh.VersionString);
        Assert.InRange(kdh.DumpTimeUtc, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Client_sends_everything_after_the_herald_to_the_port_of_the_first_ack()
    {
        // Before the real ack: a 5-byte datagram from the server address and a well-formed ack
        // of seqno 1 from another address. The client must take neither.
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        stranger.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        using var junk = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        junk.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var peer = new AckingPeer
        {
            BeforeFirstAck = client =>
            {
                junk.SendTo(new byte[] { 0, 0, 0, 1, 0 }, client);
                stranger.SendTo(new byte[] { 0, 0, 0, 1 }, client);
            },
        };
        var client = new SimulatedClient(Options(peer));

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        Assert.Equal(peer.SessionPort, result.SessionPort);
        var packets = peer.Packets;
        Assert.All(packets, p => Assert.Equal(p.Header.Type == MessageType.Herald, p.OnListenPort));
    }

    [Fact]
    public async Task Herald_is_resent_to_the_server_port_until_the_first_ack()
    {
        using var peer = new AckingPeer { ShouldDrop = (h, before) => h.Type == MessageType.Herald && before < 2 };
        var client = new SimulatedClient(Options(peer, 4096) with { ResendAfter = TimeSpan.FromMilliseconds(100) });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var heralds = peer.Packets.Where(p => p.Header.Type == MessageType.Herald).ToList();
        // two were dropped, so at least three went out; a loaded machine may ack the third late
        // enough for a fourth, which is a retransmission like the others
        Assert.InRange(heralds.Count, 3, int.MaxValue);
        Assert.All(heralds, h => Assert.True(h.OnListenPort));
        Assert.Equal(heralds.Count - 1, result.Retransmits);
    }

    [Fact]
    public async Task Only_unacked_packets_are_resent_after_the_timeout()
    {
        using var peer = new AckingPeer { ShouldDrop = (h, before) => h.Sequence == 5 && before == 0 };
        var client = new SimulatedClient(Options(peer) with { ResendAfter = TimeSpan.FromMilliseconds(150) });
        var clock = Stopwatch.StartNew();

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(150));
        Assert.Equal(1, result.Retransmits);
        var packets = peer.Packets;
        var bySequence = packets.GroupBy(p => p.Header.Sequence).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(2, bySequence[5].Count);
        Assert.All(bySequence.Where(kv => kv.Key != 5), kv => Assert.Single(kv.Value));
        Assert.Equal(bySequence[5][0].Payload, bySequence[5][1].Payload);
        Assert.Equal(bySequence[5][0].Header, bySequence[5][1].Header);

        // The next burst starts only once the resent packet is acked.
        var firstBurstEnd = packets.Where(p => p.Header.Type == MessageType.Vmcore && p.Header.Offset < 65536).Max(p => p.Header.Sequence);
        var nextBurstStart = packets.Where(p => p.Header.Sequence > firstBurstEnd).Min(p => p.Index);
        Assert.True(bySequence[5][1].Index < nextBurstStart);
        Assert.Equal(client.Core.ToArray(), peer.Reassemble(MessageType.Vmcore));
    }

    [Fact]
    public async Task Client_gives_up_on_the_herald_after_max_sends()
    {
        using var peer = new AckingPeer { ShouldDrop = (_, _) => true };
        var client = new SimulatedClient(Options(peer) with { MaxSends = 4, ResendAfter = TimeSpan.FromMilliseconds(20) });

        var result = await Run(client);

        Assert.False(result.Success);
        Assert.Contains("no ack for HERALD", result.Error);
        Assert.Contains("after 4 sends", result.Error);
        Assert.Equal((4L, 3L, 0L, 0), (result.PacketsSent, result.Retransmits, result.AcksReceived, result.SessionPort));
        Assert.True(peer.WaitUntil(p => p.Count == 4, Patience));
        Assert.All(peer.Packets, p => Assert.Equal(MessageType.Herald, p.Header.Type));
    }

    [Fact]
    public async Task Client_gives_up_mid_dump_when_a_packet_is_never_acked()
    {
        using var peer = new AckingPeer { ShouldDrop = (h, _) => h.Sequence == 60 };
        var client = new SimulatedClient(Options(peer) with { MaxSends = 3, ResendAfter = TimeSpan.FromMilliseconds(20) });

        var result = await Run(client);

        Assert.False(result.Success);
        Assert.Contains("no ack for VMCORE at offset 65536", result.Error);
        Assert.Contains("after 3 sends", result.Error);
        Assert.Equal(65536, result.CoreBytes);
        Assert.True(peer.WaitUntil(p => p.Count(x => x.Header.Sequence == 60) == 3, Patience));
        Assert.DoesNotContain(peer.Packets, p => p.Header.Type is MessageType.Kdh or MessageType.Finished);
        Assert.DoesNotContain(peer.Packets, p => p.Header.Offset >= 2 * 65536);
    }

    [Fact]
    public async Task Hole_packets_are_never_sent_but_count_as_acked()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer) with { Hole = (70_000, 3000) });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        var data = peer.Packets.Where(p => p.Header.Type == MessageType.Vmcore).ToList();
        Assert.DoesNotContain(data, p => p.Header.Offset < 73_000 && 70_000 < p.Header.Offset + p.Header.Length);
        Assert.Equal(0, result.Retransmits);

        // The missing packets cover the hole (whole packets), and everything else arrived intact.
        var core = client.Core.ToArray();
        var missing = new bool[core.Length];
        Array.Fill(missing, true);
        foreach (var packet in data)
        {
            Assert.Equal(core.AsSpan((int)packet.Header.Offset, (int)packet.Header.Length).ToArray(), packet.Payload);
            missing.AsSpan((int)packet.Header.Offset, (int)packet.Header.Length).Fill(false);
        }

        var first = Array.IndexOf(missing, true);
        var last = Array.LastIndexOf(missing, true);
        Assert.InRange(first, 70_000 - 1448, 70_000);
        Assert.InRange(last, 73_000 - 1, 73_000 + 1448);
        Assert.True(missing.AsSpan(first, last - first + 1).IndexOf(false) < 0);
        Assert.Contains(peer.Packets, p => p.Header.Type == MessageType.Finished);
    }

    [Fact]
    public async Task Client_dies_silently_after_the_given_core_bytes()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer) with { DieAfterBytes = 100_000 });

        var result = await Run(client);

        Assert.False(result.Success);
        Assert.Equal("client died (simulated)", result.Error);
        Assert.Equal(131_072, result.CoreBytes);
        Assert.Equal(131_072, peer.VmcoreBytes);
        Assert.DoesNotContain(peer.Packets, p => p.Header.Type is MessageType.Kdh or MessageType.Finished);
    }

    [Fact]
    public async Task Lossy_duplicating_reordering_network_still_delivers_the_exact_core()
    {
        using var peer = new AckingPeer();
        var client = new SimulatedClient(Options(peer, 1 << 20) with
        {
            Loss = 0.05,
            Duplicate = 0.05,
            Reorder = 0.5,
            Seed = 42,
            ResendAfter = TimeSpan.FromMilliseconds(10),
        });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        Assert.True(result.Retransmits > 0);
        Assert.Equal(client.Core.ToArray(), peer.Reassemble(MessageType.Vmcore));
        Assert.True(KernelDumpHeader.TryParse(peer.Reassemble(MessageType.Kdh), out var kdh, out _));
        Assert.Equal(client.Header, kdh);

        // Duplicates arrive, and some burst arrived out of seqno order.
        var packets = peer.Packets;
        Assert.True(packets.Count > packets.Select(p => p.Header.Sequence).Distinct().Count());
        Assert.Contains(packets.Zip(packets.Skip(1)), pair => pair.Second.Header.Sequence < pair.First.Header.Sequence);
    }

    [Fact]
    public async Task Run_can_be_cancelled_while_waiting_for_acks()
    {
        using var peer = new AckingPeer { ShouldDrop = (_, _) => true };
        var client = new SimulatedClient(Options(peer) with { ResendAfter = TimeSpan.FromSeconds(30) });
        using var cancellation = new CancellationTokenSource();

        var run = client.RunAsync(cancellation.Token);
        Assert.True(peer.WaitUntil(p => p.Count > 0, Patience));
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Patience));
    }

    [Fact]
    public async Task Client_sends_from_the_configured_source_address_and_port()
    {
        using var peer = new AckingPeer();
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var client = new SimulatedClient(Options(peer, 4096) with { Source = IPAddress.Parse("127.0.0.3"), SourcePort = port });

        var result = await Run(client);

        Assert.True(result.Success, result.Error);
        Assert.All(peer.Packets, p => Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.3"), port), p.From));
    }

    [Fact]
    public async Task Bind_failure_is_a_failed_result()
    {
        using var peer = new AckingPeer();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var client = new SimulatedClient(Options(peer, 4096) with { SourcePort = ((IPEndPoint)taken.LocalEndPoint!).Port });

        var result = await Run(client);

        Assert.False(result.Success);
        Assert.StartsWith("cannot bind", result.Error);
        Assert.Empty(peer.Packets);
    }

    [Fact]
    public async Task Eight_clients_dump_at_once()
    {
        using var peer = new AckingPeer(keepPayloads: false);
        var clients = Enumerable.Range(0, 8)
            .Select(i => new SimulatedClient(Options(peer, 4 << 20) with { Source = IPAddress.Parse($"127.0.0.{10 + i}"), Seed = i }))
            .ToList();

        var results = await Task.WhenAll(clients.Select(c => c.RunAsync())).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.All(results, r => Assert.True(r.Success, r.Error));
        Assert.Equal(8L * (4 << 20), peer.VmcoreBytes);
    }

    [Fact]
    public async Task A_sixty_four_MiB_dump_over_loopback_is_acked_to_its_last_byte()
    {
        using var peer = new AckingPeer(keepPayloads: false);
        var client = new SimulatedClient(Options(peer, 64 << 20) with { ResendAfter = TimeSpan.FromSeconds(1) });

        var result = await client.RunAsync().WaitAsync(TimeSpan.FromMinutes(2)); // a hang guard; speed is bench/'s

        Assert.True(result.Success, result.Error);
        Assert.Equal(64L << 20, peer.VmcoreBytes);
        output.WriteLine($"64 MiB in {result.Elapsed.TotalSeconds:F2} s ({64 / result.Elapsed.TotalSeconds:F0} MiB/s), {result.PacketsSent} packets, {result.Retransmits} retransmits");
    }

    [Fact]
    public void Invalid_options_are_refused_with_one_line()
    {
        var bad = new SimulationOptions[]
        {
            new() { Mtu = 576 },
            new() { Size = -1 },
            new() { Loss = 1.5 },
            new() { MaxSends = 0 },
            new() { Server = new IPEndPoint(IPAddress.IPv6Loopback, 20023) },
            new() { FreeBsd12 = true, Encrypt = true, Compress = DumpCompression.Gzip },
            new() { Path = new string('a', 1024) },
        };

        Assert.All(bad, options =>
        {
            var e = Assert.Throws<ArgumentException>(() => new SimulatedClient(options));
            Assert.DoesNotContain('\n', e.Message);
        });
    }
}
