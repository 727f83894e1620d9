using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.App.Simulation;

/// <summary>
/// One boot and crash of the simulated Linux client over one UDP socket, following RHEL4's
/// <c>netconsole.c</c> (console text) and <c>netdump.c</c> (<c>netdump_startup_handshake</c>, then
/// <c>netpoll_netdump</c>'s request loop), with the simulated network's loss, duplication and
/// reordering. Blocking, on the caller's thread.
/// </summary>
internal sealed partial class LinuxTransfer : IDisposable
{
    private const string StartupLine = "[...network console startup...]\n";

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

    private LinuxSimulationResult End(LinuxClientEnd end, string? error) =>
        new(end, error, version, startsSent, requestsReceived, repeatedRequests, pagesSent, packetsSent, Stopwatch.GetElapsedTime(started));

    private void Report(string line) => progress?.Invoke(line);
}
