using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Netdump.Actors.Protocol;
using Netdump.App.Simulation;
using Netdump.Tests.EndToEnd;
using Xunit.Abstractions;

namespace Netdump.Tests.Fuzzing;

/// <summary>
/// A million seeded, mutated datagrams against the real server while a real dump runs: at the
/// listen port (so mutated HERALDs open and end sessions), spoofed at the valid client's session
/// port, and from a second client at its own session port, where they reach every decision of
/// the receive pump, the session and the writer. The valid dump must still be stored byte-exact;
/// memory stays bounded, every dump ends (none stuck "receiving"), and no file outgrows
/// <c>max_dump_size</c>.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class LiveSessionFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const ulong MaxDumpSize = 64UL << 20;
    private const long ValidDumpSize = 8L << 20;

    /// <summary>Some loss makes the valid client wait out resends, so its dump spans most of the flood.</summary>
    private const double ValidDumpLoss = 0.005;
    private const int TargetDatagrams = 1_000_000;

    /// <summary>A hang guard, not a speed bound (speed is bench/'s): the flood always sends all of its datagrams.</summary>
    private static readonly TimeSpan FloodLimit = TimeSpan.FromMinutes(5);

    /// <summary>What the doc (reliability.md) promises of the server's memory after the flood; measured well below.</summary>
    /// <summary>The managed heap's growth over the flood, after a full GC (the test process also holds what earlier tests left).</summary>
    private const long MaxHeapGrowth = 64L << 20;

    /// <summary>The test process also holds what earlier tests left: its working set is judged by its growth.</summary>
    private const long MaxWorkingSetGrowth = 256L << 20;
    private static readonly TimeSpan SessionTimeout = TimeSpan.FromSeconds(3);

    /// <summary>One datagram in this many of the session stream may end the fuzzing client's session.</summary>
    private const int SessionEnderOdds = 3000;

    private ServerHarness _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["secure"] = false,
            ["session_timeout"] = $"{SessionTimeout.TotalSeconds}s",
            ["max_dump_size"] = "64M",
            // every fuzzing source may hold a session at once: the fuzzing client must not be
            // refused because the listen-port fuzzers hold the slots
            ["max_concurrent_dumps"] = 16,
            ["max_silent_sessions"] = 16,
        });

        // a HERALD path the server may use, so mutated HERALDs also put dumps below dumpdir
        Directory.CreateDirectory(Path.Combine(_server.DumpDir, "fuzz"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_million_mutated_datagrams_leave_a_valid_dump_byte_exact_and_the_server_bounded()
    {
        var process = Process.GetCurrentProcess();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var workingSetBefore = process.WorkingSet64;
        var udpBefore = UdpCounters();

        // the fuzzing client: a valid HERALD first, so it has a session of its own
        using var fuzzClient = new FuzzingClient(_server.Endpoint);
        Assert.True(fuzzClient.Herald(TimeSpan.FromSeconds(10)), "the fuzzing client's HERALD was never acked");

        // the valid dump, and its session port for the spoofed datagrams
        var valid = new SimulatedClient(_server.Client("127.0.0.60") with { Size = ValidDumpSize, Seed = 60, Loss = ValidDumpLoss });
        var validRun = valid.RunAsync();
        var validPort = await SessionPortOf(IPAddress.Parse("127.0.0.60"), TimeSpan.FromSeconds(10));

        var flood = new Flood(_server.Endpoint, new IPEndPoint(IPAddress.Loopback, validPort), fuzzClient, process, _server.DumpDir);
        var floodRun = Task.Factory.StartNew(flood.Run, TaskCreationOptions.LongRunning);
        var floodDone = await Task.WhenAny(floodRun, Task.Delay(FloodLimit));
        Assert.Same(floodRun, floodDone);
        await floodRun;
        var floodEnded = DateTime.UtcNow;
        fuzzClient.Stop();

        // the valid dump ends, then every other dump within session_timeout (and the time to
        // finalize) of the last datagram; and the server still serves a dump after all this
        var result = await validRun.WaitAsync(TimeSpan.FromSeconds(60));
        var stuck = await WaitForAllDumpsToEnd(_server.DumpDir, floodEnded + SessionTimeout + TimeSpan.FromSeconds(8));
        var endedAfter = DateTime.UtcNow - floodEnded;
        var after = new SimulatedClient(_server.Client("127.0.0.59") with { Size = 1 << 20, Seed = 59 });
        var afterResult = await after.RunAsync().WaitAsync(TimeSpan.FromSeconds(30));

        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        process.Refresh();
        var udpAfter = UdpCounters();
        var largest = LargestFile(_server.DumpDir);
        var dumps = DumpJsonFiles(_server.DumpDir);
        var statuses = dumps.Select(ReadStatus).GroupBy(s => s ?? "(gone)").ToDictionary(g => g.Key, g => g.Count());
        var reasons = dumps.Select(ReadReason).GroupBy(r => Regex.Replace(r ?? "(none)", @"\d+", "N")).OrderByDescending(g => g.Count())
            .Select(g => $"{g.Count()} x {g.Key}").ToList();
        var validFooter = _server.LogLines.FirstOrDefault(l => l.Contains("Client 127.0.0.60: dump complete")) ?? "";
        var errors = _server.LogLines.Where(l => l.StartsWith("[Error]", StringComparison.Ordinal)).ToList();
        var fuzzedSessions = _server.LogLines
            .Select(l => Regex.Match(l, @"^\[Information\] Client 127\.0\.0\.62: dump \w+.*, (\d+) dropped datagrams(, SHA-256 [0-9a-f]{64})?; HERALD "))
            .Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value)).ToList();

        var seconds = flood.Elapsed.TotalSeconds;
        output.WriteLine($"flood: {flood.Sent} datagrams ({flood.Bytes >> 20} MiB) in {seconds:F1} s = {flood.Sent / seconds:F0}/s; " +
                         $"session {flood.SentToSession}, listen {flood.SentToListen}, spoofed {flood.SentSpoofed}; " +
                         $"{flood.SessionEndersSent} session-ending datagrams let through, {flood.SendErrors} send errors");
        output.WriteLine($"fuzzing client: {fuzzClient.Heralds} HERALDs, {fuzzedSessions.Count} sessions, which dropped " +
                         $"{fuzzedSessions.Sum()} malformed datagrams and acked {fuzzClient.Acks}; " +
                         $"spoofers got {flood.SpoofersReceived} bytes back");
        output.WriteLine($"valid dump: {result.CoreBytes >> 20} MiB in {result.Elapsed.TotalSeconds:F1} s, {result.Retransmits} retransmits; {validFooter}");
        output.WriteLine($"memory: managed heap {heapBefore >> 20} MiB before, {heapAfter >> 20} MiB after (full GC); " +
                         $"working set {workingSetBefore >> 20} MiB before, peak {flood.PeakWorkingSet >> 20} MiB, {process.WorkingSet64 >> 20} MiB after");
        output.WriteLine($"kernel UDP (whole host, approximate): {udpAfter.Delivered - udpBefore.Delivered} delivered, " +
                         $"{udpAfter.BufferFull - udpBefore.BufferFull} dropped on full receive buffers");
        output.WriteLine($"dumps: {dumps.Count} dump.json files, {string.Join(", ", statuses.Select(kv => $"{kv.Key} {kv.Value}"))}; " +
                         $"all ended {endedAfter.TotalSeconds:F1} s after the flood; largest file {largest.Length} bytes ({largest.Path})");
        output.WriteLine($"reasons: {string.Join("; ", reasons)}");
        if (Environment.GetEnvironmentVariable("NETDUMP_FUZZ_LOG") is { Length: > 0 } keepLog)
        {
            File.WriteAllLines(keepLog, _server.LogLines); // the whole server log of the run, to look into a failure
        }

        // the valid dump completed byte-exact
        Assert.True(result.Success, $"the valid dump failed under fuzzing: {result.Error}");
        var validDir = _server.SingleDumpOf("127.0.0.60");
        var stored = File.ReadAllBytes(Path.Combine(validDir, "vmcore"));
        Assert.Equal(valid.Core.Length, stored.Length);
        Assert.True(valid.Core.Span.SequenceEqual(stored), "the valid dump's vmcore differs from what the client sent");
        Assert.Equal("complete", ServerHarness.ReadJson(validDir).GetProperty("status").GetString());
        Assert.True(afterResult.Success, $"a dump after the fuzzing failed: {afterResult.Error}");

        Assert.Equal(TargetDatagrams, flood.Sent);
        Assert.True(stuck.Count == 0, $"still receiving {endedAfter.TotalSeconds:F1} s after the flood: {string.Join(", ", stuck)}");
        Assert.True(largest.Length <= (long)MaxDumpSize, $"{largest.Path} is {largest.Length} bytes, past max_dump_size");
        Assert.True(flood.PeakFileSize <= (long)MaxDumpSize, $"a file reached {flood.PeakFileSize} bytes during the flood");
        Assert.Equal(0, flood.SpoofersReceived);
        Assert.True(heapAfter - heapBefore < MaxHeapGrowth, $"managed heap {heapBefore >> 20} MiB before, {heapAfter >> 20} MiB after the fuzzing");
        Assert.True(flood.PeakWorkingSet - workingSetBefore < MaxWorkingSetGrowth,
            $"working set peaked at {flood.PeakWorkingSet >> 20} MiB, from {workingSetBefore >> 20} MiB");
        Assert.True(errors.Count == 0, $"{errors.Count} Error lines in the server log, e.g.:\n{string.Join("\n", errors.Distinct().Take(5))}");
    }

    /// <summary>Waits until no dump.json says "receiving" (a silent session's directory may vanish); returns those that still do.</summary>
    private static async Task<List<string>> WaitForAllDumpsToEnd(string dumpDir, DateTime deadline)
    {
        while (true)
        {
            var receiving = DumpJsonFiles(dumpDir).Where(f => ReadStatus(f) == "receiving").ToList();
            if (receiving.Count == 0 || DateTime.UtcNow > deadline)
            {
                return receiving;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The port of the session socket that serves <paramref name="client"/>: the one UDP socket
    /// connected to it (/proc/net/udp), there from just before its HERALD's ack.
    /// </summary>
    private static async Task<int> SessionPortOf(IPAddress client, TimeSpan timeout)
    {
        var remote = Convert.ToHexString(client.GetAddressBytes().Reverse().ToArray()) + ":";
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var line in File.ReadLines("/proc/net/udp").Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[2].StartsWith(remote, StringComparison.Ordinal))
                {
                    return Convert.ToInt32(fields[1].Split(':')[1], 16);
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }

        throw new TimeoutException($"no session socket connected to {client} within {timeout}");
    }

    private static List<string> DumpJsonFiles(string dumpDir) =>
        Files(dumpDir).Where(f => f.Name == "dump.json").Select(f => f.FullName).ToList();

    private static string? ReadReason(string dumpJson)
    {
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(dumpJson));
            return json.RootElement.GetProperty("reason").ToString();
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return "(unreadable)";
        }
    }

    /// <summary>The status in a dump.json, or null when it is gone (a silent session's directory is removed).</summary>
    private static string? ReadStatus(string dumpJson)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllBytes(dumpJson));
                return json.RootElement.GetProperty("status").GetString();
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            catch (Exception e) when (e is JsonException or IOException && attempt < 20)
            {
                // caught between the writer's write and rename: read again
                Thread.Sleep(10);
            }
        }
    }

    private static (string Path, long Length) LargestFile(string dumpDir) =>
        Files(dumpDir).Select(f => (f.FullName, LengthOrZero(f))).DefaultIfEmpty(("", 0L)).MaxBy(f => f.Item2);

    /// <summary>A file's length, or 0 when it vanished since it was listed (a report's temp file renamed meanwhile).</summary>
    private static long LengthOrZero(FileInfo file)
    {
        try
        {
            return file.Length;
        }
        catch (FileNotFoundException)
        {
            return 0;
        }
    }

    /// <summary>Every file below the dump directory; directories that vanish meanwhile are skipped.</summary>
    private static List<FileInfo> Files(string dumpDir)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new DirectoryInfo(dumpDir)
                    .EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                    .ToList();
            }
            catch (DirectoryNotFoundException) when (attempt < 20)
            {
            }
        }
    }

    private static (long Delivered, long BufferFull) UdpCounters()
    {
        var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToList();
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Value(string name) => long.Parse(values[Array.IndexOf(names, name)]);
        return (Value("InDatagrams"), Value("RcvbufErrors"));
    }

    /// <summary>
    /// The second client, 127.0.0.62: its HERALDs get it a session, and acks tell it the session
    /// port (the source port of the ack of its own HERALD) and whether the session still lives.
    /// A receive thread reads the acks; the flood thread sends.
    /// </summary>
    private sealed class FuzzingClient : IDisposable
    {
        private const uint FirstHeraldSequence = 0x4E00_0000;
        private readonly IPEndPoint _listen;
        private readonly Thread _receiver;
        private volatile bool _stopping;
        private long _heraldSequence = FirstHeraldSequence;
        private long _lastHeraldTicks;
        private long _lastAckTicks;
        private int _sessionPort;
        private long _acks;
        private volatile uint _answered;

        public FuzzingClient(IPEndPoint listen)
        {
            _listen = listen;
            Socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 100 };
            Socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.62"), 0));
            _receiver = new Thread(Receive) { IsBackground = true, Name = "fuzz-acks" };
            _receiver.Start();
        }

        public Socket Socket { get; }

        public int SessionPort => Volatile.Read(ref _sessionPort);

        public long Acks => Interlocked.Read(ref _acks);

        public long Heralds => Interlocked.Read(ref _heraldSequence) - FirstHeraldSequence;

        /// <summary>Sends a valid HERALD; with a timeout, waits for its ack.</summary>
        public bool Herald(TimeSpan? wait = null)
        {
            var sequence = (uint)Interlocked.Increment(ref _heraldSequence);
            var herald = new byte[MessageHeader.Size];
            new MessageHeader(MessageType.Herald, sequence, 0, 0, 0).Write(herald);
            Volatile.Write(ref _lastHeraldTicks, Environment.TickCount64);
            var deadline = Environment.TickCount64 + (long)(wait ?? TimeSpan.Zero).TotalMilliseconds;
            do
            {
                Socket.SendTo(herald, _listen);
                var resend = Environment.TickCount64 + 200;
                while (Environment.TickCount64 < Math.Min(resend, deadline))
                {
                    if (Interlocked.Read(ref _heraldSequence) == sequence && _answered == sequence)
                    {
                        return true;
                    }

                    Thread.Sleep(5);
                }
            }
            while (Environment.TickCount64 < deadline);

            return wait is null;
        }

        public long HeraldAgeMilliseconds => Environment.TickCount64 - Volatile.Read(ref _lastHeraldTicks);

        /// <summary>True when the session has sent nothing for a while and the last HERALD is not fresh either.</summary>
        public bool SessionLooksGone(long quietMilliseconds)
        {
            var now = Environment.TickCount64;
            return now - Volatile.Read(ref _lastAckTicks) > quietMilliseconds
                && now - Volatile.Read(ref _lastHeraldTicks) > quietMilliseconds;
        }

        private void Receive()
        {
            var buffer = new byte[64];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            while (!_stopping)
            {
                int length;
                var from = any;
                try
                {
                    length = Socket.ReceiveFrom(buffer, ref from);
                }
                catch (SocketException)
                {
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                if (!Ack.TryRead(buffer.AsSpan(0, length), out var sequence))
                {
                    continue;
                }

                var port = ((IPEndPoint)from).Port;
                if (sequence == (uint)Interlocked.Read(ref _heraldSequence))
                {
                    // the ack of our own HERALD names the session port
                    Volatile.Write(ref _sessionPort, port);
                    _answered = sequence;
                }

                if (port == Volatile.Read(ref _sessionPort))
                {
                    Interlocked.Increment(ref _acks);
                    Volatile.Write(ref _lastAckTicks, Environment.TickCount64);
                }
            }
        }

        public void Stop()
        {
            _stopping = true;
            _receiver.Join(TimeSpan.FromSeconds(2));
        }

        public void Dispose()
        {
            Stop();
            Socket.Dispose();
        }
    }

    /// <summary>
    /// The fuzz sender: one thread, fire and forget, three seeded streams. Half the datagrams go
    /// from the fuzzing client to its session, the rest to the listen port (from 127.0.0.61 and
    /// .63-.70) and spoofed to the valid session (from 127.0.0.71-.80). It yields every few
    /// datagrams so the server's threads get the CPU instead of the kernel dropping everything.
    /// </summary>
    private sealed class Flood(IPEndPoint listen, IPEndPoint validSession, FuzzingClient client, Process process, string dumpDir)
    {
        private const int YieldEvery = 32;
        private const int SampleEvery = 8192;
        private const int HeraldCheckEvery = 1024;
        private const int FileCheckEvery = 200_000;

        public long Sent { get; private set; }
        public long Bytes { get; private set; }
        public long SentToSession { get; private set; }
        public long SentToListen { get; private set; }
        public long SentSpoofed { get; private set; }
        public long SessionEndersSent { get; private set; }
        public long SendErrors { get; private set; }
        public long SpoofersReceived { get; private set; }
        public long PeakWorkingSet { get; private set; }
        public long PeakFileSize { get; private set; }
        public TimeSpan Elapsed { get; private set; }

        public void Run()
        {
            var listenSources = new[] { 61, 63, 64, 65, 66, 67, 68, 69, 70 }.Select(Bound).ToArray();
            var spoofers = Enumerable.Range(71, 10).Select(Bound).ToArray();
            try
            {
                Send(listenSources, spoofers);
                SpoofersReceived = spoofers.Sum(s => (long)s.Available);
            }
            finally
            {
                foreach (var socket in listenSources.Concat(spoofers))
                {
                    socket.Dispose();
                }
            }
        }

        private void Send(Socket[] listenSources, Socket[] spoofers)
        {
            var listenStream = new PacketMutator(61, MaxDumpSize, mix: new PacketMix(Herald: 8, Finished: 1, Vmcore: 2, Kdh: 1, EkcdKey: 1));
            var spoofStream = new PacketMutator(71, MaxDumpSize);
            var sessionStream = new PacketMutator(62, MaxDumpSize, mix: new PacketMix(Herald: 1, Finished: 1, Vmcore: 10, Kdh: 4, EkcdKey: 4), validPercent: 10);
            var enders = new Random(62);
            var listenAddress = listen.Serialize();
            var validAddress = validSession.Serialize();
            SocketAddress? sessionAddress = null;
            var sessionPort = 0;
            var awaitingNewSession = false;
            var endedPort = 0;
            var stopwatch = Stopwatch.StartNew();

            for (var i = 0L; i < TargetDatagrams; i++)
            {
                Socket socket;
                SocketAddress to;
                ReadOnlySpan<byte> packet;
                switch (i % 10)
                {
                    case < 5:
                        if (client.SessionPort != sessionPort)
                        {
                            sessionPort = client.SessionPort;
                            sessionAddress = new IPEndPoint(listen.Address, sessionPort).Serialize();
                        }

                        // a session ends at the first huge offset or FINISHED: let only a few
                        // through, so most datagrams meet a live session and its deeper states
                        do
                        {
                            sessionStream.Next();
                        }
                        while (EndsSession(sessionStream.Packet) && enders.Next(SessionEnderOdds) != 0);

                        if (EndsSession(sessionStream.Packet))
                        {
                            SessionEndersSent++;
                            awaitingNewSession = true;
                            endedPort = sessionPort;
                        }

                        socket = client.Socket;
                        to = sessionAddress!;
                        packet = sessionStream.Packet;
                        SentToSession++;
                        break;
                    case < 8:
                        listenStream.Next();
                        socket = listenSources[SentToListen % listenSources.Length]; // each source in turn
                        to = listenAddress;
                        packet = listenStream.Packet;
                        SentToListen++;
                        break;
                    default:
                        spoofStream.Next();
                        socket = spoofers[SentSpoofed % spoofers.Length];
                        to = validAddress;
                        packet = spoofStream.Packet;
                        SentSpoofed++;
                        break;
                }

                try
                {
                    socket.SendTo(packet, SocketFlags.None, to);
                }
                catch (SocketException)
                {
                    SendErrors++;
                }

                Sent++;
                Bytes += packet.Length;
                if (i % YieldEvery == 0)
                {
                    Thread.Yield();
                }

                // the session ended (a let-through FINISHED, a write past the cap, a supersede):
                // HERALD again until a new session answers. A lingering session still re-acks
                // FINISHED, so after a session-ending datagram its acks do not prove it alive.
                if (i % HeraldCheckEvery == 0)
                {
                    awaitingNewSession &= client.SessionPort == endedPort;
                    if (client.SessionLooksGone(quietMilliseconds: 100) || (awaitingNewSession && client.HeraldAgeMilliseconds > 100))
                    {
                        client.Herald();
                    }
                }

                if (i % SampleEvery == 0)
                {
                    process.Refresh();
                    PeakWorkingSet = Math.Max(PeakWorkingSet, process.WorkingSet64);
                }

                if (i % FileCheckEvery == 0)
                {
                    PeakFileSize = Math.Max(PeakFileSize, LargestFile(dumpDir).Length);
                }
            }

            Elapsed = stopwatch.Elapsed;
            PeakFileSize = Math.Max(PeakFileSize, LargestFile(dumpDir).Length);
        }

        /// <summary>A datagram the session must end on: FINISHED, a new HERALD, data past the cap, a KDH claiming more than the disk.</summary>
        private static bool EndsSession(ReadOnlySpan<byte> packet)
        {
            if (MessageHeader.TryRead(packet, out var header) != HeaderError.None)
            {
                return false;
            }

            return header.Type switch
            {
                MessageType.Finished or MessageType.Herald => true,
                // an empty VMCORE ends the dump in the batched engine, a bug (see
                // FuzzFindingsTests.A_zero_length_vmcore_is_acked_and_the_dump_goes_on)
                MessageType.Vmcore => header.Length == 0 || header.End is not { } end || end > MaxDumpSize,
                MessageType.Kdh => KernelDumpHeader.TryParse(packet[MessageHeader.Size..], out var kdh, out _) && kdh!.DumpLength > MaxDumpSize,
                _ => false,
            };
        }

        private static Socket Bound(int host)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, (byte)host]), 0));
            return socket;
        }
    }
}
