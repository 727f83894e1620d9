using System.Net;
using Netdump.Actors.Configuration;
using Netdump.Tests.Scripts;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Configuration;

/// <summary>
/// Secure mode's magic files (SPEC §6) count only where nobody but the server's user or root
/// could have put them (issue 13: a file planted in a world-writable magic/ admitted a client).
/// </summary>
public sealed class KnownClientsTests : IDisposable
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.8");

    private readonly TempDirectory _dumpDir = new();

    public void Dispose() => _dumpDir.Dispose();

    private string Magic => _dumpDir.Combine(KnownClients.MagicDirectory);

    private KnownClients Known() => new(NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
    {
        DumpDirectory = _dumpDir.Path,
        Secure = true,
        Allow = NetdumpSettings.ParseAllow("127.0.0.0/8"),
    });

    [Fact]
    public void A_magic_file_in_a_trusted_folder_admits_its_client()
    {
        PlantMagicFile(ScriptFolder.Private);

        var known = Known();

        Assert.True(known.IsAllowed(Client));
        Assert.False(known.IsAllowed(IPAddress.Parse("192.0.2.9")));
        Assert.Null(known.WhyMagicIgnored());
        Assert.Null(known.OnlyLocalClientsWarning());
    }

    [Theory]
    [InlineData("0777")]
    [InlineData("1777")]
    [InlineData("0730")]
    public void A_magic_file_in_a_folder_others_can_write_admits_nobody(string mode)
    {
        PlantMagicFile(ScriptFolder.Mode(mode));

        var known = Known();

        Assert.False(known.IsAllowed(Client));
        Assert.Equal(
            $"{Magic} is not trusted (group or world writable (mode {mode})): its files admit no client; chown it to the server's user or root and chmod go-w",
            known.WhyMagicIgnored());
        Assert.NotNull(known.OnlyLocalClientsWarning());
    }

    [Fact]
    public void A_magic_file_others_can_write_admits_nobody()
    {
        var file = PlantMagicFile(ScriptFolder.Private);
        File.SetUnixFileMode(file, ScriptFolder.Mode("0666"));

        Assert.False(Known().IsAllowed(Client));
    }

    [Fact]
    public void A_magic_symbolic_link_counts_as_owned_by_the_links_owner()
    {
        PlantMagicFile(ScriptFolder.Private);
        var target = _dumpDir.Combine("target");
        File.WriteAllText(target, "");
        var link = Path.Combine(Magic, "192.0.2.10");
        File.CreateSymbolicLink(link, target);
        var linked = IPAddress.Parse("192.0.2.10");
        if (!Environment.IsPrivilegedProcess)
        {
            // Only root can give a link away; the other half of the rule: our own link counts.
            Assert.True(Known().IsAllowed(linked));
            return;
        }

        ScriptFolder.Chown(link, 65534, link: true);

        Assert.False(Known().IsAllowed(linked));
        Assert.True(Known().IsAllowed(Client));
    }

    [Fact]
    public void No_magic_folder_is_not_a_problem()
    {
        var known = Known();

        Assert.False(known.IsAllowed(Client));
        Assert.True(known.IsAllowed(IPAddress.Loopback));
        Assert.Null(known.WhyMagicIgnored());
        Assert.NotNull(known.OnlyLocalClientsWarning());
    }

    /// <summary>magic/ with <paramref name="folderMode"/> and a file for <see cref="Client"/> in it (mode 0600).</summary>
    private string PlantMagicFile(UnixFileMode folderMode)
    {
        Directory.CreateDirectory(Magic);
        var file = Path.Combine(Magic, Client.ToString());
        File.WriteAllText(file, "");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.SetUnixFileMode(Magic, folderMode);
        return file;
    }
}
