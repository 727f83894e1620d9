using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;
using Xunit.Abstractions;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// A HERALD flood from 10,000 distinct loopback addresses while a real dump is running: the
/// dump must complete byte-exact, and sessions, sockets, threads and memory stay bounded.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class FloodTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int FloodSources = 10_000;
    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync(new Dictionary<string, object?>
    {
        ["secure"] = false,
        ["max_concurrent_dumps"] = 4,
        ["max_silent_sessions"] = 2,
        ["silent_timeout"] = "1s",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_HERALD_flood_from_ten_thousand_sources_leaves_a_running_dump_intact_and_resources_bounded()
    {
        var legit = new SimulatedClient(_server.Client("127.0.0.100") with { Size = 128L << 20, Seed = 100 });
        var dump = legit.RunAsync();
        await Waiting.Until(() => _server.DumpsOf("127.0.0.100") is [var dir]
            && new FileInfo(Path.Combine(dir, "vmcore-incomplete")) is { Exists: true, Length: > 0 }, Patience, "the legitimate dump's first data");

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var baseThreads = process.Threads.Count;
        var baseFds = OpenFileDescriptors();
        long peakWorkingSet = process.WorkingSet64, peakThreads = baseThreads, peakFds = baseFds;
        var stopwatch = Stopwatch.StartNew();
        var herald = new byte[MessageHeader.Size];
        new MessageHeader(MessageType.Herald, 1, 0, 0, 0).Write(herald);
        var sent = 0;
        // every source once, then round again until the dump is over (a hang guard, not a speed bound)
        for (; (sent < FloodSources || !dump.IsCompleted) && stopwatch.Elapsed < TimeSpan.FromMinutes(5); sent++)
        {
            var i = sent % FloodSources;
            var source = new IPAddress([127, 20, (byte)(i / 250), (byte)(i % 250 + 1)]);
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(source, 0));
            socket.SendTo(herald, _server.Endpoint);
            if (sent % 500 == 0)
            {
                process.Refresh();
                peakWorkingSet = Math.Max(peakWorkingSet, process.WorkingSet64);
                peakThreads = Math.Max(peakThreads, process.Threads.Count);
                peakFds = Math.Max(peakFds, OpenFileDescriptors());
            }
        }

        var floodSeconds = stopwatch.Elapsed.TotalSeconds;
        Assert.True(dump.IsCompleted, "the flood ended before the dump did");
        var result = await dump;
        Assert.True(result.Success, result.Error);
        Assert.True(legit.Core.Span.SequenceEqual(File.ReadAllBytes(Path.Combine(_server.SingleDumpOf("127.0.0.100"), "vmcore"))));

        // the flood's admitted sessions sent nothing: they expire and leave no directory behind
        await Waiting.Until(() => Directory.GetDirectories(_server.DumpDir, "127.2*").Length == 0, Patience, "the flood's empty dump directories removed");
        output.WriteLine($"flood: {sent} HERALDs from {Math.Min(sent, FloodSources)} sources in {floodSeconds:F1} s ({sent / floodSeconds:F0}/s); " +
                         $"peak working set {peakWorkingSet >> 20} MiB, threads {baseThreads}->{peakThreads}, fds {baseFds}->{peakFds}; " +
                         $"legit dump {result.CoreBytes >> 20} MiB in {result.Elapsed.TotalSeconds:F1} s");
        Assert.True(sent >= FloodSources);
        Assert.InRange(peakThreads - baseThreads, 0, 30);  // a pump thread per admitted session, at most 4
        Assert.InRange(peakFds - baseFds, 0, 40);          // a socket and a few files per admitted session
        Assert.InRange(peakWorkingSet, 0, 1L << 30);
        Assert.Contains(_server.LogLines, l => l.Contains("more clients were refused without a log line of their own"));
    }

    private static int OpenFileDescriptors() => Directory.GetFiles("/proc/self/fd").Length;
}
