using System.Net;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class DumpLocationTests : IDisposable
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");
    private static readonly DateTime Arrival = new(2024, 3, 9, 14, 5, 7, DateTimeKind.Local);

    private readonly TempDirectory _temp = new();
    private readonly string _dumpDir;
    private readonly string _outside;

    public DumpLocationTests()
    {
        _dumpDir = _temp.Combine("crash");
        _outside = _temp.Combine("outside");
        Directory.CreateDirectory(_dumpDir);
        Directory.CreateDirectory(_outside);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void An_empty_herald_path_chooses_the_dump_directory()
    {
        var parent = DumpLocation.ChooseParent(_dumpDir, "", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Null(refusal);
    }

    [Fact]
    public void A_nested_relative_path_that_exists_is_accepted()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet", "web"));

        var parent = DumpLocation.ChooseParent(_dumpDir, "fleet/web", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(_dumpDir, "fleet", "web"), parent);
    }

    [Fact]
    public void Dot_and_empty_components_are_harmless()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet", "web"));

        var parent = DumpLocation.ChooseParent(_dumpDir, "./fleet//web/", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(_dumpDir, "fleet", "web"), parent);
        Assert.Equal(_dumpDir, DumpLocation.ChooseParent(_dumpDir, ".", out refusal));
        Assert.Null(refusal);
    }

    [Fact]
    public void A_hosts_last_link_is_no_herald_path_since_it_leads_into_a_dump()
    {
        var dump = DumpLocation.CreateDumpDirectory(_dumpDir, System.Net.IPAddress.Parse("192.0.2.7"), new DateTime(2024, 3, 9, 14, 5, 7));
        LastLinks.Point(_dumpDir, "web7.example.org.last", dump);

        var parent = DumpLocation.ChooseParent(_dumpDir, "web7.example.org.last", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path \"web7.example.org.last\" leads into the dump directory \"192.0.2.7-2024-03-09-14:05:07\"", refusal);
    }

    [Fact]
    public void An_absolute_path_is_refused()
    {
        var parent = DumpLocation.ChooseParent(_dumpDir, "/etc", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path \"/etc\" is absolute", refusal);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("a/../..")]
    [InlineData("a/..")]
    public void A_path_with_a_dot_dot_component_is_refused(string herald)
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "a"));
        Directory.CreateDirectory(Path.Combine(_dumpDir, "b"));

        var parent = DumpLocation.ChooseParent(_dumpDir, herald, out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal($"herald path \"{herald}\" contains \"..\"", refusal);
    }

    [Fact]
    public void Dots_inside_a_name_are_not_a_dot_dot_component()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "v1..2"));

        var parent = DumpLocation.ChooseParent(_dumpDir, "v1..2", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(_dumpDir, "v1..2"), parent);
    }

    [Fact]
    public void A_missing_directory_is_refused_and_not_created()
    {
        var parent = DumpLocation.ChooseParent(_dumpDir, "x", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path \"x\" does not exist under the dump directory", refusal);
        Assert.False(Directory.Exists(Path.Combine(_dumpDir, "x")));
    }

    [Fact]
    public void A_regular_file_is_refused()
    {
        File.WriteAllText(Path.Combine(_dumpDir, "file"), "");

        DumpLocation.ChooseParent(_dumpDir, "file", out var refusal);

        Assert.Equal("herald path \"file\" is not a directory", refusal);
    }

    [Fact]
    public void A_symlink_pointing_outside_the_dump_directory_is_refused()
    {
        File.CreateSymbolicLink(Path.Combine(_dumpDir, "link"), _outside);

        var parent = DumpLocation.ChooseParent(_dumpDir, "link", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path \"link\" resolves outside the dump directory", refusal);
    }

    [Fact]
    public void A_relative_symlink_escaping_through_a_nested_directory_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "a"));
        File.CreateSymbolicLink(Path.Combine(_dumpDir, "a", "up"), "../../outside");

        DumpLocation.ChooseParent(_dumpDir, "a/up", out var refusal);

        Assert.Equal("herald path \"a/up\" resolves outside the dump directory", refusal);
    }

    [Fact]
    public void A_sibling_directory_sharing_the_dump_directory_prefix_is_outside()
    {
        var sibling = _dumpDir + "-other";
        Directory.CreateDirectory(sibling);
        File.CreateSymbolicLink(Path.Combine(_dumpDir, "link"), sibling);

        DumpLocation.ChooseParent(_dumpDir, "link", out var refusal);

        Assert.Equal("herald path \"link\" resolves outside the dump directory", refusal);
    }

    [Fact]
    public void A_symlink_loop_is_refused_with_the_errno_text()
    {
        File.CreateSymbolicLink(Path.Combine(_dumpDir, "loop"), "loop");

        var parent = DumpLocation.ChooseParent(_dumpDir, "loop", out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path \"loop\" cannot be resolved: Too many levels of symbolic links", refusal);
    }

    [Fact]
    public void A_symlink_pointing_inside_is_accepted_as_its_target()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "real", "dir"));
        File.CreateSymbolicLink(Path.Combine(_dumpDir, "link"), Path.Combine(_dumpDir, "real", "dir"));

        var parent = DumpLocation.ChooseParent(_dumpDir, "link", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(_dumpDir, "real", "dir"), parent);
    }

    [Fact]
    public void A_dump_directory_reached_through_a_symlink_keeps_its_spelling()
    {
        var linkedDumpDir = _temp.Combine("crash-link");
        File.CreateSymbolicLink(linkedDumpDir, _dumpDir);
        Directory.CreateDirectory(Path.Combine(_dumpDir, "web"));

        var parent = DumpLocation.ChooseParent(linkedDumpDir, "web", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(linkedDumpDir, "web"), parent);
    }

    [Fact]
    public void An_over_long_path_is_refused()
    {
        var herald = string.Join('/', Enumerable.Repeat("abcdefghi", 103));

        var parent = DumpLocation.ChooseParent(_dumpDir, herald, out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal("herald path of 1029 bytes is longer than 1024", refusal);
    }

    [Theory]
    [InlineData("scripts", "scripts")]
    [InlineData("magic", "magic")]
    [InlineData("lost+found", "lost+found")]
    [InlineData(".snapshot", ".snapshot")]
    [InlineData("scripts/sub", "scripts")]
    [InlineData("to-scripts", "scripts")] // a symlink counts as its target
    public void A_path_into_the_servers_own_folders_is_refused(string herald, string folder)
    {
        foreach (var own in new[] { "scripts/sub", "magic", "lost+found", ".snapshot" })
        {
            Directory.CreateDirectory(Path.Combine(_dumpDir, own));
        }

        File.CreateSymbolicLink(Path.Combine(_dumpDir, "to-scripts"), "scripts");

        var parent = DumpLocation.ChooseParent(_dumpDir, herald, out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal($"herald path \"{herald}\" leads into \"{folder}\", which is the server's own", refusal);
    }

    [Fact]
    public void A_folder_merely_named_like_the_servers_own_deeper_down_is_accepted()
    {
        Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet", "scripts"));

        var parent = DumpLocation.ChooseParent(_dumpDir, "fleet/scripts", out var refusal);

        Assert.Null(refusal);
        Assert.Equal(Path.Combine(_dumpDir, "fleet", "scripts"), parent);
    }

    [Theory]
    [InlineData("dump.json")]
    [InlineData("info")]
    [InlineData("vmcore-incomplete")]
    [InlineData(".dump.json.final.tmp")]
    public void A_path_into_a_dump_directory_or_below_is_refused(string file)
    {
        var dump = Directory.CreateDirectory(Path.Combine(_dumpDir, "fleet", "old-dump", "sub")).Parent!.FullName;
        File.WriteAllText(Path.Combine(dump, file), "");

        foreach (var herald in new[] { "fleet/old-dump", "fleet/old-dump/sub" })
        {
            var parent = DumpLocation.ChooseParent(_dumpDir, herald, out var refusal);

            Assert.Equal(_dumpDir, parent);
            Assert.Equal($"herald path \"{herald}\" leads into the dump directory \"fleet/old-dump\"", refusal);
        }
    }

    [Fact]
    public void A_path_through_a_folder_every_user_may_write_without_the_sticky_bit_is_refused()
    {
        // another user could rename a dump's directory there and put a link to elsewhere in its
        // place, which the server would then write into and serve
        var open = Directory.CreateDirectory(Path.Combine(_dumpDir, "lab", "web")).Parent!.FullName;
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777

        foreach (var herald in new[] { "lab", "lab/web" })
        {
            var parent = DumpLocation.ChooseParent(_dumpDir, herald, out var refusal);

            Assert.Equal(_dumpDir, parent);
            Assert.Equal($"herald path \"{herald}\" leads through \"lab\", which is writable by every user without the sticky bit (mode 0777)", refusal);
        }

        File.SetUnixFileMode(open, (UnixFileMode)0x3FF); // 1777, as /tmp: others cannot rename what is not theirs
        Assert.Equal(Path.Combine(_dumpDir, "lab"), DumpLocation.ChooseParent(_dumpDir, "lab", out var none));
        Assert.Null(none);
    }

    [Fact]
    public void A_path_into_a_directory_named_as_a_dump_is_refused_even_before_its_files_exist()
    {
        var dump = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        var name = Path.GetFileName(dump);

        var parent = DumpLocation.ChooseParent(_dumpDir, name, out var refusal);

        Assert.Equal(_dumpDir, parent);
        Assert.Equal($"herald path \"{name}\" leads into the dump directory \"{name}\"", refusal);
    }

    [Fact]
    public void The_deepest_path_a_herald_can_spell_is_accepted_and_a_symlink_cannot_lead_deeper()
    {
        var levels = Enumerable.Repeat("a", DumpLocation.MaxParentDepth).ToArray();
        var deepest = Path.Combine([_dumpDir, .. levels]);
        Directory.CreateDirectory(Path.Combine(deepest, "a"));
        var herald = string.Join('/', levels);
        Assert.Equal(DumpLocation.MaxHeraldPathBytes - 1, herald.Length);

        Assert.Equal(deepest, DumpLocation.ChooseParent(_dumpDir, herald, out var refusal));
        Assert.Null(refusal);

        Directory.CreateSymbolicLink(Path.Combine(_dumpDir, "deep"), Path.Combine(deepest, "a"));
        Assert.Equal(_dumpDir, DumpLocation.ChooseParent(_dumpDir, "deep", out refusal));
        Assert.Equal($"herald path \"deep\" resolves {DumpLocation.MaxParentDepth + 1} levels below the dump directory, more than {DumpLocation.MaxParentDepth}", refusal);
    }

    [Fact]
    public void A_path_with_a_control_character_is_refused()
    {
        DumpLocation.ChooseParent(_dumpDir, "a\nb", out var refusal);

        Assert.Equal("herald path \"a?b\" contains a control character", refusal);
    }

    [Fact]
    public void A_path_with_an_invisible_format_character_is_refused_and_shown_without_it()
    {
        DumpLocation.ChooseParent(_dumpDir, "rack\u202e1gol", out var refusal);

        Assert.Equal("herald path \"rack?1gol\" contains an invisible format character", refusal);
    }

    [Fact]
    public void A_relative_dump_directory_is_made_absolute()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _dumpDir);

        var parent = DumpLocation.ChooseParent(relative, "", out _);

        Assert.Equal(_dumpDir, parent);
    }

    [Fact]
    public void The_dump_directory_is_named_after_the_client_and_the_local_time()
    {
        var dir = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);

        Assert.Equal(Path.Combine(_dumpDir, "192.0.2.7-2024-03-09-14:05:07"), dir);
        Assert.True(Directory.Exists(dir));
    }

    [Fact]
    public void The_dump_directory_has_mode_0700()
    {
        var dir = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }

    [Fact]
    public void A_collision_in_the_same_second_gets_numbered_suffixes()
    {
        var first = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        var second = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        var third = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);

        Assert.Equal(first + "-1", second);
        Assert.Equal(first + "-2", third);
        Assert.All([first, second, third], d => Assert.True(Directory.Exists(d)));
    }

    [Fact]
    public void A_collision_goes_on_from_the_last_suffix_given_and_skips_one_made_meanwhile()
    {
        var first = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        Directory.CreateDirectory(first + "-1"); // another server on the same dumpdir, say
        var second = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        Directory.Delete(first);
        var third = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);

        Assert.Equal(first + "-2", second);
        Assert.Equal(first + "-3", third); // on from the last suffix given, not back to the freed name
    }

    [Fact]
    public void A_different_client_in_the_same_second_does_not_collide()
    {
        var first = DumpLocation.CreateDumpDirectory(_dumpDir, Client, Arrival);
        var other = DumpLocation.CreateDumpDirectory(_dumpDir, IPAddress.Parse("192.0.2.8"), Arrival);

        Assert.EndsWith("192.0.2.8-2024-03-09-14:05:07", other);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void An_ipv4_mapped_client_address_is_named_as_plain_ipv4()
    {
        var dir = DumpLocation.CreateDumpDirectory(_dumpDir, Client.MapToIPv6(), Arrival);

        Assert.Equal("192.0.2.7-2024-03-09-14:05:07", Path.GetFileName(dir));
    }

    [Fact]
    public void Creating_under_a_missing_parent_throws_an_io_exception_naming_the_path()
    {
        var missing = Path.Combine(_dumpDir, "missing");

        var error = Assert.Throws<IOException>(() => DumpLocation.CreateDumpDirectory(missing, Client, Arrival));

        Assert.Contains(missing, error.Message);
        Assert.Contains("No such file or directory", error.Message);
    }
}
