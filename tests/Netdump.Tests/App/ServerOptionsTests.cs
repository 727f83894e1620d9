using System.CommandLine;
using Netdump.App.CommandLine;

namespace Netdump.Tests.App;

/// <summary>The root command's options, parsed in-process (no server is run).</summary>
public sealed class ServerOptionsTests
{
    private static ParseResult Parse(params string[] args) => ServerCommand.Create().Parse(args);

    private static ServerOptions OptionsOf(params string[] args)
    {
        var parse = Parse(args);
        Assert.Empty(parse.Errors);
        return ServerOptions.From(parse);
    }

    [Fact]
    public void ServerOptions_should_read_every_option_into_its_conf_key()
    {
        var options = OptionsOf(
            "--port", "20999", "--linux-port", "6667", "--addr", "192.0.2.10", "--concurrent", "16", "--pidfile", "/run/nd.pid",
            "--daemon", "--secure", "0", "--dumpdir", "/srv/crash", "--http", "off", "--cluster-port", "20091", "--node-name", "rack1", "--config", "/tmp/nd.conf");

        Assert.Equal(
            new Dictionary<string, object?>
            {
                ["port"] = 20999,
                ["linux_port"] = 6667,
                ["addr"] = "192.0.2.10",
                ["max_concurrent_dumps"] = 16,
                ["pidfile"] = "/run/nd.pid",
                ["daemon"] = true,
                ["secure"] = false,
                ["dumpdir"] = "/srv/crash",
                ["http"] = "off",
                ["cluster_port"] = 20091,
                ["node_name"] = "rack1",
            },
            options.ToNetdumpKeys());
        Assert.Equal("/tmp/nd.conf", options.ConfigPath);
    }

    [Fact]
    public void ServerOptions_should_leave_every_key_unset_when_no_option_is_given()
    {
        var options = OptionsOf();

        Assert.All(options.ToNetdumpKeys().Values, Assert.Null);
        Assert.Null(options.ConfigPath);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("No", false)]
    public void ServerOptions_should_read_secure_as_0_or_1_or_a_word(string text, bool expected)
    {
        Assert.Equal(expected, OptionsOf("--secure", text).Secure);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--port")]
    [InlineData("--port", "abc")]
    [InlineData("--concurrent", "1.5")]
    [InlineData("--secure")]
    [InlineData("--secure", "maybe")]
    [InlineData("--daemon", "yes")]
    [InlineData("--dumpdir")]
    [InlineData("stray-argument")]
    public void ServerOptions_should_reject_bad_command_lines(params string[] args)
    {
        Assert.NotEmpty(Parse(args).Errors);
    }

    [Fact]
    public void ServerOptions_should_name_the_option_and_value_in_a_bad_number()
    {
        Assert.Equal("--port: \"abc\" is not a number", Assert.Single(Parse("--port", "abc").Errors).Message);
    }

    [Fact]
    public void ServerCommand_should_offer_help_and_version()
    {
        var root = ServerCommand.Create();

        Assert.Contains(root.Options, o => o.Name == "--help");
        Assert.Contains(root.Options, o => o.Name == "--version");
        Assert.Equal("0.1.0", ServerCommand.Version);
    }
}
