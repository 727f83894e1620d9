using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.App.Simulation;

/// <summary>
/// One boot and crash of the simulated Linux client over one UDP socket, following RHEL4's
/// <c>netconsole.c</c> (console text) and <c>netdump.c</c> (<c>netdump_startup_handshake</c>, then
/// <c>netpoll_netdump</c>'s request loop), with the simulated network's loss, duplication and
/// reordering. Blocking, on the caller's thread.
/// </summary>
internal sealed class LinuxTransfer : IDisposable
{
    private const string StartupLine = "[...network console startup...]\n";

    /// <summary>netconsole's <c>MAX_PRINT_CHUNK</c>: one printk leaves in pieces of at most this many bytes.</summary>
    private const int ConsoleChunk = 1000;

    /// <summary><c>command_tmp</c>, the kernel's reply text buffer.</summary>
    private const int CommandTextSize = 1024;

    private const int Slot = LinuxReplyHeader.Size + LinuxReplyHeader.MemChunk;
    private const int MaxBurst = 16;

    private readonly LinuxSimulationOptions options;
    private readonly LinuxMachine machine;
    private readonly LinuxMemory memory;
    private readonly byte[] startPayload;
    private readonly Action<string>? progress;
    private readonly CancellationToken cancellationToken;
    private readonly SimulatedNetwork network;
    private readonly long resendTicks;
    private readonly byte[] serverAddress;
    private readonly SocketAddress destination;
    private readonly SocketAddress from = new(AddressFamily.InterNetwork);
    private readonly byte[] receiveBuffer = new byte[2048];
    private readonly byte[] page = new byte[LinuxMemory.PageSize];

    // The datagrams of one answer, sent together (and shuffled together when reordered).
    private readonly byte[] burst = new byte[MaxBurst * Slot];
    private readonly int[] burstLengths = new int[MaxBurst];
    private readonly int[] order = new int[MaxBurst];
    private int burstCount;

    // The kernel's static command_tmp: SHOW_STATE answers with whatever text the last command left in it.
    private readonly byte[] commandText = new byte[CommandTextSize];

    private readonly BitArray pagesAnswered;
    private readonly HashSet<LinuxCommand> commandsAnswered = [];

    private Socket? socket;
    private uint consoleOffset;
    private byte version = LinuxSimulatedClient.NetdumpVersion;
    private long started;
    private long startsSent;
    private long requestsReceived;
    private long repeatedRequests;
    private long pagesSent;
    private long packetsSent;

    public LinuxTransfer(LinuxSimulatedClient client, Action<string>? progress, CancellationToken cancellationToken)
    {
        options = client.Options;
        machine = client.Machine;
        memory = client.Memory;
        startPayload = client.Start.Payload();
        this.progress = progress;
        this.cancellationToken = cancellationToken;
        network = new SimulatedNetwork(options.Loss, options.Duplicate, options.Reorder, options.Seed);
        resendTicks = Math.Max(1, (long)(options.ResendAfter.TotalSeconds * Stopwatch.Frequency));
        serverAddress = options.Server.Address.GetAddressBytes();
        destination = options.Server.Serialize();
        pagesAnswered = new BitArray((int)memory.Pages);
    }

    public LinuxSimulationResult Run()
    {
        started = Stopwatch.GetTimestamp();
        try
        {
            socket = SimulationSocket.Bind(options.Source, options.SourcePort);
        }
        catch (SocketException e)
        {
            return End(LinuxClientEnd.CannotBind, $"cannot bind {options.Source}:{options.SourcePort}: {e.Message}");
        }

        if (options.StartupLine)
        {
            Printk(StartupLine);
        }
        else
        {
            consoleOffset = (uint)StartupLine.Length;
        }

        foreach (var line in options.Console)
        {
            Printk(line.Length == 0 || line.EndsWith('\n') ? line : line + "\n");
        }

        Flush();
        Report($"console: {consoleOffset} bytes of log text");
        return Handshake() ?? Serve();
    }

    public void Dispose() => socket?.Dispose();

    /// <summary>START until an ACK: resent after a second of silence, and at once after any other request, which is dropped.</summary>
    private LinuxSimulationResult? Handshake()
    {
        while (startsSent < options.MaxSends)
        {
            Add(LinuxReplyCode.StartNetdump, machine.ElfMachine, LinuxSimulatedClient.MaxVersion, startPayload);
            Flush();
            startsSent++;
            if (!TryReceive(Stopwatch.GetTimestamp() + resendTicks, out var request))
            {
                continue;
            }

            requestsReceived++;
            if (request.Command != LinuxCommand.StartNetdumpAck)
            {
                continue;
            }

            version = machine.EffectiveVersion(request.From);
            if (version == 0)
            {
                return End(LinuxClientEnd.VersionRefused, $"server version {request.From}: \"server cannot handle this client -- rebooting\"");
            }

            Report($"START acked after {startsSent} sends: protocol version {version}");
            return null;
        }

        return End(LinuxClientEnd.NoAck, $"no START_NETDUMP_ACK after {startsSent} STARTs");
    }

    /// <summary><c>netpoll_netdump</c>'s loop: one request at a time, each answered at once, until REBOOT or EXIT.</summary>
    private LinuxSimulationResult Serve()
    {
        var silence = resendTicks * options.MaxSends;
        while (true)
        {
            if (!TryReceive(Stopwatch.GetTimestamp() + silence, out var request))
            {
                return End(LinuxClientEnd.ServerSilent, $"no request for {options.ResendAfter * options.MaxSends}");
            }

            requestsReceived++;
            CountRepeat(request);
            var nr = request.Sequence;
            switch (request.Command)
            {
                case LinuxCommand.None:
                    break;
                case LinuxCommand.SendMem:
                    if (!SendPage(request))
                    {
                        Report($"client died (simulated) after {pagesSent} pages");
                        return End(LinuxClientEnd.Died, $"client died (simulated) after {pagesSent} pages");
                    }

                    break;
                case LinuxCommand.Exit:
                    // The loop ends, and the reply after it carries nr 0, not the request's.
                    Reply(LinuxReplyCode.EndNetdump, 0, 0, Text("NETDUMP end.\n"));
                    return End(LinuxClientEnd.Exited, "server sent EXIT: the client left netdump mode and was never rebooted");
                case LinuxCommand.Reboot:
                    Report($"REBOOT received after {pagesSent} pages");
                    return End(LinuxClientEnd.Rebooted, null);
                case LinuxCommand.Hello:
                    Reply(LinuxReplyCode.Hello, nr, LinuxSimulatedClient.NetdumpVersion, Text($"Hello, this is netdump version 0.{LinuxSimulatedClient.NetdumpVersion:d2}\n"));
                    break;
                case LinuxCommand.GetPageSize:
                    Reply(LinuxReplyCode.PageSize, nr, LinuxMemory.PageSize, Text($"PAGE_SIZE: {LinuxMemory.PageSize}\n"));
                    break;
                case LinuxCommand.GetNrPages:
                    Reply(LinuxReplyCode.NrPages, nr, memory.Pages, Text($"Number of pages: {memory.Pages}\n"));
                    break;
                case LinuxCommand.GetRegs:
                    Reply(LinuxReplyCode.Regs, nr, memory.RamPages, Registers());
                    break;
                case LinuxCommand.ShowState:
                    ShowState();
                    Reply(LinuxReplyCode.ShowState, nr, 0, commandText.AsSpan(0, CommandTextLength()));
                    break;
                default:
                    Reply(LinuxReplyCode.Error, nr, (uint)request.Command, Text($"Got unknown command code {(int)request.Command}!\n"));
                    break;
            }
        }
    }

    /// <summary><c>send_netdump_mem</c>; false when the simulated client dies instead.</summary>
    private bool SendPage(LinuxRequest request)
    {
        var pfn = request.From;
        if (pfn >= memory.Pages)
        {
            // The kernel formats this text in a local buffer: command_tmp keeps its content.
            Reply(LinuxReplyCode.Error, request.Sequence, 0, Encoding.ASCII.GetBytes($"page {pfn:x8} is bigger than max page # {memory.Pages:x8}!\n"));
            return true;
        }

        if (!memory.IsRam(pfn))
        {
            Reply(LinuxReplyCode.Reserved, request.Sequence, memory.NextRam(pfn), []);
            return true;
        }

        if (options.DieAfterPages is { } limit && pagesSent >= limit)
        {
            return false;
        }

        memory.ReadPage(pfn, page);
        for (var offset = 0; offset < page.Length; offset += LinuxReplyHeader.MemChunk)
        {
            Add(LinuxReplyCode.Mem, request.Sequence, (uint)offset, page.AsSpan(offset, LinuxReplyHeader.MemChunk));
        }

        Flush();
        pagesSent++;
        if (pagesSent == 1)
        {
            Report($"memory: first page requested (pfn 0x{pfn:x})");
        }

        return true;
    }

    /// <summary><c>platform_get_regs</c>: the preamble then the gregset, written into command_tmp.</summary>
    private ReadOnlySpan<byte> Registers()
    {
        var preamble = Text(LinuxRegisters.Preamble).Length;
        var gregs = machine.Gregset();
        gregs.CopyTo(commandText, preamble);
        return commandText.AsSpan(0, preamble + gregs.Length);
    }

    /// <summary>
    /// What <c>show_regs</c>, <c>show_state</c> and <c>show_mem</c> print: with netdump mode off
    /// for the while, so it leaves as console text before REPLY_SHOW_STATE.
    /// </summary>
    private void ShowState()
    {
        var ip = machine.WordSize == 8 ? "RIP" : "EIP";
        var width = machine.WordSize * 2;
        Printk("\n");
        Printk("Pid: 1, comm: swapper Not tainted 2.6.9-simulated\n");
        Printk($"{ip}: 0010:[<{machine.InstructionPointer.ToString($"x{width}")}>] simulated_panic+0x0/0x10\n");
        Printk("                                               sibling\n");
        Printk("  task             PC          pid father child younger older\n");
        Printk($"init          S {machine.TaskStruct.ToString($"x{width}")}     0     1      0     2               (NOTLB)\n");
        Printk($"ksoftirqd/0   S {(machine.TaskStruct + 0x2000).ToString($"x{width}")}     0     2      1             3       (L-TLB)\n");
        Printk("Mem-info:\n");
        Printk($"{memory.Pages} pages of RAM\n");
    }

    /// <summary>netconsole's <c>write_msg</c>: REPLY_LOG packets of at most 1000 bytes, nr 0, info the running offset, version 4.</summary>
    private void Printk(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        for (var done = 0; done < bytes.Length; done += ConsoleChunk)
        {
            var length = Math.Min(ConsoleChunk, bytes.Length - done);
            Add(LinuxReplyCode.Log, 0, consoleOffset, bytes.AsSpan(done, length), LinuxSimulatedClient.NetdumpVersion);
            consoleOffset += (uint)length;
        }
    }

    /// <summary><c>sprintf(tmp, ...)</c>: the text, NUL-terminated, at the start of command_tmp.</summary>
    private ReadOnlySpan<byte> Text(string text)
    {
        var length = Encoding.ASCII.GetBytes(text, commandText);
        commandText[length] = 0;
        return commandText.AsSpan(0, length);
    }

    /// <summary><c>strlen(tmp)</c>.</summary>
    private int CommandTextLength()
    {
        var nul = Array.IndexOf(commandText, (byte)0);
        return nul < 0 ? commandText.Length : nul;
    }

    private void CountRepeat(LinuxRequest request)
    {
        if (request.Command == LinuxCommand.SendMem)
        {
            if (request.From < memory.Pages)
            {
                repeatedRequests += pagesAnswered[(int)request.From] ? 1 : 0;
                pagesAnswered[(int)request.From] = true;
            }
        }
        else if (!commandsAnswered.Add(request.Command))
        {
            repeatedRequests++;
        }
    }

    private void Reply(LinuxReplyCode code, uint nr, uint info, ReadOnlySpan<byte> payload)
    {
        Add(code, nr, info, payload);
        Flush();
    }

    /// <summary>Adds one datagram to the burst, with the effective version unless told otherwise.</summary>
    private void Add(LinuxReplyCode code, uint nr, uint info, ReadOnlySpan<byte> payload, byte? versionByte = null)
    {
        if (burstCount == MaxBurst)
        {
            Flush();
        }

        var slot = burst.AsSpan(burstCount * Slot, Slot);
        new LinuxReplyHeader(versionByte ?? version, nr, code, info).Write(slot);
        payload.CopyTo(slot[LinuxReplyHeader.Size..]);
        burstLengths[burstCount] = LinuxReplyHeader.Size + payload.Length;
        burstCount++;
    }

    private void Flush()
    {
        for (var i = 0; i < burstCount; i++)
        {
            order[i] = i;
        }

        network.MaybeShuffle(order.AsSpan(0, burstCount));
        foreach (var i in order.AsSpan(0, burstCount))
        {
            packetsSent++;
            if (network.Loses())
            {
                continue;
            }

            var datagram = burst.AsSpan(i * Slot, burstLengths[i]);
            Send(datagram);
            if (network.Duplicates())
            {
                Send(datagram);
            }
        }

        burstCount = 0;
    }

    private void Send(ReadOnlySpan<byte> datagram)
    {
        try
        {
            socket!.SendTo(datagram, SocketFlags.None, destination);
        }
        catch (SocketException)
        {
            // Refused or no buffer space: the packet is lost, as on a real wire.
        }
    }

    /// <summary>
    /// The next request before <paramref name="deadline"/>: netpoll passes only UDP from the
    /// server's address, <c>netdump_rx</c> drops anything shorter than a request, and nothing
    /// looks at the magic.
    /// </summary>
    private bool TryReceive(long deadline, out LinuxRequest request)
    {
        while (SimulationSocket.WaitReadable(socket!, deadline, cancellationToken))
        {
            int length;
            try
            {
                length = socket!.ReceiveFrom(receiveBuffer, SocketFlags.None, from);
            }
            catch (SocketException)
            {
                continue;
            }

            if (SimulationSocket.From(from, serverAddress)
                && LinuxRequest.TryRead(receiveBuffer.AsSpan(0, length), out request)
                && !network.Loses())
            {
                return true;
            }
        }

        request = default;
        return false;
    }

    private LinuxSimulationResult End(LinuxClientEnd end, string? error) =>
        new(end, error, version, startsSent, requestsReceived, repeatedRequests, pagesSent, packetsSent, Stopwatch.GetElapsedTime(started));

    private void Report(string line) => progress?.Invoke(line);
}
