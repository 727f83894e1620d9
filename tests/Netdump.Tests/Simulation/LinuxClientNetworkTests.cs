using Netdump.Actors.Protocol.Linux;
using Netdump.App.Simulation;

namespace Netdump.Tests.Simulation;

public sealed class LinuxClientNetworkTests
{
    /// <summary>How long the pull below waits for answers before it asks again for what is missing.</summary>
    private static readonly TimeSpan Retry = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// A whole dump pulled the way a server does it, through a lossy, duplicating, reordering
    /// network: every request is repeated until its answer is in, and the memory that arrives
    /// is the client's, page for page.
    /// </summary>
    [Fact]
    public async Task A_whole_dump_survives_loss_duplication_and_reordering()
    {
        using var server = new LinuxFakeServer();
        var client = new LinuxSimulatedClient(server.Options() with
        {
            Reserved = [new PfnRange(0x9, 0xc)],
            Loss = 0.1,
            Duplicate = 0.2,
            Reorder = 0.5,
            Seed = 3,
            ResendAfter = Retry,
            MaxSends = 200,
        });
        var run = server.Run(client);
        var memory = client.Memory;

        // The handshake: ack and ask until an answer shows the ack got through (a late ack only costs a REPLY_ERROR).
        await server.ReceiveThroughAsync(LinuxReplyCode.StartNetdump);
        uint nr = 1;
        LinuxFakeServer.Reply? answer = null;
        while (answer is null)
        {
            server.Send(LinuxCommand.StartNetdumpAck, nr++, 5);
            server.Send(LinuxCommand.GetNrPages, nr++);
            answer = await Collect(server, r => r.Header.Code == LinuxReplyCode.NrPages);
        }

        Assert.Equal(memory.Pages, answer.Header.Info);

        var pages = new byte[memory.Pages][];
        var chunks = new int[memory.Pages];
        var reserved = new bool[memory.Pages];
        var requestFrame = new Dictionary<uint, uint>();
        while (Enumerable.Range(0, (int)memory.Pages).Any(p => chunks[p] != 0xf && !reserved[p]))
        {
            for (uint pfn = 0; pfn < memory.Pages; pfn++)
            {
                if (chunks[pfn] != 0xf && !reserved[pfn])
                {
                    requestFrame[++nr] = pfn;
                    server.Send(LinuxCommand.SendMem, nr, pfn);
                }
            }

            await Collect(server, reply =>
            {
                if (!requestFrame.TryGetValue(reply.Header.Sequence, out var pfn))
                {
                    return false;
                }

                if (reply.Header.Code == LinuxReplyCode.Reserved)
                {
                    reserved[pfn] = true;
                    Assert.Equal(0xcu, reply.Header.Info);
                }
                else
                {
                    Assert.Equal(LinuxReplyCode.Mem, reply.Header.Code);
                    pages[pfn] ??= new byte[LinuxMemory.PageSize];
                    reply.Payload.CopyTo(pages[pfn], reply.Header.Info);
                    chunks[pfn] |= 1 << (int)(reply.Header.Info / LinuxReplyHeader.MemChunk);
                }

                return false;
            });
        }

        var expected = new byte[LinuxMemory.PageSize];
        for (uint pfn = 0; pfn < memory.Pages; pfn++)
        {
            Assert.Equal(!memory.IsRam(pfn), reserved[pfn]);
            if (memory.IsRam(pfn))
            {
                memory.ReadPage(pfn, expected);
                Assert.Equal(expected, pages[pfn]);
            }
        }

        // COMM_REBOOT is never answered: the server sends it until the client is gone.
        while (!run.IsCompleted)
        {
            server.Send(LinuxCommand.Reboot, ++nr);
            await Task.WhenAny(run, Task.Delay(Retry));
        }

        var result = await run;
        Assert.True(result.Success, result.Error);
        Assert.True(result.RepeatedRequests > 0);
        Assert.True(result.PagesSent >= memory.RamPages);
    }

    /// <summary>Hands every reply to <paramref name="take"/> until it says yes (that reply) or <see cref="Retry"/> passes quietly (null).</summary>
    private static async Task<LinuxFakeServer.Reply?> Collect(LinuxFakeServer server, Func<LinuxFakeServer.Reply, bool> take)
    {
        while (await server.TryReceiveAsync(Retry) is { } reply)
        {
            if (take(reply))
            {
                return reply;
            }
        }

        return null;
    }
}
