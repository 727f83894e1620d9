using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;
using Netdump.Tests.Storage;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Linux (Red Hat) netdump clients, simulated as the RHEL4 module behaves, dumping over
/// loopback into a real server (SPEC §7): the pull, the ELF core, the console log, the reboot.
/// </summary>
public sealed partial class LinuxDumpTests : ServerTests
{
    /// <summary>The Linux port on a free loopback port (0 would turn it off).</summary>
    protected override Dictionary<string, object?> Defaults() => new() { ["secure"] = false, ["linux_port"] = FreeUdpPort() };

    internal static int FreeUdpPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static LinuxSimulationOptions Client(ServerHarness server, string source) => new()
    {
        Server = server.LinuxEndpoint!,
        Source = IPAddress.Parse(source),
        ResendAfter = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>Completes once the server asked the client for its first page: the dump is under way.</summary>
    private static Task FirstPageRequested(LinuxSimulatedClient client)
    {
        var requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Progress = line =>
        {
            if (line.StartsWith("memory: first page requested", StringComparison.Ordinal))
            {
                requested.TrySetResult();
            }
        };
        return requested.Task;
    }

    /// <summary>Every page of the client's memory at its place in the core: RAM byte-exact, the rest zeros.</summary>
    private static void AssertCoreHoldsMemory(LinuxSimulatedClient client, string vmcore)
    {
        using var file = File.OpenRead(vmcore);
        var header = new byte[4096];
        file.ReadExactly(header);
        Assert.True(ElfCoreLayout.TryCreate(client.Start.Machine, LinuxMemory.PageSize, client.Memory.Pages, client.Start.PageOffset, out var layout, out var problem), problem);
        Assert.Equal(layout!.FileSize, file.Length);
        var expected = new byte[LinuxMemory.PageSize];
        var actual = new byte[LinuxMemory.PageSize];
        for (uint pfn = 0; pfn < client.Memory.Pages; pfn++)
        {
            if (client.Memory.IsRam(pfn))
            {
                client.Memory.ReadPage(pfn, expected);
            }
            else
            {
                Array.Clear(expected);
            }

            file.Position = ElfCoreSample.OffsetOf(layout, pfn);
            file.ReadExactly(actual);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"page {pfn} differs");
        }
    }

    [Fact]
    public async Task A_Linux_client_dumps_its_memory_byte_exact_into_an_ELF_core_with_its_console_log_and_is_rebooted()
    {
        var server = await Start();
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.1") with
        {
            Memory = 2 << 20,
            Reserved = [new PfnRange(0x9f, 0x100), new PfnRange(0x180, 0x1a0)],
        });

        var result = await client.RunAsync();

        Assert.True(result.Success, $"{result.End}: {result.Error}");
        var dir = server.SingleDumpOf("127.0.9.1");
        var json = await ServerHarness.WaitForEndAsync(dir);
        Assert.Equal("complete", json.GetProperty("status").GetString());
        Assert.Equal("linux", json.GetProperty("dialect").GetString());
        var end = await server.WaitForLogAsync("Client 127.0.9.1:", "dump complete");
        Assert.Matches(@"; Linux START from port \d+ \(ELF machine 62, protocol version 5\)$", end);
        Assert.Equal(512UL, json.GetProperty("pages").GetUInt64());
        Assert.Equal(4096U, json.GetProperty("page_size").GetUInt32());
        Assert.True(json.GetProperty("registers").GetBoolean());
        Assert.Equal("Kernel panic - not syncing: simulated panic", json.GetProperty("panic_string").GetString());
        Assert.Equal(2, json.GetProperty("reserved").GetArrayLength());
        Assert.Equal(0, json.GetProperty("holes").GetArrayLength());
        var info = File.ReadAllText(Path.Combine(dir, "info"));
        Assert.Contains("  Holes: none\n", info);
        Assert.Contains("  Dialect: Linux netdump, protocol version 5", info);
        AssertCoreHoldsMemory(client, Path.Combine(dir, "vmcore"));
        Assert.Equal((ulong)new FileInfo(Path.Combine(dir, "vmcore")).Length, json.GetProperty("dump_length").GetUInt64());
        Assert.Contains("Kernel panic - not syncing: simulated panic", File.ReadAllText(Path.Combine(dir, "log")));

        // no hostname comes from a Linux client: its link is named by its address
        json = await ServerHarness.WaitForJsonAsync(dir, j => j.GetProperty("sha256").ValueKind == System.Text.Json.JsonValueKind.String);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, "vmcore")))), json.GetProperty("sha256").GetString());
        Assert.Equal(Path.GetFileName(dir), new FileInfo(Path.Combine(server.DumpDir, "127.0.9.1.last")).LinkTarget);

        // zero and reserved pages were never written: the file's blocks hold the other pages only
        var written = Enumerable.Range(0, (int)client.Memory.Pages).Count(pfn => !client.Memory.IsZero((uint)pfn));
        var blocks = Storage.ElfCoreToolTests.Run("stat", "-c", "%b %B", Path.Combine(dir, "vmcore")).Split(' ');
        var allocated = long.Parse(blocks[0]) * long.Parse(blocks[1]);
        Assert.InRange(allocated, written * 4096L, (written + 8) * 4096L); // plus the header page and the file system's own rounding
    }

    [Theory]
    [InlineData("x86_64", "rip")]
    [InlineData("i386", "eip")]
    public async Task The_core_opens_in_gdb_with_the_registers_the_client_sent(string arch, string register)
    {
        var server = await Start();
        var machine = LinuxMachine.All.Single(m => m.Name == arch);
        var client = new LinuxSimulatedClient(Client(server, "127.0.9.2") with { Memory = 1 << 20, Machine = machine });

        var result = await client.RunAsync();

        Assert.True(result.Success, $"{result.End}: {result.Error}");
        var core = Path.Combine(server.SingleDumpOf("127.0.9.2"), "vmcore");
        await ServerHarness.WaitForEndAsync(server.SingleDumpOf("127.0.9.2"));
        var readelf = Storage.ElfCoreToolTests.Run("readelf", "-W", "-h", "-l", "-n", core);
        Assert.Contains("NT_PRSTATUS", readelf);
        Assert.Contains(arch == "i386" ? "ELF32" : "ELF64", readelf);
        var gdb = Storage.ElfCoreToolTests.Run("gdb", "-batch", "-nx", "-c", core, "-ex", $"info registers {register}");
        Assert.Contains($"0x{machine.InstructionPointer:x}", gdb);
    }

    /// <summary>
    /// A client with 64 KiB pages (ia64, ppc64 kernels): 64 chunks a page. A page's chunks were
    /// once tracked in 32 bits, so such a page never completed and the dump never ended.
    /// </summary>
    [Fact]
    public async Task A_client_with_64_KiB_pages_dumps_complete()
    {
        var server = await Start();
        var client = new HandAnsweredClient(server, "127.0.9.12", pageSize: 64 << 10, pages: 3, seed: 12);

        client.AnswerUntilRebooted();

        var dir = server.SingleDumpOf("127.0.9.12");
        Assert.Equal("complete", (await ServerHarness.WaitForEndAsync(dir)).GetProperty("status").GetString());
        client.AssertCoreHoldsMemory(dir);
    }

    [Fact]
    public async Task A_client_is_told_to_reboot_once_its_dump_is_final_and_its_reports_are_written()
    {
        // SPEC §7: fsync, reports, then the reboot. Reports that find no room (dump.json cannot be
        // renamed into place) hold the reboot until they are written, and not a moment longer
        var server = await Start();
        string? blocker = null;
        var client = new HandAnsweredClient(server, "127.0.9.14", pageSize: 4096, pages: 8, seed: 14)
        {
            OnPage = () =>
            {
                if (blocker is null)
                {
                    var json = Path.Combine(server.SingleDumpOf("127.0.9.14"), "dump.json");
                    File.Delete(json); // a first receiving report, should a flush tick have come already
                    blocker = Directory.CreateDirectory(Path.Combine(json, "x")).Parent!.FullName;
                }
            },
            OnShowState = () =>
            {
                _ = Task.Run(async () =>
                {
                    await server.WaitForLogAsync("Client 127.0.9.14: cannot write the reports of");
                    Directory.Delete(blocker!, recursive: true); // room again: the reports are written
                });
                return true;
            },
        };

        client.AnswerUntilRebooted();

        var json = ServerHarness.ReadJson(server.SingleDumpOf("127.0.9.14")); // there when the reboot came
        Assert.Equal("complete", json.GetProperty("status").GetString());
    }

    private static void Reply(Socket client, IPEndPoint server, byte version, uint sequence,
        Netdump.Actors.Protocol.Linux.LinuxReplyCode code, uint info, byte[] payload)
    {
        var datagram = new byte[Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size + payload.Length];
        new Netdump.Actors.Protocol.Linux.LinuxReplyHeader(version, sequence, code, info).Write(datagram);
        payload.CopyTo(datagram, Netdump.Actors.Protocol.Linux.LinuxReplyHeader.Size);
        client.SendTo(datagram, server);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met");
            await Task.Delay(20);
        }
    }
}
