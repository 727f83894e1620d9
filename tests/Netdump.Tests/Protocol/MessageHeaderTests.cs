using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class MessageHeaderTests
{
    // type=3 (VMCORE) seq=7 offset=0x0000000100000200 len=4 aux2=0, then 4 payload bytes.
    private const string VmcoreHex =
        "00000003" + // mh_type
        "00000007" + // mh_seqno
        "0000000100000200" + // mh_offset
        "00000004" + // mh_len
        "00000000" + // mh_aux2
        "DEADBEEF"; // payload

    [Fact]
    public void Literal_vmcore_datagram_is_read_field_by_field_big_endian()
    {
        var datagram = Convert.FromHexString(VmcoreHex);

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.None, error);
        Assert.Equal(MessageType.Vmcore, header.Type);
        Assert.Equal(7u, header.Sequence);
        Assert.Equal(0x0000000100000200UL, header.Offset);
        Assert.Equal(4u, header.Length);
        Assert.Equal(0u, header.Aux2);
        Assert.Equal(0x0000000100000204UL, header.End);
    }

    [Fact]
    public void Literal_herald_with_path_is_read_as_a_herald()
    {
        byte[] datagram =
        [
            0x00, 0x00, 0x00, 0x01, // HERALD
            0x00, 0x00, 0x00, 0x01, // seqno 1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // offset 0
            0x00, 0x00, 0x00, 0x06, // len 6
            0x00, 0x00, 0x00, 0x00, // aux2
            (byte)'c', (byte)'r', (byte)'a', (byte)'s', (byte)'h', 0x00,
        ];

        Assert.Equal(HeaderError.None, MessageHeader.TryRead(datagram, out var header));
        Assert.Equal(new MessageHeader(MessageType.Herald, 1, 0, 6, 0), header);
    }

    [Fact]
    public void Header_is_written_byte_by_byte_big_endian()
    {
        var header = new MessageHeader(MessageType.Vmcore, 7, 0x0000000100000200UL, 4, 0);
        var buffer = new byte[MessageHeader.Size];

        header.Write(buffer);

        Assert.Equal(VmcoreHex[..48], Convert.ToHexString(buffer));
    }

    [Fact]
    public void Header_with_every_field_distinct_is_written_in_network_order()
    {
        var header = new MessageHeader(MessageType.EkcdKey, 0x01020304, 0x1112131415161718UL, 0x21222324, 0x31323334);
        var buffer = new byte[MessageHeader.Size];

        header.Write(buffer);

        Assert.Equal("00000005" + "01020304" + "1112131415161718" + "21222324" + "31323334", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Write_touches_only_the_first_24_bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xAA, 30).ToArray();

        new MessageHeader(MessageType.Finished, 9, 0, 0, 0).Write(buffer);

        Assert.All(buffer[24..], b => Assert.Equal(0xAA, b));
    }

    [Theory]
    [InlineData(MessageType.Herald, 1u, 0UL, 0u, 0u)]
    [InlineData(MessageType.Finished, 100u, 0UL, 0u, 0u)]
    [InlineData(MessageType.Vmcore, 0xFFFFFFFFu, 0xFFFFFFFFFFFFF000UL, 1448u, 0u)]
    [InlineData(MessageType.Kdh, 42u, 0UL, 512u, 0u)]
    [InlineData(MessageType.EkcdKey, 2u, 4096UL, 8948u, 0x2515f095u)]
    public void Written_header_with_matching_payload_reads_back_equal(
        MessageType type, uint sequence, ulong offset, uint length, uint aux2)
    {
        var written = new MessageHeader(type, sequence, offset, length, aux2);
        var datagram = new byte[MessageHeader.Size + length];
        written.Write(datagram);

        var error = MessageHeader.TryRead(datagram, out var read);

        Assert.Equal(HeaderError.None, error);
        Assert.Equal(written, read);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(23)]
    public void Datagram_shorter_than_24_bytes_is_too_short(int size)
    {
        var datagram = Convert.FromHexString(VmcoreHex)[..size];

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.TooShort, error);
        Assert.Equal(default(MessageHeader), header);
    }

    [Fact]
    public void Header_with_size_one_more_than_24_plus_len_is_a_length_mismatch()
    {
        var datagram = Convert.FromHexString(VmcoreHex + "00");

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.LengthMismatch, error);
        Assert.Equal(new MessageHeader(MessageType.Vmcore, 7, 0x0000000100000200UL, 4, 0), header);
    }

    [Fact]
    public void Header_with_size_one_less_than_24_plus_len_is_a_length_mismatch()
    {
        var datagram = Convert.FromHexString(VmcoreHex[..^2]);

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.LengthMismatch, error);
        Assert.Equal(4u, header.Length);
        Assert.Equal(7u, header.Sequence);
    }

    [Fact]
    public void Header_alone_with_nonzero_len_is_a_length_mismatch()
    {
        var datagram = Convert.FromHexString(VmcoreHex[..48]);

        Assert.Equal(HeaderError.LengthMismatch, MessageHeader.TryRead(datagram, out _));
    }

    [Fact]
    public void Header_with_len_0xFFFFFFFF_is_a_length_mismatch_without_overflow()
    {
        var datagram = Convert.FromHexString(
            "00000003" + "00000002" + "0000000000000000" + "FFFFFFFF" + "00000000" + "0102030405060708");

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.LengthMismatch, error);
        Assert.Equal(0xFFFFFFFFu, header.Length);
    }

    [Fact]
    public void Header_with_len_0xFFFFFFE8_is_a_length_mismatch_although_24_plus_len_wraps_to_0_in_32_bits()
    {
        // 24 + 0xFFFFFFE8 = 2^32: a 32-bit sum would wrap to 0 and could match a short datagram.
        var datagram = Convert.FromHexString("00000003" + "00000002" + "0000000000000000" + "FFFFFFE8" + "00000000");

        Assert.Equal(HeaderError.LengthMismatch, MessageHeader.TryRead(datagram, out _));
    }

    [Fact]
    public void Finished_with_zero_len_and_no_payload_is_valid()
    {
        var datagram = Convert.FromHexString("00000002" + "0000002A" + "0000000000000000" + "00000000" + "00000000");

        Assert.Equal(HeaderError.None, MessageHeader.TryRead(datagram, out var header));
        Assert.Equal(MessageType.Finished, header.Type);
        Assert.Equal(42u, header.Sequence);
    }

    [Theory]
    [InlineData("00000000", 0u)]
    [InlineData("00000006", 6u)]
    [InlineData("FFFFFFFF", 0xFFFFFFFFu)]
    [InlineData("03000000", 0x03000000u)] // VMCORE written little-endian
    public void Unknown_type_is_reported_with_the_fields_still_filled(string typeHex, uint type)
    {
        var datagram = Convert.FromHexString(typeHex + "00000007" + "0000000100000200" + "00000004" + "00000000" + "DEADBEEF");

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.UnknownType, error);
        Assert.Equal((MessageType)type, header.Type);
        Assert.Equal(7u, header.Sequence);
        Assert.Equal(0x0000000100000200UL, header.Offset);
        Assert.Equal(4u, header.Length);
        Assert.Equal(0u, header.Aux2);
    }

    [Fact]
    public void Nonzero_aux2_is_valid_and_preserved()
    {
        // netgdb's HERALD carries mh_aux2 = 0x2515f095; the codec keeps it for the listener to judge.
        var datagram = Convert.FromHexString("00000001" + "00000001" + "0000000000000000" + "00000000" + "2515F095");

        var error = MessageHeader.TryRead(datagram, out var header);

        Assert.Equal(HeaderError.None, error);
        Assert.Equal(0x2515F095u, header.Aux2);
    }

    [Fact]
    public void Nonzero_aux2_is_preserved_on_a_length_mismatch_too()
    {
        var datagram = Convert.FromHexString("00000001" + "00000001" + "0000000000000000" + "00000001" + "FFFFFFFF");

        Assert.Equal(HeaderError.LengthMismatch, MessageHeader.TryRead(datagram, out var header));
        Assert.Equal(0xFFFFFFFFu, header.Aux2);
    }

    [Fact]
    public void Only_the_first_24_bytes_are_the_header()
    {
        // A payload that itself looks like a header must not disturb the fields.
        var datagram = Convert.FromHexString(
            "00000004" + "00000003" + "0000000000000000" + "00000018" + "00000000" +
            "FFFFFFFF" + "FFFFFFFF" + "FFFFFFFFFFFFFFFF" + "FFFFFFFF" + "FFFFFFFF");

        Assert.Equal(HeaderError.None, MessageHeader.TryRead(datagram, out var header));
        Assert.Equal(new MessageHeader(MessageType.Kdh, 3, 0, 24, 0), header);
    }

    [Fact]
    public void Datagram_of_the_largest_udp_payload_is_accepted()
    {
        const int largest = 65507;
        var datagram = new byte[largest];
        new MessageHeader(MessageType.Vmcore, 5, 0, largest - MessageHeader.Size, 0).Write(datagram);

        Assert.Equal(HeaderError.None, MessageHeader.TryRead(datagram, out var header));
        Assert.Equal((uint)(largest - MessageHeader.Size), header.Length);
    }

    [Theory]
    [InlineData(0UL, 0u, 0UL)]
    [InlineData(0x100000200UL, 4u, 0x100000204UL)]
    [InlineData(ulong.MaxValue, 0u, ulong.MaxValue)]
    [InlineData(ulong.MaxValue - 4096, 4096u, ulong.MaxValue)]
    public void End_is_offset_plus_len_when_it_fits_in_64_bits(ulong offset, uint length, ulong end)
    {
        var header = new MessageHeader(MessageType.Vmcore, 1, offset, length, 0);

        Assert.Equal(end, header.End);
    }

    [Theory]
    [InlineData(ulong.MaxValue, 1u)]
    [InlineData(ulong.MaxValue - 4095, 4097u)]
    [InlineData(0xFFFFFFFF00000001UL, 0xFFFFFFFFu)]
    [InlineData(ulong.MaxValue, 0xFFFFFFFFu)]
    public void End_is_null_when_offset_plus_len_overflows_2_to_the_64(ulong offset, uint length)
    {
        var header = new MessageHeader(MessageType.Vmcore, 1, offset, length, 0);

        Assert.Null(header.End);
    }

    [Fact]
    public void End_of_a_literal_datagram_near_the_top_of_the_file_space_is_null()
    {
        var datagram = Convert.FromHexString("00000003" + "00000009" + "FFFFFFFFFFFFFFFE" + "00000004" + "00000000" + "01020304");

        Assert.Equal(HeaderError.None, MessageHeader.TryRead(datagram, out var header));
        Assert.Null(header.End);
    }

    [Theory]
    [InlineData(HeaderError.None)]
    [InlineData(HeaderError.TooShort)]
    [InlineData(HeaderError.LengthMismatch)]
    [InlineData(HeaderError.UnknownType)]
    public void Every_error_has_a_description_for_the_log(HeaderError error)
    {
        Assert.False(string.IsNullOrWhiteSpace(MessageHeader.Describe(error)));
    }

    [Fact]
    public void Descriptions_of_different_errors_differ()
    {
        var descriptions = Enum.GetValues<HeaderError>().Select(MessageHeader.Describe).ToList();

        Assert.Equal(descriptions.Count, descriptions.Distinct().Count());
    }
}
