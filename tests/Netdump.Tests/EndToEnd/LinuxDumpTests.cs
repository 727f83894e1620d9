using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Storage;
using Netdump.App.Simulation;

namespace Netdump.Tests.EndToEnd;

/// <summary>
/// Linux (Red Hat) netdump clients, simulated as the RHEL4 module behaves, dumping over
/// loopback into a real server (SPEC §7): the pull, the ELF core, the console log, the reboot.
/// </summary>
public sealed class LinuxDumpTests : IAsyncLifetime
{
    private ServerHarness? _server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A server with the Linux port on a free loopback port (0 would turn it off).</summary>
    private async Task<ServerHarness> Start(Dictionary<string, object?>? settings = null)
    {
        var keys = new Dictionary<string, object?> { ["secure"] = false, ["linux_port"] = FreeUdpPort() };
        foreach (var (k, v) in settings ?? [])
        {
            keys[k] = v;
        }

        return _server = await ServerHarness.StartAsync(keys);
    }

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

            file.Position = layout.OffsetOf(pfn);
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
        Assert.Equal(512UL, json.GetProperty("pages").GetUInt64());
        Assert.Equal(4096U, json.GetProperty("page_size").GetUInt32());
        Assert.True(json.GetProperty("registers").GetBoolean());
        Assert.Equal("Kernel panic - not syncing: simulated panic", json.GetProperty("panic_string").GetString());
        Assert.Equal(2, json.GetProperty("reserved").GetArrayLength());
        AssertCoreHoldsMemory(client, Path.Combine(dir, "vmcore"));
        Assert.Contains("Kernel panic - not syncing: simulated panic", File.ReadAllText(Path.Combine(dir, "log")));
    }
}
