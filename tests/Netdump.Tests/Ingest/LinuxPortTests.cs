using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Netdump.Actors.Ingest.Linux;
using Netdump.Actors.Protocol.Linux;
using Netdump.Tests.Protocol.Linux;

namespace Netdump.Tests.Ingest;

/// <summary>
/// The Linux port's thread: idle, it sleeps until a datagram comes; stopped, it ends; console
/// text outside a dump costs it no file. (Its wake-up for a new pull: LinuxDumpTests.)
/// </summary>
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

    [Fact]
    public async Task Console_text_outside_a_dump_costs_the_port_thread_no_file_and_a_flood_of_addresses_keeps_no_new_client_out()
    {
        var port = LinuxPort.Bind(IPAddress.Loopback, 0, _dir);
        var started = Channel.CreateUnbounded<IPAddress>();
        port.Start(message =>
        {
            if (message is LinuxPort.ConsoleStarted s)
            {
                started.Writer.TryWrite(s.Client);
            }
        });
        var thread = await PortThread(port);
        var startup = LinuxDatagrams.Ascii("[...network console startup...]\n"); // 32 bytes
        var oops = LinuxDatagrams.Ascii("Oops: 0002 [#1] SMP\n");
        var real = IPAddress.Parse("127.0.88.1");

        // Each datagram's source is its own address; a startup line (at offset 0) is answered
        // with ConsoleStarted once the port's thread has handled it, and every datagram before.
        async Task Send(IPAddress from, uint offset, byte[] text)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(from, 0));
            socket.SendTo(LinuxDatagrams.Reply(LinuxReplyCode.Log, offset, text), port.LocalEndpoint);
            if (offset == 0)
            {
                Assert.Equal(from, await started.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            }
        }

        IPAddress Spoofed(int i) => new([127, 89, (byte)(i >> 8), (byte)(i & 0xff)]);

        // once first, so that what runs once (a thread started, code compiled) is not counted
        await Send(IPAddress.Parse("127.0.88.2"), 0, startup);
        await Send(IPAddress.Parse("127.0.88.2"), 32, oops);
        await Send(IPAddress.Parse("127.0.88.2"), 32, oops);
        await Send(IPAddress.Parse("127.0.88.3"), 0, startup);
        var before = ThreadIo.OfTask(thread);

        // a flood of spoofed addresses, more than are kept; amid it a real client's console
        // (new text, a repeat of it, its oops), heard less than a table's worth before the end
        for (var i = 0; i < ConsoleFiles.MaxClients / 2; i++)
        {
            await Send(Spoofed(i), 0, startup);
        }

        await Send(real, 0, startup);
        await Send(real, 0, startup); // a repeat at 0 is a reboot: a new stream, kept
        await Send(real, 32, oops);
        await Send(real, 32, oops);   // a repeat
        for (var i = ConsoleFiles.MaxClients / 2; i < ConsoleFiles.MaxClients + 100; i++)
        {
            await Send(Spoofed(i), 0, startup);
        }

        // the port's thread wrote none of the console text (36 KiB came); the runtime writes for it
        // now and then, a few bytes: the name of a thread it starts. Reads are not compared: runs
        // saw the runtime read 1 KiB on it now and then.
        var written = ThreadIo.OfTask(thread).Written - before.Written;
        Assert.True(written < 1024, $"the port's thread wrote {written} bytes");
        var expected = Encoding.ASCII.GetString([.. startup, .. startup, .. oops]);
        Assert.Equal(expected, Encoding.ASCII.GetString(port.RecentConsole(real).Text));
        var files = Path.Combine(_dir, ConsoleFiles.Folder);
        await Waiting.Until(() => File.Exists(Path.Combine(files, real + ".log")) && File.ReadAllText(Path.Combine(files, real + ".log")) == expected,
            TimeSpan.FromSeconds(10), "the real client's console file");
        await Waiting.Until(() => !File.Exists(Path.Combine(files, Spoofed(0) + ".log")), TimeSpan.FromSeconds(10), "the least recent address's file removed");

        port.Dispose();
        Assert.Equal(ConsoleFiles.MaxClients, Directory.GetFiles(files).Length);
        Assert.Equal(expected, File.ReadAllText(Path.Combine(files, real + ".log")));
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
