using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Protocol.Linux;

public sealed class LinuxReplyHeaderTests
{
    // send_netdump_msg: netpoll_msg[0] = effective_version, then htonl(nr), htonl(code),
    // htonl(info) unaligned, then the message. Here: the third 1024-byte piece of a page.
    private const string MemHeaderHex =
        "05" + // effective version, negotiated with a version-5 server
        "0000002A" + // nr 42, the SEND_MEM request it answers
        "00000003" + // REPLY_MEM
        "00000800"; // info: offset 2048 in the page

    [Fact]
    public void Literal_reply_mem_is_read_field_by_field_big_endian()
    {
        var datagram = Convert.FromHexString(MemHeaderHex + new string('A', 2 * LinuxReplyHeader.MemChunk));

        var error = LinuxReplyHeader.TryRead(datagram, out var header);

        Assert.Equal(LinuxReplyError.None, error);
        Assert.Equal(new LinuxReplyHeader(5, 42, LinuxReplyCode.Mem, 2048), header);
    }

    [Fact]
    public void Literal_reply_reserved_without_payload_names_the_next_ram_page()
    {
        // send_netdump_mem for a pfn that is not RAM: msg_len 0, info = platform_next_available(nr)
        var datagram = Convert.FromHexString("05" + "00000007" + "00000004" + "00012345");

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(new LinuxReplyHeader(5, 7, LinuxReplyCode.Reserved, 0x12345), header);
    }

    [Fact]
    public void Literal_reply_log_carries_the_console_offset_in_info()
    {
        var datagram = Convert.FromHexString("04" + "00000000" + "00000002" + "0001F400" + Convert.ToHexString("Oops: 0002 [1] SMP \n"u8));

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(new LinuxReplyHeader(4, 0, LinuxReplyCode.Log, 128_000), header);
    }

    [Fact]
    public void Header_is_written_byte_by_byte_big_endian()
    {
        var buffer = new byte[LinuxReplyHeader.Size];

        new LinuxReplyHeader(5, 42, LinuxReplyCode.Mem, 2048).Write(buffer);

        Assert.Equal(MemHeaderHex, Convert.ToHexString(buffer));
    }

    [Fact]
    public void Header_with_every_field_distinct_is_written_in_network_order()
    {
        var buffer = new byte[LinuxReplyHeader.Size];

        new LinuxReplyHeader(0xF1, 0x01020304, (LinuxReplyCode)0x11121314, 0x21222324).Write(buffer);

        Assert.Equal("F1" + "01020304" + "11121314" + "21222324", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Write_touches_only_the_first_13_bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xAA, 20).ToArray();

        new LinuxReplyHeader(5, 1, LinuxReplyCode.Hello, 4).Write(buffer);

        Assert.All(buffer[LinuxReplyHeader.Size..], b => Assert.Equal(0xAA, b));
    }

    [Theory]
    [InlineData(LinuxReplyCode.None, 0u, 0)]
    [InlineData(LinuxReplyCode.Error, 9u, 30)]
    [InlineData(LinuxReplyCode.Log, 0xFFFFFFFFu, 1000)]
    [InlineData(LinuxReplyCode.Mem, 3072u, 1024)]
    [InlineData(LinuxReplyCode.Reserved, 0u, 0)]
    [InlineData(LinuxReplyCode.Hello, 4u, 36)]
    [InlineData(LinuxReplyCode.NrPages, 262144u, 24)]
    [InlineData(LinuxReplyCode.PageSize, 4096u, 16)]
    [InlineData(LinuxReplyCode.StartNetdump, 5u, 100)]
    [InlineData(LinuxReplyCode.EndNetdump, 0u, 13)]
    [InlineData(LinuxReplyCode.Regs, 253952u, 240)]
    [InlineData(LinuxReplyCode.Magic, 0u, 0)]
    [InlineData(LinuxReplyCode.ShowState, 0u, LinuxReplyHeader.MaxPayload)]
    public void Every_reply_code_round_trips_through_write_and_read(LinuxReplyCode code, uint info, int payload)
    {
        var written = new LinuxReplyHeader(5, 0x80000001, code, info);
        var datagram = LinuxDatagrams.Reply(code, info, payload, 0x80000001);

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var read));
        Assert.Equal(written, read);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(LinuxReplyHeader.Size - 1)]
    public void A_datagram_shorter_than_the_header_is_too_short_and_leaves_the_header_empty(int length)
    {
        var datagram = Enumerable.Repeat((byte)0x05, length).ToArray();

        Assert.Equal(LinuxReplyError.TooShort, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(default, header);
    }

    [Fact]
    public void The_largest_payload_is_accepted_and_one_byte_more_is_too_long_with_the_fields_kept_for_the_log()
    {
        Assert.Equal(1459, LinuxReplyHeader.MaxPayload); // a 1472-byte datagram: one Ethernet frame
        var fits = LinuxDatagrams.Reply(LinuxReplyCode.Log, 77, LinuxReplyHeader.MaxPayload);
        var tooLong = LinuxDatagrams.Reply(LinuxReplyCode.Log, 77, LinuxReplyHeader.MaxPayload + 1);

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(fits, out _));
        Assert.Equal(LinuxReplyError.TooLong, LinuxReplyHeader.TryRead(tooLong, out var header));
        Assert.Equal(new LinuxReplyHeader(5, 1, LinuxReplyCode.Log, 77), header);
    }

    [Theory]
    [InlineData(13u)] // the first code past REPLY_SHOW_STATE
    [InlineData(0x03000000u)] // REPLY_MEM written little-endian, as Wireshark's dissector reads info
    [InlineData(uint.MaxValue)]
    public void An_unknown_code_is_named_with_the_fields_kept_for_the_log(uint code)
    {
        var datagram = LinuxDatagrams.Reply((LinuxReplyCode)code, 5, 10);

        Assert.Equal(LinuxReplyError.UnknownCode, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(code, (uint)header.Code);
        Assert.Equal(5u, header.Info);
    }

    [Fact]
    public void A_payload_too_long_is_reported_before_an_unknown_code()
    {
        var datagram = LinuxDatagrams.Reply((LinuxReplyCode)99, 0, LinuxReplyHeader.MaxPayload + 1);

        Assert.Equal(LinuxReplyError.TooLong, LinuxReplyHeader.TryRead(datagram, out _));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1024u)]
    [InlineData(3072u)]
    [InlineData(15u * 1024)] // the last piece of a 16 KiB ia64 page
    [InlineData(0xFFFFFC00u)] // aligned: the page size is the session's business, not the header's
    public void Reply_mem_of_one_chunk_at_an_aligned_offset_is_valid(uint info)
    {
        var datagram = LinuxDatagrams.Reply(LinuxReplyCode.Mem, info, LinuxReplyHeader.MemChunk);

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(info, header.Info);
    }

    [Theory]
    [InlineData(0u, 0)]
    [InlineData(0u, 1023)]
    [InlineData(0u, 1025)]
    [InlineData(0u, 512)]
    [InlineData(1u, 1024)]
    [InlineData(512u, 1024)]
    [InlineData(1023u, 1024)]
    [InlineData(4097u, 1024)]
    [InlineData(uint.MaxValue, 1024)]
    public void Reply_mem_that_is_not_one_aligned_chunk_is_a_bad_chunk(uint info, int payload)
    {
        var datagram = LinuxDatagrams.Reply(LinuxReplyCode.Mem, info, payload);

        Assert.Equal(LinuxReplyError.BadMemChunk, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(new LinuxReplyHeader(5, 1, LinuxReplyCode.Mem, info), header);
    }

    [Fact]
    public void Only_reply_mem_is_held_to_the_chunk_rules()
    {
        // REPLY_LOG's info is a byte offset of the console stream: anything goes
        var datagram = LinuxDatagrams.Reply(LinuxReplyCode.Log, 513, 1023);

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out _));
    }

    [Fact]
    public void Every_error_is_described_in_its_own_words()
    {
        var descriptions = Enum.GetValues<LinuxReplyError>().Select(LinuxReplyHeader.Describe).ToList();

        Assert.Equal(descriptions.Count, descriptions.Distinct().Count());
        Assert.All(descriptions, d => Assert.DoesNotContain(d, Enum.GetNames<LinuxReplyError>()));
        Assert.Contains("1459", LinuxReplyHeader.Describe(LinuxReplyError.TooLong));
    }
}
