using Netdump.App.Configuration;

namespace Netdump.Tests.App;

public sealed class NetdumpConfFileTests
{
    private const string File = "/etc/netdump.conf";

    private static NetdumpConfFile Parse(params string[] lines) => NetdumpConfFile.Parse(string.Join("\n", lines), File);

    private static string ErrorOf(params string[] lines) =>
        Assert.Throws<OperatorConfigException>(() => Parse(lines)).Message;

    [Fact]
    public void ConfFile_should_read_key_value_lines_with_whitespace_blank_lines_and_comments()
    {
        var conf = Parse(
            "# netdump.conf",
            "",
            "port=20023",
            "   addr   =   192.0.2.10   ",
            "\tmax_concurrent_dumps\t=\t16",
            "   # an indented comment",
            "dumpdir = /srv/crash # where dumps go",
            "   ");

        Assert.Equal(
            new Dictionary<string, object> { ["port"] = 20023, ["addr"] = "192.0.2.10", ["max_concurrent_dumps"] = 16, ["dumpdir"] = "/srv/crash" },
            conf.Values());
        Assert.Equal(3, conf.LineOf("port"));
        Assert.Equal(7, conf.LineOf("dumpdir"));
        Assert.Null(conf.LineOf("secure"));
        Assert.Empty(conf.Warnings);
    }

    [Fact]
    public void ConfFile_should_keep_spaces_and_hashes_inside_double_quotes()
    {
        var conf = Parse(
            "allow = \"192.0.2.0/24, 198.51.100.7\"   # two clients",
            "dumpdir = \"/srv/crash #1\"",
            "pidfile=\"/run/nd.pid\"#no space before the comment");

        Assert.Equal("192.0.2.0/24, 198.51.100.7", conf.Values()["allow"]);
        Assert.Equal("/srv/crash #1", conf.Values()["dumpdir"]);
        Assert.Equal("/run/nd.pid", conf.Values()["pidfile"]);
    }

    [Fact]
    public void ConfFile_should_unescape_quote_and_backslash_inside_quotes_and_keep_other_backslashes()
    {
        var conf = Parse(
            @"dumpdir = ""/srv/a \""quoted\"" name""",
            @"pidfile = ""/run/back\\slash""",
            @"log_file = ""/var/log/a\nb""");

        Assert.Equal("/srv/a \"quoted\" name", conf.Values()["dumpdir"]);
        Assert.Equal(@"/run/back\slash", conf.Values()["pidfile"]);
        Assert.Equal(@"/var/log/a\nb", conf.Values()["log_file"]);
    }

    [Fact]
    public void ConfFile_should_treat_a_hash_inside_an_unquoted_word_as_part_of_the_value()
    {
        var conf = Parse("dumpdir = /srv/crash#1 # but this is a comment");

        Assert.Equal("/srv/crash#1", conf.Values()["dumpdir"]);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("YES", true)]
    [InlineData("\"no\"", false)]
    public void ConfFile_should_read_booleans(string text, bool expected)
    {
        var conf = Parse($"secure = {text}", $"daemon = {text}");

        Assert.Equal(expected, conf.Values()["secure"]);
        Assert.Equal(expected, conf.Values()["daemon"]);
    }

    [Fact]
    public void ConfFile_should_reject_a_bad_boolean_with_file_and_line()
    {
        Assert.Equal(
            "/etc/netdump.conf:2: secure: \"maybe\" is not a boolean (yes/no, true/false, on/off, 1/0)",
            ErrorOf("port = 20023", "secure = maybe"));
    }

    [Theory]
    [InlineData("60", "60s")]
    [InlineData("1.5", "1.5s")]
    [InlineData("\"90\"", "90s")]
    [InlineData("500ms", "500ms")]
    [InlineData("2m", "2m")]
    [InlineData("1h", "1h")]
    public void ConfFile_should_read_a_bare_time_as_seconds_and_pass_units_through(string text, string expected)
    {
        Assert.Equal(expected, Parse($"session_timeout = {text}").Values()["session_timeout"]);
    }

    [Fact]
    public void ConfFile_should_reject_a_time_that_is_not_a_duration()
    {
        Assert.Equal(
            "/etc/netdump.conf:1: linger: \"soon\" is not a duration (seconds, or a number with a unit such as 500ms or 2m)",
            ErrorOf("linger = soon"));
        Assert.Equal("/etc/netdump.conf:1: script_timeout: \"-5\" must be positive", ErrorOf("script_timeout = -5"));
    }

    [Fact]
    public void ConfFile_should_read_integers_and_leave_their_range_to_the_settings()
    {
        var conf = Parse("port = \"20023\"", "max_concurrent_dumps = -1");

        Assert.Equal(20023, conf.Values()["port"]);
        Assert.Equal(-1, conf.Values()["max_concurrent_dumps"]);
    }

    [Theory]
    [InlineData("port", "abc")]
    [InlineData("port", "20023x")]
    [InlineData("port", "99999999999")]
    [InlineData("max_concurrent_dumps", "four")]
    public void ConfFile_should_reject_a_non_numeric_port_or_concurrency(string key, string value)
    {
        Assert.Equal($"/etc/netdump.conf:1: {key}: \"{value}\" is not a number", ErrorOf($"{key} = {value}"));
    }

    [Fact]
    public void ConfFile_should_accept_the_old_servers_keys_with_a_warning_each()
    {
        var conf = Parse(
            "port = 20023",
            "debug = 1",
            "space_check = yes",
            "skip_zero = 0",
            "verbose = 3");

        Assert.Equal(new Dictionary<string, object> { ["port"] = 20023 }, conf.Values());
        Assert.Equal(
            [
                "/etc/netdump.conf:2: debug has no meaning for this server and is ignored",
                "/etc/netdump.conf:3: space_check has no meaning for this server and is ignored",
                "/etc/netdump.conf:4: skip_zero has no meaning for this server and is ignored",
                "/etc/netdump.conf:5: verbose has no meaning for this server and is ignored",
            ],
            conf.Warnings);
    }

    [Fact]
    public void ConfFile_should_name_the_file_as_given_in_warnings()
    {
        var conf = NetdumpConfFile.Parse("\n\nspace_check=1\n", "netdump.conf");

        Assert.Equal("netdump.conf:3: space_check has no meaning for this server and is ignored", Assert.Single(conf.Warnings));
    }

    [Fact]
    public void ConfFile_should_reject_an_unknown_key_with_file_and_line()
    {
        Assert.Equal(
            "/etc/netdump.conf:7: unknown key \"foo\"",
            ErrorOf("# 1", "# 2", "port = 20023", "", "secure = 1", "# 6", "foo = bar"));
    }

    [Fact]
    public void ConfFile_should_treat_keys_as_case_sensitive()
    {
        Assert.Equal("/etc/netdump.conf:1: unknown key \"PORT\"", ErrorOf("PORT = 20023"));
    }

    [Fact]
    public void ConfFile_should_reject_a_line_without_equals()
    {
        Assert.Equal("/etc/netdump.conf:2: expected key=value, found \"port 20023\"", ErrorOf("", "port 20023"));
    }

    [Fact]
    public void ConfFile_should_reject_an_empty_key()
    {
        Assert.Equal("/etc/netdump.conf:1: missing key before \"=\"", ErrorOf("  = 20023"));
    }

    [Fact]
    public void ConfFile_should_reject_a_duplicate_key()
    {
        Assert.Equal(
            "/etc/netdump.conf:3: duplicate key \"port\" (already set on line 1)",
            ErrorOf("port = 20023", "secure = 1", "port = 20024"));
    }

    [Fact]
    public void ConfFile_should_reject_an_unterminated_quote()
    {
        Assert.Equal("/etc/netdump.conf:1: dumpdir: unterminated quote", ErrorOf("dumpdir = \"/srv/crash"));
        Assert.Equal("/etc/netdump.conf:1: dumpdir: unterminated quote", ErrorOf(@"dumpdir = ""/srv/crash\"""));
    }

    [Fact]
    public void ConfFile_should_reject_text_after_the_closing_quote()
    {
        Assert.Equal(
            "/etc/netdump.conf:1: dumpdir: unexpected \"extra\" after the closing quote",
            ErrorOf("dumpdir = \"/srv/crash\" extra"));
    }

    [Fact]
    public void ConfFile_should_reject_an_empty_value_unless_empty_means_none()
    {
        Assert.Equal("/etc/netdump.conf:1: dumpdir: empty value", ErrorOf("dumpdir ="));
        Assert.Equal("/etc/netdump.conf:1: port: empty value", ErrorOf("port = \"\""));
        Assert.Equal("/etc/netdump.conf:1: secure: empty value", ErrorOf("secure = # nothing"));

        var conf = Parse("pidfile =", "log_file = \"\"", "session_ports=", "max_dump_size = \"\"", "allow =");

        Assert.All(conf.Values().Values, v => Assert.Equal("", v));
    }

    [Fact]
    public void ConfFile_should_accept_crlf_line_endings_and_a_byte_order_mark()
    {
        var conf = NetdumpConfFile.Parse("\uFEFFport = 20023\r\n# comment\r\nsecure = no\r\n", File);

        Assert.Equal(new Dictionary<string, object> { ["port"] = 20023, ["secure"] = false }, conf.Values());
    }

    [Fact]
    public void ConfFile_should_read_an_empty_file_as_no_settings()
    {
        Assert.Empty(NetdumpConfFile.Parse("", File).Settings);
    }

    [Fact]
    public void ConfFile_should_read_a_file_and_report_a_missing_one()
    {
        using var dir = new Storage.TempDirectory();
        var path = dir.Combine("netdump.conf");
        System.IO.File.WriteAllText(path, "port = 1234\n");

        Assert.Equal(1234, NetdumpConfFile.Read(path).Values()["port"]);
        Assert.Equal(
            $"config file {dir.Combine("missing.conf")} does not exist",
            Assert.Throws<OperatorConfigException>(() => NetdumpConfFile.Read(dir.Combine("missing.conf"))).Message);
    }
}
