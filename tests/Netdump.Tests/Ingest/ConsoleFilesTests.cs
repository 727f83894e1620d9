using System.Net;
using System.Text;
using Netdump.Actors.Ingest.Linux;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Ingest;

/// <summary>
/// Console text of Linux clients outside a dump: once, in stream order, rotated, bounded in
/// clients; its files written by a thread of their own (<c>Dispose</c> writes what waits).
/// </summary>
public sealed class ConsoleFilesTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static IPAddress Client(int i) => new([127, 0, (byte)(i >> 8), (byte)(i & 0xff)]);

    private string Log(int i, string suffix = "") => Path.Combine(_temp.Path, ConsoleFiles.Folder, Client(i) + ".log" + suffix);

    private static string TextOf(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    private static long SizeOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    [Fact]
    public void Text_is_kept_once_in_stream_order_and_a_restart_of_the_stream_goes_on()
    {
        var files = new ConsoleFiles(_temp.Path);
        files.Append(Client(1), 0, "boot\n"u8);
        files.Append(Client(1), 5, "oops\n"u8);
        files.Append(Client(1), 5, "oops\n"u8);      // a duplicate
        files.Append(Client(1), 3, "t\noops\nmore\n"u8); // overlapping: only the new bytes
        files.Append(Client(1), 0, "boot again\n"u8); // the client rebooted
        files.Dispose();

        Assert.Equal("boot\noops\nmore\nboot again\n", File.ReadAllText(Log(1)));
    }

    [Fact]
    public void A_stream_that_started_again_without_its_first_packet_is_kept_not_taken_for_a_duplicate()
    {
        var files = new ConsoleFiles(_temp.Path);
        files.Append(Client(1), 0, "boot one, a long first boot\n"u8);   // 28 bytes
        files.Append(Client(1), 28, "boot one goes on\n"u8);             // the stream at 45
        // the client boots again; its packet at offset 0 is lost
        files.Append(Client(1), 5, "Oops: boot two\n"u8);
        files.Append(Client(1), 20, "Kernel panic - not syncing\n"u8);
        files.Append(Client(1), 20, "Kernel panic - not syncing\n"u8);  // a duplicate of the new stream
        files.Dispose();

        Assert.Equal("boot one, a long first boot\nboot one goes on\nOops: boot two\nKernel panic - not syncing\n", File.ReadAllText(Log(1)));
        Assert.Equal(47, files.Recent(Client(1)).Next);
    }

    [Fact]
    public async Task A_full_file_becomes_the_older_generation_and_recent_text_reads_across_both()
    {
        var files = new ConsoleFiles(_temp.Path);
        var line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        var offset = 0u;
        // past the size by more than one of the writer's appends (each takes what came since the
        // one before): the file is made older before the next
        for (var i = 0; i < ConsoleFiles.MaxFileBytes / line.Length + 32; i++)
        {
            files.Append(Client(1), offset, line);
            offset += (uint)line.Length;
            if (i % 16 == 15)
            {
                // a pace a disk keeps: more than RecentBytes ahead of the writer, the oldest text waiting is lost to the file
                var appended = offset;
                await Waiting.Until(() => SizeOf(Log(1)) + SizeOf(Log(1, ".1")) == appended, Patience, $"{appended} bytes in the files");
            }
        }

        files.Dispose();
        Assert.True(File.Exists(Log(1, ".1")));
        Assert.True(new FileInfo(Log(1)).Length < ConsoleFiles.RecentBytes); // just rotated
        var (text, next) = files.Recent(Client(1));
        Assert.Equal(ConsoleFiles.RecentBytes, text.Length); // the rest comes from the older generation
        Assert.Equal(offset, next);
    }

    [Fact]
    public async Task A_client_past_the_limit_makes_room_by_forgetting_the_one_heard_least_recently()
    {
        var files = new ConsoleFiles(_temp.Path);
        for (var i = 1; i <= ConsoleFiles.MaxClients; i++)
        {
            files.Append(Client(i), 0, "hello\n"u8);
        }

        files.Append(Client(1), 6, "again\n"u8); // client 1 is heard again: client 2 is now the least recent
        files.Append(Client(ConsoleFiles.MaxClients + 1), 0, "Oops: the new client's\n"u8);

        Assert.Equal("Oops: the new client's\n", Encoding.ASCII.GetString(files.Recent(Client(ConsoleFiles.MaxClients + 1)).Text));
        Assert.Empty(files.Recent(Client(2)).Text); // forgotten at once, its files going
        await Waiting.Until(() => TextOf(Log(ConsoleFiles.MaxClients + 1)) == "Oops: the new client's\n", Patience, "the new client's file");
        await Waiting.Until(() => TextOf(Log(1)) == "hello\nagain\n", Patience, "client 1's file");
        await Waiting.Until(() => !File.Exists(Log(2)), Patience, "the least recent client's file removed");
        Assert.Equal(ConsoleFiles.MaxClients, Directory.GetFiles(Path.Combine(_temp.Path, ConsoleFiles.Folder)).Length);

        // a client forgotten and heard again starts over
        files.Append(Client(2), 6, "back\n"u8);
        files.Dispose();
        Assert.Equal("back\n", File.ReadAllText(Log(2)));
        Assert.False(File.Exists(Log(3)));
    }

    [Fact]
    public async Task A_repeated_packet_is_recognised_without_reading_the_clients_file()
    {
        var files = new ConsoleFiles(_temp.Path);
        files.Append(Client(1), 0, "boot\n"u8);
        files.Append(Client(1), 5, "oops\n"u8);
        await Waiting.Until(() => TextOf(Log(1)) == "boot\noops\n", Patience, "the client's file");
        // a file that cannot be read without waiting (a named pipe: its open waits for a writer),
        // as a disk that has stalled: the caller is the Linux port's thread, every Linux client's
        File.Delete(Log(1));
        Fifo.Make(Log(1));

        var repeat = Task.Run(() => files.Append(Client(1), 5, "oops\n"u8));

        var done = await Task.WhenAny(repeat, Task.Delay(Patience));
        if (done != repeat)
        {
            await using (new FileStream(Log(1), FileMode.Open, FileAccess.Write)) // lets the stuck reader go
            {
            }
        }

        Assert.True(done == repeat, "the repeat waited for the client's file");
    }
}
