using Netdump.Actors.Configuration;

namespace Netdump.Tests.Configuration;

/// <summary><c>cache_dir</c>: auto's order (systemd, XDG, root, home), off, and a path of one's own.</summary>
public sealed class CacheLocationTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Auto_takes_systemds_cache_directory_first()
    {
        var env = Environment(("CACHE_DIRECTORY", "/var/cache/netdump-server/rack1"), ("XDG_CACHE_HOME", "/home/op/.cache"), ("HOME", "/home/op"));
        Assert.Equal("/var/cache/netdump-server/rack1", CacheLocation.Resolve("auto", env, root: true));
    }

    [Fact]
    public void Auto_takes_the_first_of_several_systemd_cache_directories()
    {
        var env = Environment(("CACHE_DIRECTORY", "/var/cache/a:/var/cache/b"));
        Assert.Equal("/var/cache/a", CacheLocation.Resolve("auto", env, root: false));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Auto_without_systemd_takes_xdg_cache_home_for_anyone(bool root)
    {
        var env = Environment(("XDG_CACHE_HOME", "/home/op/xdg"), ("HOME", "/home/op"));
        Assert.Equal("/home/op/xdg/netdump-server", CacheLocation.Resolve("auto", env, root));
    }

    [Fact]
    public void Auto_for_root_without_either_is_var_cache()
    {
        Assert.Equal("/var/cache/netdump-server", CacheLocation.Resolve("auto", Environment(("HOME", "/root")), root: true));
    }

    [Fact]
    public void Auto_for_a_user_without_either_is_the_home_cache()
    {
        Assert.Equal("/home/op/.cache/netdump-server", CacheLocation.Resolve("auto", Environment(("HOME", "/home/op")), root: false));
    }

    [Fact]
    public void Auto_ignores_relative_paths_in_the_variables_as_xdg_says()
    {
        var env = Environment(("CACHE_DIRECTORY", "cache"), ("XDG_CACHE_HOME", "relative"), ("HOME", "/home/op"));
        Assert.Equal("/home/op/.cache/netdump-server", CacheLocation.Resolve("auto", env, root: false));
    }

    [Fact]
    public void Auto_for_a_user_with_no_home_keeps_nothing()
    {
        Assert.Null(CacheLocation.Resolve("auto", Environment(), root: false));
    }

    [Theory]
    [InlineData("off")]
    [InlineData("no")]
    [InlineData("false")]
    [InlineData("none")]
    [InlineData("0")]
    [InlineData(" OFF ")] // as compress takes them: any case
    public void Off_and_its_other_words_keep_nothing(string off)
    {
        Assert.Null(CacheLocation.Resolve(off, Environment(("XDG_CACHE_HOME", "/home/op/xdg")), root: false));
    }

    [Fact]
    public void A_path_is_made_absolute_and_a_folder_called_off_is_named_with_its_directory()
    {
        var env = Environment(("XDG_CACHE_HOME", "/home/op/xdg"));
        Assert.Equal(Path.GetFullPath("off"), CacheLocation.Resolve("./off", env, root: false));
        Assert.Equal("/srv/netdump-cache", CacheLocation.Resolve(" /srv/netdump-cache ", env, root: false));
        Assert.Equal(Path.GetFullPath("cache"), CacheLocation.Resolve("cache", env, root: false));
    }
}
