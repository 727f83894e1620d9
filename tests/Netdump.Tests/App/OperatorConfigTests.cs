using System.Net;
using Netdump.App.CommandLine;
using Netdump.App.Configuration;
using Netdump.Actors.Storage;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;

namespace Netdump.Tests.App;

/// <summary>Command line > netdump.conf > netdump.hocon, and where a bad value is said to come from.</summary>
public sealed class OperatorConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static NetdumpConfFile Conf(params string[] lines) => NetdumpConfFile.Parse(string.Join("\n", lines), "test.conf");

    private static OperatorConfig Merge(ServerOptions commandLine, NetdumpConfFile? file) =>
        OperatorConfig.Merge(commandLine.ToNetdumpKeys(), file, ServerOptions.OptionOfKey);

    private static string ErrorOf(ServerOptions commandLine, NetdumpConfFile? file) =>
        Assert.Throws<OperatorConfigException>(() => Merge(commandLine, file)).Message;

    [Fact]
    public void OperatorConfig_should_use_the_built_in_defaults_when_nothing_is_given()
    {
        var settings = Merge(new ServerOptions(), null).Settings;

        Assert.Equal(IPAddress.Any, settings.Address);
        Assert.Equal(20023, settings.Port);
        Assert.Equal("/var/crash", settings.DumpDirectory);
        Assert.Equal(4, settings.MaxConcurrentDumps);
        Assert.True(settings.Secure);
        Assert.False(settings.Daemon);
        Assert.Null(settings.PidFile);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.SessionTimeout);
        Assert.Equal(1UL << 30, settings.MinFreeSpace);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.HeraldRetransmitWindow);
    }

    [Fact]
    public void OperatorConfig_should_take_a_herald_retransmit_window_of_zero_and_refuse_a_negative_one()
    {
        Assert.Equal(TimeSpan.Zero, Merge(new ServerOptions(), Conf("herald_retransmit_window = 0")).Settings.HeraldRetransmitWindow);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), Merge(new ServerOptions(), Conf("herald_retransmit_window = 2500ms")).Settings.HeraldRetransmitWindow);
        Assert.Equal("test.conf:1: herald_retransmit_window: \"-1\" must be positive",
            Assert.Throws<OperatorConfigException>(() => Conf("herald_retransmit_window = -1")).Message);
    }

    [Fact]
    public void OperatorConfig_should_put_the_conf_file_in_front_of_the_defaults()
    {
        var settings = Merge(new ServerOptions(), Conf(
            "port = 20999",
            "addr = 192.0.2.10",
            "max_concurrent_dumps = 16",
            "secure = no",
            "dumpdir = /srv/crash",
            "allow = \"192.0.2.0/24, 198.51.100.7\"",
            "session_timeout = 90",
            "linger = 1500ms",
            "min_free_space = 2G",
            "session_ports = 20100-20199",
            "daemon = yes",
            "pidfile = /run/netdump-server.pid")).Settings;

        Assert.Equal(20999, settings.Port);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), settings.Address);
        Assert.Equal(16, settings.MaxConcurrentDumps);
        Assert.False(settings.Secure);
        Assert.Equal("/srv/crash", settings.DumpDirectory);
        Assert.Equal([IPNetwork.Parse("192.0.2.0/24"), IPNetwork.Parse("198.51.100.7/32")], settings.Allow);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.SessionTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), settings.Linger);
        Assert.Equal(2UL << 30, settings.MinFreeSpace);
        Assert.Equal(20100, settings.SessionPorts!.First);
        Assert.True(settings.Daemon);
        Assert.Equal("/run/netdump-server.pid", settings.PidFile);
        Assert.Equal(TimeSpan.FromSeconds(60), settings.ScriptTimeout);
    }

    [Fact]
    public void OperatorConfig_should_put_the_command_line_in_front_of_the_conf_file()
    {
        var file = Conf(
            "port = 20999",
            "addr = 192.0.2.10",
            "max_concurrent_dumps = 16",
            "secure = no",
            "dumpdir = /srv/crash",
            "pidfile = /run/from-file.pid",
            "session_timeout = 90");
        var commandLine = new ServerOptions
        {
            Port = 0,
            Addr = "127.0.0.1",
            Concurrent = 2,
            Secure = true,
            DumpDir = "/tmp/crash",
            PidFile = "/run/from-command-line.pid",
            Daemon = true,
        };

        var settings = Merge(commandLine, file).Settings;

        Assert.Equal(0, settings.Port);
        Assert.Equal(IPAddress.Loopback, settings.Address);
        Assert.Equal(2, settings.MaxConcurrentDumps);
        Assert.True(settings.Secure);
        Assert.Equal("/tmp/crash", settings.DumpDirectory);
        Assert.Equal("/run/from-command-line.pid", settings.PidFile);
        Assert.True(settings.Daemon);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.SessionTimeout);
    }

    [Fact]
    public void OperatorConfig_should_keep_the_conf_files_value_for_an_option_not_given()
    {
        var settings = Merge(new ServerOptions { Port = 0 }, Conf("port = 20999", "secure = 0")).Settings;

        Assert.Equal(0, settings.Port);
        Assert.False(settings.Secure);
    }

    [Fact]
    public void OperatorConfig_should_name_the_file_and_line_of_a_bad_value()
    {
        Assert.Equal(
            "test.conf:2: port: -1 is out of range 0-65535",
            ErrorOf(new ServerOptions(), Conf("secure = 1", "port = -1")));
        Assert.Equal(
            "test.conf:1: allow: \"10.0.0.0/33\" is not an IPv4 CIDR prefix such as 192.0.2.0/24",
            ErrorOf(new ServerOptions(), Conf("allow = 10.0.0.0/8, 10.0.0.0/33")));
        Assert.StartsWith("test.conf:1: min_free_space: ", ErrorOf(new ServerOptions(), Conf("min_free_space = 12Q")));
        Assert.Equal("test.conf:1: session_timeout: must be positive", ErrorOf(new ServerOptions(), Conf("session_timeout = 0")));
    }

    [Theory]
    [InlineData(null, AtRestCompression.Off)]
    [InlineData("zstd", AtRestCompression.Zstd)]
    [InlineData("off", AtRestCompression.Off)]
    [InlineData("yes", AtRestCompression.Zstd)] // the Red Hat server's boolean
    [InlineData("0", AtRestCompression.Off)]
    public void OperatorConfig_should_read_compress_as_zstd_or_off_and_the_old_servers_booleans(string? value, AtRestCompression expected)
    {
        var settings = Merge(new ServerOptions(), value is null ? null : Conf($"compress = {value}")).Settings;
        Assert.Equal(expected, settings.Compress);
        Assert.Null(settings.DecryptKey);
        Assert.Equal("test.conf:1: compress: \"gzip\" is not zstd or off", ErrorOf(new ServerOptions(), Conf("compress = gzip")));
        Assert.Equal("/etc/netdump/dump.pem", Merge(new ServerOptions(), Conf("decrypt_key = /etc/netdump/dump.pem")).Settings.DecryptKey);
    }

    [Fact]
    public void OperatorConfig_should_read_a_choice_key_by_its_words()
    {
        Assert.Equal(Netdump.Actors.Ingest.IngestEngine.Epoll, Merge(new ServerOptions(), Conf("ingest_engine = epoll")).Settings.IngestEngine);
        Assert.Equal(Netdump.Actors.Scheduling.CpuScheduling.Normal, Merge(new ServerOptions(), Conf("cpu_scheduling = normal")).Settings.CpuScheduling);
        Assert.Equal(Netdump.Actors.Scheduling.CpuScheduling.Batch, Merge(new ServerOptions(), null).Settings.CpuScheduling);
    }

    [Theory]
    [InlineData("ingest_engine = fast", "test.conf:1: ingest_engine: \"fast\" is not batched, epoll or managed")]
    [InlineData("cpu_scheduling = fifo", "test.conf:1: cpu_scheduling: \"fifo\" is not batch or normal")]
    public void OperatorConfig_should_refuse_a_choice_key_with_another_word_in_one_line(string line, string error)
    {
        Assert.Equal(error, ErrorOf(new ServerOptions(), Conf(line)));
    }

    [Fact]
    public void StartupChecks_should_refuse_a_decrypt_key_others_may_read_in_one_line()
    {
        AtRestTests.WriteKeyPair(_dir.Path, "private.pem", "public.pem");
        var key = _dir.Combine("private.pem");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.OtherRead);
        var settings = Merge(new ServerOptions(), Conf($"decrypt_key = {key}", "compress = zstd")).Settings;

        var error = Assert.Throws<OperatorConfigException>(() => StartupChecks.CheckStorageCare(settings)).Message;

        Assert.Equal($"decrypt_key {key} may be read by others (mode 0404): the key to every encrypted dump must be readable by the server's user alone (chmod 0400)", error);
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        StartupChecks.CheckStorageCare(settings);
    }

    [Fact]
    public void OperatorConfig_should_name_the_option_of_a_bad_value()
    {
        Assert.Equal("--port: 70000 is out of range 0-65535", ErrorOf(new ServerOptions { Port = 70000 }, null));
        Assert.Equal("--concurrent: 0 must be at least 1", ErrorOf(new ServerOptions { Concurrent = 0 }, null));
        Assert.Equal("--addr: \"example.org\" is not an IPv4 address (four numbers 0-255 with dots, such as 192.0.2.10)", ErrorOf(new ServerOptions { Addr = "example.org" }, null));
        Assert.Equal("--dumpdir: empty value", ErrorOf(new ServerOptions { DumpDir = "" }, null));
    }

    [Theory]
    [InlineData("1.2.3")] // 1.2.0.3 to IPAddress.Parse (inet_aton)
    [InlineData("127.1")] // 127.0.0.1
    [InlineData("010.0.0.1")] // octal: 8.0.0.1
    [InlineData("0x7f.0.0.1")]
    [InlineData("2130706433")] // 127.0.0.1 as one number
    public void OperatorConfig_should_refuse_an_IPv4_address_that_is_not_a_dotted_quad_wherever_it_is_read(string address)
    {
        Assert.Equal($"--addr: \"{address}\" is not an IPv4 address (four numbers 0-255 with dots, such as 192.0.2.10)", ErrorOf(new ServerOptions { Addr = address }, null));
        Assert.Equal($"test.conf:1: addr: \"{address}\" is not an IPv4 address (four numbers 0-255 with dots, such as 192.0.2.10)", ErrorOf(new ServerOptions(), Conf($"addr = {address}")));
        Assert.Equal(
            $"--http: \"{address}:20085\" is not an address and port such as 127.0.0.1:20080 (or off; an IPv4 address is four numbers 0-255 with dots, such as 192.0.2.10)",
            ErrorOf(new ServerOptions { Http = $"{address}:20085" }, null));
        Assert.Equal($"test.conf:1: allow: \"{address}/32\" is not an IPv4 CIDR prefix such as 192.0.2.0/24", ErrorOf(new ServerOptions(), Conf($"allow = 127.0.0.0/8, {address}/32")));
        Assert.Equal($"test.conf:1: allow: \"{address}\" is not an IPv4 CIDR prefix such as 192.0.2.0/24", ErrorOf(new ServerOptions(), Conf($"allow = {address}")));
        Assert.Equal(
            $"test.conf:2: cluster_seeds: \"{address}:20090\" is not host:port such as 192.0.2.10:20090",
            ErrorOf(new ServerOptions(), Conf("cluster = on", $"cluster_seeds = {address}:20090")));
    }

    [Fact]
    public void OperatorConfig_should_take_dotted_quads_and_a_seed_by_name()
    {
        var settings = Merge(new ServerOptions { Addr = "192.0.2.10", Http = "127.0.0.2:20085" }, Conf("allow = 10.0.0.0/8, 192.0.2.7", "cluster = on", "cluster_seeds = 192.0.2.10:20090, seed1.example.org:20090")).Settings;

        Assert.Equal(IPAddress.Parse("192.0.2.10"), settings.Address);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 20085), settings.Http!.Endpoint);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.0.2.7/32")], settings.Allow);
        Assert.Equal(["192.0.2.10", "seed1.example.org"], settings.Cluster!.Seeds.Select(s => s.Host));
    }

    [Fact]
    public void OperatorConfig_should_blame_the_command_line_when_it_overrides_a_good_file_value()
    {
        Assert.Equal(
            "--port: 70000 is out of range 0-65535",
            ErrorOf(new ServerOptions { Port = 70000 }, Conf("port = 20023")));
    }

    [Fact]
    public void OperatorConfig_should_check_a_file_value_the_command_line_overrides()
    {
        // issue 18: the next start without --port reads this line
        Assert.Equal(
            "test.conf:2: port: 70000 is out of range 0-65535",
            ErrorOf(new ServerOptions { Port = 20125 }, Conf("secure = 1", "port = 70000")));
        Assert.Equal(
            "test.conf:1: max_concurrent_dumps: 0 must be at least 1",
            ErrorOf(new ServerOptions { Concurrent = 2 }, Conf("max_concurrent_dumps = 0")));
    }

    [Fact]
    public void OperatorConfig_should_refuse_a_max_dump_size_of_nothing()
    {
        Assert.Equal(
            "test.conf:1: max_dump_size: \"0\" would refuse every dump's first byte (leave it unset for the free space at each HERALD)",
            ErrorOf(new ServerOptions(), Conf("max_dump_size = 0")));
    }

    [Fact]
    public void OperatorConfig_should_skip_a_missing_default_file()
    {
        var loaded = OperatorConfig.Load(new ServerOptions { Port = 0 }.ToNetdumpKeys(), _dir.Combine("netdump.conf"), explicitPath: false);

        Assert.Null(loaded.ConfigFile);
        Assert.Equal(0, loaded.Settings.Port);
    }

    [Fact]
    public void OperatorConfig_should_refuse_a_missing_explicit_file()
    {
        var path = _dir.Combine("netdump.conf");

        var error = Assert.Throws<OperatorConfigException>(() => OperatorConfig.Load(new Dictionary<string, object?>(), path, explicitPath: true));

        Assert.Equal($"config file {path} does not exist", error.Message);
    }

    [Fact]
    public void OperatorConfig_should_refuse_a_directory_as_the_file()
    {
        var error = Assert.Throws<OperatorConfigException>(() => OperatorConfig.Load(new Dictionary<string, object?>(), _dir.Path, explicitPath: false));

        Assert.Equal($"config file {_dir.Path} is a directory", error.Message);
    }

    [Fact]
    public void OperatorConfig_should_read_the_file_and_return_its_warnings()
    {
        var path = _dir.Combine("netdump.conf");
        File.WriteAllText(path, "port = 20999\nspace_check = 1\n");

        var loaded = new ServerOptions { ConfigPath = path }.Load();

        Assert.Equal(path, loaded.ConfigFile);
        Assert.Equal(20999, loaded.Settings.Port);
        Assert.Equal($"{path}:2: space_check has no meaning for this server and is ignored", Assert.Single(loaded.Warnings));
    }

    [Fact]
    public void OperatorConfig_should_read_a_default_file_that_exists()
    {
        var path = _dir.Combine("netdump.conf");
        File.WriteAllText(path, "port = 20999\n");

        Assert.Equal(20999, OperatorConfig.Load(new Dictionary<string, object?>(), path, explicitPath: false).Settings.Port);
    }

    [Fact]
    public void OperatorConfig_should_carry_daemon_and_pidfile_into_the_settings()
    {
        var settings = Merge(new ServerOptions { Daemon = true, PidFile = "nd.pid" }, null).Settings;

        Assert.True(settings.Daemon);
        Assert.Equal(Path.GetFullPath("nd.pid"), settings.PidFile);
    }

    [Fact]
    public void BuildConfig_should_put_netdump_keys_in_front_of_the_defaults_and_leave_out_nulls()
    {
        var config = OperatorConfig.BuildConfig(new Dictionary<string, object?>
        {
            ["port"] = 0,
            ["session_timeout"] = "2s",
            ["secure"] = false,
            ["addr"] = null,
        });

        Assert.Equal(0, config.GetInt("netdump.port"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("netdump.session_timeout"));
        Assert.False(config.GetBoolean("netdump.secure"));
        Assert.Equal("0.0.0.0", config.GetString("netdump.addr"));
        Assert.Equal("INFO", config.GetString("akka.loglevel"));
    }

    [Theory]
    [InlineData("/srv/crash \"quoted\" dir")]
    [InlineData(@"/srv/back\slash")]
    [InlineData("/srv/crash #1 ${not.a.substitution}")]
    [InlineData("/srv/ümlaut+plus")]
    [InlineData("/srv/tab\there")]
    public void BuildConfig_should_keep_any_string_exactly(string path)
    {
        var config = OperatorConfig.BuildConfig(new Dictionary<string, object?> { ["dumpdir"] = path });

        Assert.Equal(path, config.GetString("netdump.dumpdir"));
    }
}
