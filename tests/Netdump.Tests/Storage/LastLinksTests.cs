using System.Net;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class LastLinksTests : IDisposable
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private readonly TempDirectory _temp = new();

    [Theory]
    [InlineData("crashy.example.org", "crashy.example.org.last")]
    [InlineData("../../etc/passwd", "_._.._etc_passwd.last")]
    [InlineData("a/b", "a_b.last")]
    [InlineData(".hidden", "_hidden.last")]
    [InlineData("new\nline\0nul\u001b[31m", "new_line_nul__31m.last")]
    [InlineData("h\u00f6st name", "h_st_name.last")]
    [InlineData("", "192.0.2.7.last")]
    [InlineData(" ", "192.0.2.7.last")]
    [InlineData(".", "192.0.2.7.last")]
    [InlineData("..", "192.0.2.7.last")]
    [InlineData(null, "192.0.2.7.last")]
    public void A_hostname_becomes_a_plain_name_that_cannot_climb_out_or_hide(string? hostname, string expected)
    {
        var name = LastLinks.LinkName(hostname, Client);

        Assert.Equal(expected, name);
        Assert.Equal(name, Path.GetFileName(name));
        Assert.False(name.StartsWith('.'));
    }

    [Fact]
    public void An_ipv6_client_without_a_hostname_is_named_by_its_address_and_a_mapped_ipv4_one_as_ipv4()
    {
        Assert.Equal("2001:db8::7.last", LastLinks.LinkName(null, IPAddress.Parse("2001:db8::7")));
        Assert.Equal("192.0.2.7.last", LastLinks.LinkName(null, Client.MapToIPv6()));
    }

    [Fact]
    public void A_link_is_relative_and_replaced_by_the_next_dump_leaving_no_temporary_name()
    {
        var parent = _temp.Combine("crash");
        Directory.CreateDirectory(Path.Combine(parent, "first"));
        Directory.CreateDirectory(Path.Combine(parent, "second"));

        LastLinks.Point(parent, "host.last", Path.Combine(parent, "first"));
        Assert.Equal("first", new FileInfo(Path.Combine(parent, "host.last")).LinkTarget);

        LastLinks.Point(parent, "host.last", Path.Combine(parent, "second"));
        Assert.Equal("second", new FileInfo(Path.Combine(parent, "host.last")).LinkTarget);
        Assert.Equal(["first", "host.last", "second"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_dangling_link_is_replaced()
    {
        var parent = _temp.Combine("crash");
        Directory.CreateDirectory(Path.Combine(parent, "dump"));
        File.CreateSymbolicLink(Path.Combine(parent, "host.last"), "removed-dump");

        LastLinks.Point(parent, "host.last", Path.Combine(parent, "dump"));

        Assert.Equal("dump", new FileInfo(Path.Combine(parent, "host.last")).LinkTarget);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_file_or_directory_of_that_name_that_is_not_a_link_is_left_alone(bool directory)
    {
        var parent = _temp.Combine("crash");
        Directory.CreateDirectory(Path.Combine(parent, "dump"));
        var own = Path.Combine(parent, "host.last");
        if (directory)
        {
            Directory.CreateDirectory(own);
        }
        else
        {
            File.WriteAllText(own, "the operator's notes");
        }

        Assert.Throws<IOException>(() => LastLinks.Point(parent, "host.last", Path.Combine(parent, "dump")));

        Assert.Null(new FileInfo(own).LinkTarget);
        Assert.Equal(["dump", "host.last"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("../x.last")]
    [InlineData(".x.last")]
    [InlineData(".last")]
    public void A_name_that_is_not_a_plain_link_name_is_refused(string name)
    {
        var parent = _temp.Combine("crash");
        Directory.CreateDirectory(parent);
        Assert.Throws<ArgumentException>(() => LastLinks.Point(parent, name, Path.Combine(parent, "dump")));
    }

    public void Dispose() => _temp.Dispose();
}
