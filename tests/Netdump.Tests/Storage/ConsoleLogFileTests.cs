using System.Text;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>A Linux dump's log: console text placed by stream offset, whatever order and copies it comes in (SPEC §7).</summary>
public sealed class ConsoleLogFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Path => System.IO.Path.Combine(_temp.Path, ConsoleLogFile.FileName);

    private static byte[] Text(string s) => Encoding.ASCII.GetBytes(s);

    private string Logged(ConsoleLogFile log)
    {
        log.Dispose();
        return File.ReadAllText(Path);
    }

    [Fact]
    public void Text_that_came_before_the_first_packet_out_of_order_is_placed_before_it()
    {
        var panic = "Kernel panic - not syncing: Fatal exception\n"; // 44 bytes, offset 0
        var log = ConsoleLogFile.Create(Path, [], next: 0);

        Assert.True(log.Write(44, Text("netdump: waiting for the server\n")));
        Assert.True(log.Write(0, Text(panic)));
        log.Write(0, Text(panic)); // a duplicate now: the same bytes again

        Assert.Equal(panic + "netdump: waiting for the server\n", Logged(log));
    }

    [Fact]
    public void Out_of_order_text_leaves_zeros_for_what_never_came_and_fills_them_when_it_does()
    {
        var log = ConsoleLogFile.Create(Path, [], next: 0);

        log.Write(10, Text("c\n"));
        log.Write(6, Text("b\n"));  // before the first: the text so far moves up
        log.Write(0, Text("a\n"));
        log.Write(8, Text("B\n"));

        Assert.Equal("a\n\0\0\0\0b\nB\nc\n", Logged(log));
    }

    [Fact]
    public void The_copied_console_text_is_not_written_twice()
    {
        var log = ConsoleLogFile.Create(Path, Text("boot\noops\n"), next: 10);

        Assert.False(log.Write(5, Text("oops\n")));          // a late copy of copied text
        Assert.True(log.Write(5, Text("oops\npanic\n")));    // only its new part
        Assert.True(log.Write(16, Text("dumping\n")));

        Assert.Equal("boot\noops\npanic\ndumping\n", Logged(log));
    }

    [Fact]
    public void A_stream_that_started_again_unseen_goes_after_the_copied_text_of_the_boot_before()
    {
        // the console file knew the old boot up to offset 17633; the new boot's packet at 0 was lost
        var log = ConsoleLogFile.Create(Path, Text("old boot: all quiet\n"), next: 17633);

        Assert.True(log.Write(33, Text("Oops: 0002 [#1]\n")));
        Assert.True(log.Write(49, Text("Kernel panic - not syncing: Fatal exception\n")));
        Assert.True(log.Write(20, Text("new boot\n"))); // before it, out of order

        Assert.Equal("old boot: all quiet\nnew boot\n\0\0\0\0Oops: 0002 [#1]\nKernel panic - not syncing: Fatal exception\n", Logged(log));
    }

    [Fact]
    public void Packets_that_come_ever_further_back_at_the_dumps_start_are_placed_without_moving_the_text_in_the_file()
    {
        // the Linux port's thread writes the log, the packet path of every Linux client: a move of
        // what the file holds, for each packet that came before all so far, read and wrote the
        // dump's whole text again each time (a spoofer of the client's address sends them at will)
        var log = ConsoleLogFile.Create(Path, [], next: 0);
        static byte[] Line(int i) => Text($"{i:D6}".PadRight(1023, '.') + "\n");
        const int Own = 256, Before = 300;
        for (var i = Before; i < Before + Own; i++)
        {
            Assert.True(log.Write((uint)(1024 * i), Line(i)));
        }

        var written = ThreadIo.Current().Written;
        for (var i = Before - 1; i >= 0; i--)
        {
            Assert.True(log.Write((uint)(1024 * i), Line(i))); // before every line so far
        }

        var cost = ThreadIo.Current().Written - written;
        Assert.True(cost <= Before * 1024L, $"{cost} bytes written for {Before} packets of 1 KiB");
        Assert.Equal(string.Concat(Enumerable.Range(0, Before + Own).Select(i => Encoding.ASCII.GetString(Line(i)))), Logged(log));
    }

    [Fact]
    public void A_repeat_of_the_dumps_own_text_is_not_new_text()
    {
        // the pull reads a sign of life from new text: the same packet again (anyone can send it,
        // console text is matched by address only) once kept a dead client's dump receiving
        var log = ConsoleLogFile.Create(Path, Text("boot\n"), next: 5);

        Assert.True(log.Write(5, Text("netdump: dumping\n")));
        Assert.False(log.Write(5, Text("netdump: dumping\n")));
        Assert.True(log.Write(22, Text("done\n")));
        Assert.False(log.Write(5, Text("netdump: dumping\n")));

        Assert.Equal("boot\nnetdump: dumping\ndone\n", Logged(log));
    }

    [Fact]
    public void Text_past_the_cap_is_not_written()
    {
        var log = ConsoleLogFile.Create(Path, [], next: 0);

        Assert.True(log.Write(0, Text("start\n")));
        Assert.False(log.Write((uint)ConsoleLogFile.MaxBytes, Text("too far\n")));

        Assert.Equal("start\n", Logged(log));
    }
}
