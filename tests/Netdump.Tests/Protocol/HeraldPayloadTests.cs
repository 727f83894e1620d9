using System.Text;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class HeraldPayloadTests
{
    [Fact]
    public void Empty_payload_is_the_empty_path()
    {
        Assert.True(HeraldPayload.TryReadPath([], out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Null(reason);
    }

    [Fact]
    public void Literal_nul_terminated_path_is_read_without_its_nul()
    {
        var payload = Convert.FromHexString("63726173682F77656200"); // "crash/web\0"

        Assert.True(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal("crash/web", path);
        Assert.Null(reason);
    }

    [Fact]
    public void Lone_nul_is_the_empty_path()
    {
        Assert.True(HeraldPayload.TryReadPath([0x00], out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Null(reason);
    }

    [Fact]
    public void Path_without_terminating_nul_gives_a_reason()
    {
        var payload = Convert.FromHexString("63726173682F776562"); // "crash/web"

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains("NUL", reason);
    }

    [Fact]
    public void Path_with_embedded_nul_gives_a_reason()
    {
        var payload = Convert.FromHexString("637261736800776562" + "00"); // "crash\0web\0"

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains("NUL", reason);
    }

    [Fact]
    public void Path_of_two_nuls_gives_a_reason()
    {
        Assert.False(HeraldPayload.TryReadPath([0x00, 0x00], out _, out var reason));
        Assert.NotNull(reason);
    }

    [Theory]
    [InlineData((byte)0x01)]
    [InlineData((byte)0x09)] // tab
    [InlineData((byte)0x0A)] // newline: would split a log line
    [InlineData((byte)0x0D)]
    [InlineData((byte)0x1B)] // escape: terminal control sequences
    [InlineData((byte)0x1F)]
    [InlineData((byte)0x7F)] // DEL
    public void Path_with_an_ascii_control_character_gives_a_reason(byte control)
    {
        byte[] payload = [(byte)'a', control, (byte)'b', 0x00];

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains($"0x{control:x2}", reason);
    }

    [Theory]
    [InlineData("C280")] // U+0080
    [InlineData("C285")] // U+0085 NEL, a line break
    [InlineData("C29B")] // U+009B CSI, a terminal escape
    [InlineData("C29F")] // U+009F
    public void Path_with_a_utf8_encoded_c1_control_character_gives_a_reason(string controlHex)
    {
        var payload = Convert.FromHexString("61" + controlHex + "6200");

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains("control", reason);
    }

    [Theory]
    [InlineData("E280AE", "U+202E")] // RIGHT-TO-LEFT OVERRIDE: the rest of a listing reads backwards
    [InlineData("E2808B", "U+200B")] // ZERO WIDTH SPACE
    [InlineData("EFBBBF", "U+FEFF")]
    public void Path_with_an_invisible_format_character_gives_a_reason(string formatHex, string named)
    {
        var payload = Convert.FromHexString("61" + formatHex + "6200");

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Equal($"path holds invisible format character {named}", reason);
    }

    [Fact]
    public void Payload_over_1024_bytes_gives_a_reason()
    {
        var payload = new byte[HeraldPayload.MaxLength + 1];
        payload.AsSpan().Fill((byte)'a');
        payload[^1] = 0;

        Assert.False(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains("1025", reason);
    }

    [Fact]
    public void Payload_of_exactly_1024_bytes_with_its_nul_is_accepted()
    {
        Assert.Equal(1024, HeraldPayload.MaxLength);
        var payload = new byte[1024];
        payload.AsSpan().Fill((byte)'d');
        payload[^1] = 0;

        Assert.True(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal(new string('d', 1023), path);
        Assert.Null(reason);
    }

    [Theory]
    [InlineData("FF00")] // never valid in UTF-8
    [InlineData("C300")] // truncated two-byte sequence
    [InlineData("C0AF00")] // overlong '/'
    [InlineData("EDA08000")] // UTF-16 surrogate U+D800
    [InlineData("F4908080" + "00")] // above U+10FFFF
    [InlineData("61E282" + "00")] // truncated three-byte sequence at the end
    public void Path_that_is_not_utf8_gives_a_reason(string hex)
    {
        Assert.False(HeraldPayload.TryReadPath(Convert.FromHexString(hex), out var path, out var reason));
        Assert.Equal(string.Empty, path);
        Assert.Contains("UTF-8", reason);
    }

    [Fact]
    public void Path_with_valid_multibyte_utf8_is_decoded()
    {
        var payload = Convert.FromHexString("6372617368" + "2F" + "C3A9" + "E282AC" + "F09F92A5" + "00");

        Assert.True(HeraldPayload.TryReadPath(payload, out var path, out var reason));
        Assert.Equal("crash/é€💥", path);
        Assert.Null(reason);
    }

    [Fact]
    public void Path_that_looks_dangerous_is_still_decoded_because_checking_it_is_storage_work()
    {
        var payload = Encoding.ASCII.GetBytes("../../etc\0");

        Assert.True(HeraldPayload.TryReadPath(payload, out var path, out _));
        Assert.Equal("../../etc", path);
    }

    [Fact]
    public void Encode_of_empty_path_is_empty()
    {
        Assert.Empty(HeraldPayload.Encode(string.Empty));
    }

    [Fact]
    public void Encode_appends_a_single_nul_like_the_client()
    {
        Assert.Equal("63726173682F77656200", Convert.ToHexString(HeraldPayload.Encode("crash/web")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("crash/web")]
    [InlineData("fleet/eu-west/db 01")]
    [InlineData("crash/é€💥")]
    public void Encoded_path_reads_back_equal(string path)
    {
        Assert.True(HeraldPayload.TryReadPath(HeraldPayload.Encode(path), out var read, out var reason));
        Assert.Equal(path, read);
        Assert.Null(reason);
    }

    [Fact]
    public void Encoded_path_of_1023_bytes_reads_back_and_1024_bytes_does_not()
    {
        var longest = new string('p', 1023);
        var tooLong = new string('p', 1024);

        Assert.True(HeraldPayload.TryReadPath(HeraldPayload.Encode(longest), out var read, out _));
        Assert.Equal(longest, read);
        Assert.False(HeraldPayload.TryReadPath(HeraldPayload.Encode(tooLong), out _, out _));
    }
}
