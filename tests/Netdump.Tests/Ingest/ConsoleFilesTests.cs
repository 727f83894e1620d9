using System.Net;
using System.Text;
using Netdump.Actors.Ingest.Linux;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Ingest;

/// <summary>Console text of Linux clients outside a dump: once, in stream order, rotated, bounded in clients.</summary>
public sealed class ConsoleFilesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static IPAddress Client(int i) => new([127, 0, (byte)(i >> 8), (byte)(i & 0xff)]);

    private string Log(int i, string suffix = "") => Path.Combine(_temp.Path, ConsoleFiles.Folder, Client(i) + ".log" + suffix);

    [Fact]
    public void Text_is_kept_once_in_stream_order_and_a_restart_of_the_stream_goes_on()
    {
        var files = new ConsoleFiles(_temp.Path);
        files.Append(Client(1), 0, "boot\n"u8);
        files.Append(Client(1), 5, "oops\n"u8);
        files.Append(Client(1), 5, "oops\n"u8);      // a duplicate
        files.Append(Client(1), 3, "t\noops\nmore\n"u8); // overlapping: only the new bytes
        files.Append(Client(1), 0, "boot again\n"u8); // the client rebooted

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

        Assert.Equal("boot one, a long first boot\nboot one goes on\nOops: boot two\nKernel panic - not syncing\n", File.ReadAllText(Log(1)));
        Assert.Equal(47, files.Recent(Client(1)).Next);
    }

    [Fact]
    public void A_full_file_becomes_the_older_generation_and_recent_text_reads_across_both()
    {
        var files = new ConsoleFiles(_temp.Path);
        var line = Encoding.ASCII.GetBytes(new string('x', 1023) + "\n");
        var offset = 0u;
        for (var i = 0; i < ConsoleFiles.MaxFileBytes / line.Length + 2; i++)
        {
            files.Append(Client(1), offset, line);
            offset += (uint)line.Length;
        }

        Assert.True(File.Exists(Log(1, ".1")));
        Assert.True(new FileInfo(Log(1)).Length < ConsoleFiles.RecentBytes); // just rotated
        var (text, next) = files.Recent(Client(1));
        Assert.Equal(ConsoleFiles.RecentBytes, text.Length); // the rest comes from the older generation
        Assert.Equal(offset, next);
    }

    [Fact]
    public void A_client_past_the_limit_makes_room_by_forgetting_the_one_heard_least_recently()
    {
        var files = new ConsoleFiles(_temp.Path);
        for (var i = 1; i <= ConsoleFiles.MaxClients; i++)
        {
            files.Append(Client(i), 0, "hello\n"u8);
        }

        files.Append(Client(1), 6, "again\n"u8); // client 1 is heard again: client 2 is now the least recent
        files.Append(Client(ConsoleFiles.MaxClients + 1), 0, "Oops: the new client's\n"u8);

        Assert.Equal("Oops: the new client's\n", File.ReadAllText(Log(ConsoleFiles.MaxClients + 1)));
        Assert.Equal("hello\nagain\n", File.ReadAllText(Log(1)));
        Assert.False(File.Exists(Log(2)), "the least recent client's console is forgotten");
        Assert.Empty(files.Recent(Client(2)).Text);
        Assert.Equal(ConsoleFiles.MaxClients, Directory.GetFiles(Path.Combine(_temp.Path, ConsoleFiles.Folder)).Length);

        // a client forgotten and heard again starts over
        files.Append(Client(2), 6, "back\n"u8);
        Assert.Equal("back\n", File.ReadAllText(Log(2)));
        Assert.False(File.Exists(Log(3)));
    }
}
