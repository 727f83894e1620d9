using System.Net;
using System.Text.RegularExpressions;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A dump's lines in the log: its start line once it has lasted <c>flush_interval</c>, and an end
/// line that says how it started, so that a dump ending sooner is told in one line.
/// </summary>
public sealed class DumpLogLineTests
{
    private const int Chunk = 1024;

    [Fact]
    public async Task A_dump_still_arriving_after_flush_interval_gets_its_start_line_and_its_end_line_says_how_it_started()
    {
        const string client = "127.0.0.33";
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["flush_interval"] = "50ms" });
        using var socket = RawClient.Bind(client);
        var session = RawClient.Herald(socket, server.Endpoint, path: "");
        var dir = await server.WaitForDumpOfAsync(client);
        uint sequence = 1;
        RawClient.SendUntilAcked(socket, session, RawClient.Data(ref sequence, 0, 4, Chunk));

        // the client holds on: the dump is still arriving when its start line is due
        var started = await server.WaitForLogAsync($"Client {client}:", "dump started in");
        Assert.Matches($@"^\[Information\] Client {Regex.Escape(client)}: dump started in {Regex.Escape(dir)}: HERALD 1 from port {((IPEndPoint)socket.LocalEndPoint!).Port} to 127\.0\.0\.1, path """", session port {session.Port}, acked \d+\.\d s before this line$", started);

        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Kdh, ++sequence, 0, RawClient.Kdh(4 * Chunk, "held.example.org", "FreeBSD 14.1-RELEASE GENERIC", "panic: held"))]);
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Finished, ++sequence, 0, [])]);
        var end = await server.WaitForLogAsync($"Client {client}:", "dump complete");
        Assert.EndsWith($"; HERALD 1 from port {((IPEndPoint)socket.LocalEndPoint!).Port} to 127.0.0.1, path \"\", session port {session.Port}", end);
        Assert.Single(server.LogLines, l => l.Contains("dump started in"));
    }

    [Fact]
    public async Task A_dump_that_ends_within_flush_interval_is_told_in_one_line()
    {
        const string client = "127.0.0.34";
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["flush_interval"] = "1h" });
        using var socket = RawClient.Bind(client);
        var session = RawClient.Herald(socket, server.Endpoint, path: "");
        uint sequence = 1;
        RawClient.SendUntilAcked(socket, session, RawClient.Data(ref sequence, 0, 4, Chunk));
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Kdh, ++sequence, 0, RawClient.Kdh(4 * Chunk, "quick.example.org", "FreeBSD 14.1-RELEASE GENERIC", "panic: quick"))]);
        RawClient.SendUntilAcked(socket, session, [RawClient.Message(MessageType.Finished, ++sequence, 0, [])]);

        var end = await server.WaitForLogAsync($"Client {client}:", "dump complete");
        Assert.Matches($@": quick\.example\.org, panic ""panic: quick"", 4096 bytes \(4\.0 KiB\) in \d+\.\d s \(.+\), \d+ packets, 0 dropped datagrams, SHA-256 [0-9a-f]{{64}}; HERALD 1 from port {((IPEndPoint)socket.LocalEndPoint!).Port} to 127\.0\.0\.1, path """", session port {session.Port}$", end);
        Assert.DoesNotContain(server.LogLines, l => l.Contains("dump started"));
    }
}
