using System.Net;
using Netdump.Actors.Ingest.Linux;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Ingest;

/// <summary>
/// The console files' memory while their writer is stuck: measured over the whole process, so
/// it runs alone.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ConsoleFilesMemoryTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task A_flood_of_new_addresses_while_the_writer_is_stuck_holds_bounded_memory()
    {
        var stuck = IPAddress.Parse("127.0.0.1");
        var path = Path.Combine(_temp.Path, ConsoleFiles.Folder, "127.0.0.1.log");
        var files = new ConsoleFiles(_temp.Path);
        files.Append(stuck, 0, "boot\n"u8);
        await Waiting.Until(() => File.Exists(path) && File.ReadAllText(path) == "boot\n", TimeSpan.FromSeconds(10), "the first text written");
        // the client's file becomes a named pipe, whose open waits for a reader: a hung disk
        File.Delete(path);
        Fifo.Make(path);
        var text = new byte[200];
        Array.Fill(text, (byte)'x');
        text[^1] = (byte)'\n';

        var before = GC.GetTotalMemory(forceFullCollection: true);
        long offset = 5;
        for (var i = 0; i < 100_000; i++)
        {
            if (i % 256 == 0)
            {
                // the stuck client stays in the table, so the writer, which takes it first, waits in its file
                files.Append(stuck, (uint)offset, text);
                offset += text.Length;
            }

            // spoofed sources, each heard once: each forgets the client heard least recently
            files.Append(new IPAddress([127, (byte)(1 + (i >> 16)), (byte)(i >> 8), (byte)i]), 0, text);
        }

        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;

        await using (new FileStream(path, FileMode.Open, FileAccess.Read)) // the writer goes on
        {
        }

        files.Dispose();
        // the writer's queue holds only clients in the table, at most 1,024: under 1 MB more
        // here; a queue that kept every forgotten client grew by 65-70 MB
        Assert.True(grown < 16 << 20, $"{grown >> 20} MiB more after 100,000 new addresses");
    }
}
