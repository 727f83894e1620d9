using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Protocol.Linux;

public sealed class LinuxStartTests
{
    // netdump_startup_handshake: sprintf("task_struct:0x%lx page_offset:0x%llx netdump_magic:0x%llx\n"),
    // nr = platform_machine_type(), info = NETDUMP_VERSION_MAX, sent before any version is agreed (4)
    private const string X8664Text =
        "task_struct:0xffff810001234000 page_offset:0xffff810000000000 netdump_magic:0x1234567811111111\n";

    private const string I386Text = "task_struct:0xc1a2b000 page_offset:0xc0000000 netdump_magic:0x1111111111111111\n";

    private static readonly LinuxReplyHeader X8664 = new(4, ElfMachine.X86_64, LinuxReplyCode.StartNetdump, 5);
    private static readonly LinuxReplyHeader I386 = new(4, ElfMachine.I386, LinuxReplyCode.StartNetdump, 5);

    [Fact]
    public void Literal_x86_64_start_datagram_is_read_and_parsed()
    {
        var datagram = Convert.FromHexString("04" + "0000003E" + "00000008" + "00000005" + Convert.ToHexString(LinuxDatagrams.Ascii(X8664Text)));

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.True(LinuxStart.TryParse(header, datagram.AsSpan(LinuxReplyHeader.Size), out var start, out var problem), problem);

        Assert.Equal(new LinuxStart(62, 5, 0xffff810001234000, 0xffff810000000000, 0x1234567811111111), start);
        Assert.False(ElfMachine.Is32Bit(start!.Machine));
    }

    [Fact]
    public void Literal_i386_start_with_32_bit_addresses_is_parsed()
    {
        Assert.True(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(I386Text), out var start, out var problem), problem);

        Assert.Equal(new LinuxStart(3, 5, 0xc1a2b000, 0xc0000000, 0x1111111111111111), start);
        Assert.True(ElfMachine.Is32Bit(start!.Machine));
    }

    [Theory]
    [InlineData("0x11111111", 0x11111111UL)] // magic2 = 0: %llx drops the leading zeros
    [InlineData("0x0", 0UL)] // no magic1/magic2 given to the module
    [InlineData("0xffffffffffffffff", ulong.MaxValue)]
    public void The_magic_is_read_as_the_number_percent_llx_printed(string magic, ulong expected)
    {
        var text = $"task_struct:0xc1a2b000 page_offset:0xc0000000 netdump_magic:{magic}\n";

        Assert.True(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(text), out var start, out var problem), problem);
        Assert.Equal(expected, start!.Magic);
    }

    [Fact]
    public void The_client_maximum_version_comes_from_info()
    {
        var olderClient = I386 with { Info = 4 };

        Assert.True(LinuxStart.TryParse(olderClient, LinuxDatagrams.Ascii(I386Text), out var start, out _));
        Assert.Equal(4u, start!.MaxVersion);
    }

    [Fact]
    public void Payload_is_written_exactly_as_the_kernel_formats_it()
    {
        var start = new LinuxStart(62, 5, 0xffff810001234000, 0xffff810000000000, 0x1234567811111111);

        Assert.Equal(X8664Text, System.Text.Encoding.ASCII.GetString(start.Payload()));
    }

    [Fact]
    public void Payload_round_trips_through_parse()
    {
        var written = new LinuxStart(3, 5, 0xc1a2b000, 0xc0000000, 0x0000000011111111);

        Assert.True(LinuxStart.TryParse(I386, written.Payload(), out var read, out _));
        Assert.Equal(written, read);
    }

    [Theory]
    [InlineData("task_struct:0xc1a2b000 page_offset:0xc0000000 netdump_magic:0x1111111111111111")] // no newline
    [InlineData("task_struct:0xc1a2b000 page_offset:0xc0000000 netdump_magic:0x1111111111111111\n\0")] // the C string's NUL sent too
    [InlineData("task_struct:0xC1A2B000 page_offset:0xC0000000 netdump_magic:0x1111111111111111\n")] // upper-case digits
    [InlineData("task_struct:0x00000000c1a2b000 page_offset:0xc0000000 netdump_magic:0x1111111111111111\n")] // leading zeros
    [InlineData("netdump_magic:0x1111111111111111 task_struct:0xc1a2b000 page_offset:0xc0000000\n")] // another order
    [InlineData("task_struct:0xc1a2b000  page_offset:0xc0000000 cpu:0x1 netdump_magic:0x1111111111111111\n")] // a field not known here
    public void Variations_of_the_format_that_keep_its_meaning_are_accepted(string text)
    {
        Assert.True(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(text), out var start, out var problem), problem);
        Assert.Equal(new LinuxStart(3, 5, 0xc1a2b000, 0xc0000000, 0x1111111111111111), start);
    }

    [Theory]
    [InlineData("page_offset:0xc0000000 netdump_magic:0x1111111111111111\n")]
    [InlineData("task_struct:0xc1a2b000 netdump_magic:0x1111111111111111\n")]
    [InlineData("task_struct:0xc1a2b000 page_offset:0xc0000000\n")]
    [InlineData("task_struct:0xc1a2b000 page_offset:0xc0000000 netdump_majic:0x1111111111111111\n")]
    [InlineData("")]
    [InlineData("\n")]
    public void A_start_without_all_three_fields_is_refused(string text)
    {
        Assert.False(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(text), out var start, out var problem));
        Assert.Null(start);
        Assert.Equal("START payload lacks task_struct, page_offset or netdump_magic", problem);
    }

    [Theory]
    [InlineData("task_struct:0xc1a2z000")] // not a hex digit
    [InlineData("task_struct:c1a2b000")] // no 0x
    [InlineData("task_struct:0Xc1a2b000")]
    [InlineData("task_struct:0x")] // no digits
    [InlineData("task_struct:0x10000000000000000")] // 17 digits: more than 64 bits
    [InlineData("task_struct:0x0000000000000000001")] // 19 digits, even with a small value
    [InlineData("task_struct:0x-1")]
    [InlineData("task_struct:0x+1")]
    [InlineData("task_struct:0x0x1")]
    [InlineData("task_struct:0x1:0x2")]
    [InlineData("task_struct:0x 1")] // splits into "task_struct:0x" and "1"
    [InlineData("task_struct:0xc1a2b000\t")] // a tab is not a separator
    [InlineData("task_struct:0xc1a2b000\r")]
    [InlineData("task_struct")] // no colon
    [InlineData("task_struct:0xc1a2b\u00e9000")] // not ASCII
    public void A_start_field_that_is_not_name_colon_hex_is_refused(string field)
    {
        var text = $"{field} page_offset:0xc0000000 netdump_magic:0x1111111111111111\n";

        Assert.False(LinuxStart.TryParse(I386, System.Text.Encoding.UTF8.GetBytes(text), out var start, out var problem));
        Assert.Null(start);
        Assert.Equal("START payload is not \"name:0xHEX\" fields", problem);
    }

    [Fact]
    public void A_payload_longer_than_256_bytes_is_refused_before_it_is_read()
    {
        // the kernel's buffer is char tmp[200]; 256 bytes of valid fields and spaces still pass
        var fits = I386Text.PadRight(LinuxStart.MaxPayload);
        var tooLong = I386Text.PadRight(LinuxStart.MaxPayload + 1);

        Assert.True(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(fits), out _, out _));
        Assert.False(LinuxStart.TryParse(I386, LinuxDatagrams.Ascii(tooLong), out var start, out var problem));
        Assert.Null(start);
        Assert.Equal("START payload of 257 bytes (at most 256)", problem);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x10000u)] // e_machine is 16 bits
    [InlineData(uint.MaxValue)]
    public void A_machine_type_that_is_no_elf_machine_is_refused(uint machine)
    {
        Assert.False(LinuxStart.TryParse(I386 with { Sequence = machine }, LinuxDatagrams.Ascii(I386Text), out var start, out var problem));
        Assert.Null(start);
        Assert.Equal($"machine type {machine} is not an ELF machine", problem);
    }

    [Fact]
    public void The_largest_elf_machine_number_is_kept()
    {
        Assert.True(LinuxStart.TryParse(I386 with { Sequence = ushort.MaxValue }, LinuxDatagrams.Ascii(I386Text), out var start, out _));
        Assert.Equal(ushort.MaxValue, start!.Machine);
    }

    [Theory]
    [InlineData(LinuxReplyCode.Log)]
    [InlineData(LinuxReplyCode.Hello)]
    [InlineData((LinuxReplyCode)13)]
    public void Only_a_reply_start_netdump_is_parsed_as_one(LinuxReplyCode code)
    {
        Assert.False(LinuxStart.TryParse(I386 with { Code = code }, LinuxDatagrams.Ascii(I386Text), out var start, out var problem));
        Assert.Null(start);
        Assert.StartsWith("not a START", problem);
    }
}
