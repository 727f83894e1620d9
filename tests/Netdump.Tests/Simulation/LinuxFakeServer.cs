using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Protocol.Linux;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

/// <summary>
/// A tiny Red Hat netdump server for testing the simulated Linux client: a UDP socket on
/// 127.0.0.1 port 0 that learns the client's address from its first packet, sends requests to
/// it and hands every reply over as it arrives, checked by the codec. It also runs the client,
/// and stops it when disposed, so that a failing test leaves no thread behind.
/// </summary>
internal sealed class LinuxFakeServer : IDisposable
{
    /// <summary>Not the client's magic: the kernel never looks at it.</summary>
    public const ulong RequestMagic = 0x0bad_0bad_0bad_0bad;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly UdpClient udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource stop = new();

    public sealed record Reply(LinuxReplyHeader Header, byte[] Payload);

    public IPEndPoint EndPoint => (IPEndPoint)udp.Client.LocalEndPoint!;

    public IPEndPoint? Client { get; private set; }

    /// <summary>Options for a client of this server, with a resend interval no busy machine reaches by accident.</summary>
    public LinuxSimulationOptions Options() => new()
    {
        Server = EndPoint,
        Memory = 64 * LinuxMemory.PageSize,
        ResendAfter = TimeSpan.FromMinutes(1),
        MaxSends = 3,
    };

    public Task<LinuxSimulationResult> Run(LinuxSimulatedClient client) =>
        client.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(30));

    public async Task<Reply> ReceiveAsync() =>
        await TryReceiveAsync(Patience) ?? throw new TimeoutException($"no reply within {Patience}");

    /// <summary>The next reply, or null when none comes within <paramref name="wait"/> (nothing is lost then).</summary>
    public async Task<Reply?> TryReceiveAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        UdpReceiveResult datagram;
        try
        {
            datagram = await udp.ReceiveAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        Client ??= datagram.RemoteEndPoint;
        var error = LinuxReplyHeader.TryRead(datagram.Buffer, out var header);
        Assert.True(error == LinuxReplyError.None, LinuxReplyHeader.Describe(error));
        return new Reply(header, datagram.Buffer[LinuxReplyHeader.Size..]);
    }

    /// <summary>Every reply up to and including the first with <paramref name="code"/>.</summary>
    public async Task<List<Reply>> ReceiveThroughAsync(LinuxReplyCode code)
    {
        var replies = new List<Reply>();
        do
        {
            replies.Add(await ReceiveAsync());
        }
        while (replies[^1].Header.Code != code);

        return replies;
    }

    /// <summary>The first reply that is neither console text nor a START (resent while the ack travelled).</summary>
    public async Task<Reply> AnswerAsync()
    {
        while (true)
        {
            var reply = await ReceiveAsync();
            if (reply.Header.Code is not (LinuxReplyCode.Log or LinuxReplyCode.StartNetdump))
            {
                return reply;
            }
        }
    }

    /// <summary>What is left in the socket once the client has finished (nothing more can come).</summary>
    public List<Reply> Drain()
    {
        var replies = new List<Reply>();
        while (udp.Available > 0)
        {
            IPEndPoint? from = null;
            var datagram = udp.Receive(ref from);
            LinuxReplyHeader.TryRead(datagram, out var header);
            replies.Add(new Reply(header, datagram[LinuxReplyHeader.Size..]));
        }

        return replies;
    }

    /// <summary>Waits for a START, acks it with <paramref name="version"/>, and returns the START.</summary>
    public async Task<Reply> AckAsync(uint version = 5)
    {
        var start = await ReceiveThroughAsync(LinuxReplyCode.StartNetdump);
        Send(LinuxCommand.StartNetdumpAck, 0, version);
        return start[^1];
    }

    public void Send(LinuxCommand command, uint nr, uint from = 0)
    {
        var request = new byte[LinuxRequest.Size];
        new LinuxRequest(RequestMagic, nr, command, from).Write(request);
        SendRaw(request);
    }

    public void SendRaw(byte[] datagram) =>
        udp.Send(datagram, datagram.Length, Client ?? throw new InvalidOperationException("no packet from the client yet"));

    public async Task<Reply> AskAsync(LinuxCommand command, uint nr, uint from = 0)
    {
        Send(command, nr, from);
        return await AnswerAsync();
    }

    /// <summary>SEND_MEM for a RAM page: its four chunks, checked and put together.</summary>
    public async Task<byte[]> PageAsync(uint pfn, uint nr)
    {
        Send(LinuxCommand.SendMem, nr, pfn);
        var page = new byte[LinuxMemory.PageSize];
        for (var i = 0; i < LinuxMemory.PageSize / LinuxReplyHeader.MemChunk; i++)
        {
            var chunk = await AnswerAsync();
            Assert.Equal((LinuxReplyCode.Mem, nr, (uint)(i * LinuxReplyHeader.MemChunk)), (chunk.Header.Code, chunk.Header.Sequence, chunk.Header.Info));
            chunk.Payload.CopyTo(page, chunk.Header.Info);
        }

        return page;
    }

    public void Dispose()
    {
        stop.Cancel();
        stop.Dispose();
        udp.Dispose();
    }
}
