using System.Net;
using Netdump.Actors.Configuration;

namespace Netdump.Tests.Configuration;

/// <summary>The one reader of an operator's IPv4 address: dotted quads, none of inet_aton's other forms.</summary>
public sealed class DottedQuadTests
{
    [Theory]
    [InlineData("192.0.2.10")]
    [InlineData("0.0.0.0")]
    [InlineData("127.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("10.0.100.0")]
    public void A_dotted_quad_is_the_address_it_reads_as(string text)
    {
        Assert.True(DottedQuad.TryParse(text, out var address));
        Assert.Equal(IPAddress.Parse(text), address);
        Assert.False(DottedQuad.IsLooseAddress(text));
    }

    [Theory]
    [InlineData("1.2.3")]
    [InlineData("127.1")]
    [InlineData("10")]
    [InlineData("010.0.0.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("2130706433")]
    [InlineData("1.2.3.0004")]
    public void Inet_atons_other_forms_are_refused_and_known_as_loose_addresses(string text)
    {
        Assert.False(DottedQuad.TryParse(text, out _));
        Assert.True(DottedQuad.IsLooseAddress(text), "IPAddress.Parse takes it: a seed or URL host written so is refused");
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.256")]
    [InlineData("1.2..4")]
    [InlineData("1.2.3.4.")]
    [InlineData(" 1.2.3.4")]
    [InlineData("+1.2.3.4")]
    [InlineData("1.2.3.-4")]
    [InlineData("::1")]
    [InlineData("web1.example.org")]
    public void Anything_else_is_not_an_address(string text)
    {
        Assert.False(DottedQuad.TryParse(text, out _));
        Assert.False(DottedQuad.IsLooseAddress(text));
    }
}
