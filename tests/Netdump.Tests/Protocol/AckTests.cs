using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class AckTests
{
    [Fact]
    public void Ack_is_exactly_four_bytes()
    {
        Assert.Equal(4, Ack.Size);
    }

    [Theory]
    [InlineData(1u, "00000001")]
    [InlineData(7u, "00000007")]
    [InlineData(0x01020304u, "01020304")]
    [InlineData(0xFFFFFFFFu, "FFFFFFFF")]
    [InlineData(0u, "00000000")]
    public void Ack_is_written_as_the_big_endian_seqno(uint sequence, string hex)
    {
        var buffer = new byte[Ack.Size];

        Ack.Write(buffer, sequence);

        Assert.Equal(hex, Convert.ToHexString(buffer));
    }

    [Fact]
    public void Ack_write_touches_only_four_bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xAA, 6).ToArray();

        Ack.Write(buffer, 0x01020304);

        Assert.Equal("01020304AAAA", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Literal_four_byte_ack_is_read_big_endian()
    {
        byte[] datagram = [0x00, 0x00, 0x01, 0x02];

        Assert.True(Ack.TryRead(datagram, out var sequence));
        Assert.Equal(0x0102u, sequence);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(64u)]
    [InlineData(0x80000000u)]
    [InlineData(uint.MaxValue)]
    public void Written_ack_reads_back_the_same_seqno(uint sequence)
    {
        var buffer = new byte[Ack.Size];
        Ack.Write(buffer, sequence);

        Assert.True(Ack.TryRead(buffer, out var read));
        Assert.Equal(sequence, read);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("000001")]
    [InlineData("0000000100")]
    [InlineData("000000010000000000000000")]
    public void Datagram_that_is_not_exactly_four_bytes_is_not_an_ack(string hex)
    {
        Assert.False(Ack.TryRead(Convert.FromHexString(hex), out var sequence));
        Assert.Equal(0u, sequence);
    }

    [Fact]
    public void Ack_write_into_a_buffer_shorter_than_four_bytes_throws()
    {
        // Write is for the server's own fixed-size buffer; a short one is a programming error.
        Assert.ThrowsAny<ArgumentException>(() => Ack.Write(new byte[3], 1));
    }
}
