using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Protocol.Linux;

public sealed class LinuxRequestTests
{
    // NETDUMP_REQ_SIZE (8+4*4): magic, nr, command, from, to; netdump_rx ntohl()s all but the magic
    private const string SendMemHex =
        "1234567811111111" + // magic
        "0000002A" + // nr 42
        "00000001" + // COMM_SEND_MEM
        "00012345" + // from: the page frame
        "00000000"; // to: unused

    [Fact]
    public void Send_mem_is_written_byte_by_byte_big_endian()
    {
        var buffer = new byte[LinuxRequest.Size];

        new LinuxRequest(0x1234567811111111, 42, LinuxCommand.SendMem, 0x12345).Write(buffer);

        Assert.Equal(SendMemHex, Convert.ToHexString(buffer));
    }

    [Fact]
    public void Start_netdump_ack_carries_the_server_version_in_from()
    {
        var buffer = new byte[LinuxRequest.Size];

        new LinuxRequest(0x1111111111111111, 1, LinuxCommand.StartNetdumpAck, LinuxVersion.Server).Write(buffer);

        Assert.Equal("1111111111111111" + "00000001" + "00000007" + "00000005" + "00000000", Convert.ToHexString(buffer));
    }

    [Fact]
    public void Literal_request_is_read_field_by_field()
    {
        Assert.True(LinuxRequest.TryRead(Convert.FromHexString(SendMemHex), out var request));
        Assert.Equal(new LinuxRequest(0x1234567811111111, 42, LinuxCommand.SendMem, 0x12345, 0), request);
    }

    [Fact]
    public void Request_with_every_field_distinct_round_trips()
    {
        var written = new LinuxRequest(0x0102030405060708, 0x11121314, (LinuxCommand)0x21222324, 0x31323334, 0x41424344);
        var buffer = new byte[LinuxRequest.Size];

        written.Write(buffer);

        Assert.Equal("0102030405060708" + "11121314" + "21222324" + "31323334" + "41424344", Convert.ToHexString(buffer));
        Assert.True(LinuxRequest.TryRead(buffer, out var read));
        Assert.Equal(written, read);
    }

    [Fact]
    public void Write_touches_only_the_first_24_bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xAA, 30).ToArray();

        new LinuxRequest(ulong.MaxValue, uint.MaxValue, LinuxCommand.Reboot, uint.MaxValue, uint.MaxValue).Write(buffer);

        Assert.All(buffer[LinuxRequest.Size..], b => Assert.Equal(0xAA, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(12)]
    [InlineData(LinuxRequest.Size - 1)]
    public void A_request_shorter_than_24_bytes_is_not_read(int length)
    {
        Assert.False(LinuxRequest.TryRead(new byte[length], out var request));
        Assert.Equal(default, request);
    }

    [Fact]
    public void A_longer_request_is_read_from_its_first_24_bytes_as_the_kernel_does()
    {
        // netdump_rx drops only dlen < NETDUMP_REQ_SIZE
        var datagram = Convert.FromHexString(SendMemHex + "FFFFFFFF");

        Assert.True(LinuxRequest.TryRead(datagram, out var request));
        Assert.Equal(0x12345u, request.From);
        Assert.Equal(0u, request.To);
    }

    [Theory]
    [InlineData(4u, 4u)] // a RHEL4 client that only knows version 4
    [InlineData(5u, 5u)] // NETDUMP_VERSION_MAX of RHEL4
    [InlineData(6u, 5u)] // a newer client comes down to ours
    [InlineData(uint.MaxValue, 5u)]
    [InlineData(0u, 0u)] // min(5, 0): what such a client computes too, and it reboots on 0
    public void The_effective_version_is_the_lower_of_the_two_maxima(uint clientMax, uint effective)
    {
        Assert.Equal(effective, LinuxVersion.Effective(clientMax));
    }
}
