using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Fuzzing;

/// <summary>What the live fuzzing found that needs the whole server to show, cut down to one dump.</summary>
public sealed class FuzzFindingsEndToEndTests : IAsyncLifetime
{
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["secure"] = false });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>
    /// The KDH's hostname and panic string come from the client. The info file writes them on
    /// one line each; the log must not take them raw either, or a client writes whole log lines
    /// of its own (a fuzzed KDH put "Dump complete" on a log line by itself) and terminal escapes.
    /// </summary>
    /// <summary>
    /// Found by the live fuzzing: a client resending a bad KDH got a log line per packet. Each is
    /// still acked (the client goes on to FINISHED and the dump is marked), but only the first
    /// three are logged.
    /// </summary>
    [Fact]
    public async Task A_client_resending_a_bad_kernel_dump_header_gets_three_log_lines_not_one_per_packet()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.43"), 0));
        socket.ReceiveTimeout = 5000;
        var herald = new byte[Netdump.Actors.Protocol.MessageHeader.Size];
        new Netdump.Actors.Protocol.MessageHeader(Netdump.Actors.Protocol.MessageType.Herald, 1, 0, 0, 0).Write(herald);
        socket.SendTo(herald, _server.Endpoint);
        var ack = new byte[64];
        System.Net.EndPoint from = new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0);
        socket.ReceiveFrom(ack, ref from); // the HERALD's ack, from the session port

        var bad = new byte[Netdump.Actors.Protocol.MessageHeader.Size + Netdump.Actors.Protocol.KernelDumpHeader.Size];
        "not a kernel dump header"u8.CopyTo(bad.AsSpan(Netdump.Actors.Protocol.MessageHeader.Size));
        for (uint sequence = 2; sequence < 12; sequence++)
        {
            new Netdump.Actors.Protocol.MessageHeader(Netdump.Actors.Protocol.MessageType.Kdh, sequence, 0,
                Netdump.Actors.Protocol.KernelDumpHeader.Size, 0).Write(bad);
            socket.SendTo(bad, from);
            socket.ReceiveFrom(ack, ref from); // acked, as a bad header is: the client then finishes
        }

        // FINISHED ends the dump; its log line comes after every line the KDHs caused
        var finished = new byte[Netdump.Actors.Protocol.MessageHeader.Size];
        new Netdump.Actors.Protocol.MessageHeader(Netdump.Actors.Protocol.MessageType.Finished, 12, 0, 0, 0).Write(finished);
        socket.SendTo(finished, from);
        await _server.WaitForLogAsync("Client 127.0.0.43: dump incomplete");
        Assert.Equal(3, _server.LogLines.Count(l => l.Contains("Client 127.0.0.43: bad kernel dump header")));
    }

    [Fact]
    public async Task A_kernel_dump_header_cannot_forge_log_lines()
    {
        var client = new SimulatedClient(_server.Client("127.0.0.42") with
        {
            Size = 4096,
            Hostname = "web7\u001b[2J\r\nDump complete",
            Panic = "panic\n[Information] Client 127.0.0.1: dump complete",
        });

        var result = await client.RunAsync();
        Assert.True(result.Success, result.Error);
        await _server.WaitForLogAsync("Client 127.0.0.42: dump complete");
        var forged = _server.LogLines.Where(l => l.Any(char.IsControl)).ToList();
        Assert.True(forged.Count == 0, $"log lines with control characters from the client:\n{string.Join("\n", forged)}");
    }
}
