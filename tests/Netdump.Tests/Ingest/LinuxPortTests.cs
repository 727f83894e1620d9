using System.Net;
using Netdump.Actors.Ingest.Linux;

namespace Netdump.Tests.Ingest;

/// <summary>The Linux port's thread: idle, it sleeps until a datagram comes; stopped, it ends. (Its wake-up for a new pull: LinuxDumpTests.)</summary>
public sealed class LinuxPortTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("netdump-linux-port-").FullName;

    [Fact]
    public async Task An_idle_port_thread_sleeps_until_a_datagram_and_ends_when_the_port_is_disposed()
    {
        var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        port.Start(_ => { });
        var thread = await PortThread(port);
        var before = VoluntarySwitches(thread);

        // ten of the pulls' ticks: a thread that woke for them would have slept and woken as often
        await Task.Delay(LinuxPort.Tick * 10);
        Assert.InRange(VoluntarySwitches(thread) - before, 0, 2); // a ticking thread: about ten

        port.Dispose();
        // it waits without a timeout: only the socket shut for reading ends that wait
        await Waiting.Until(() => !Directory.Exists(thread), TimeSpan.FromSeconds(10), "the port's thread to end after Dispose");
    }

    /// <summary>The port's thread in /proc/self/task, by its name, once it has started.</summary>
    private static async Task<string> PortThread(LinuxPort port)
    {
        var name = $"linux-{port.LocalEndpoint.Port}";
        string? found = null;
        await Waiting.Until(() =>
        {
            found = Directory.GetDirectories("/proc/self/task").FirstOrDefault(task => ReadOrEmpty(Path.Combine(task, "comm")).Trim() == name);
            return found is not null;
        }, TimeSpan.FromSeconds(10), $"the thread {name}");
        // waiting in its receive: its state is S (sleeping) once it got there
        await Waiting.Until(() => ReadOrEmpty(Path.Combine(found!, "stat")).Contains(") S "), TimeSpan.FromSeconds(10), $"{name} asleep");
        return found!;
    }

    private static long VoluntarySwitches(string task) =>
        long.Parse(File.ReadLines(Path.Combine(task, "status")).Single(line => line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)).Split(':')[1].Trim());

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
