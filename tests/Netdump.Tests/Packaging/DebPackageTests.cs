using System.Runtime.InteropServices;
using Netdump.App.CommandLine;

namespace Netdump.Tests.Packaging;

/// <summary>
/// The .deb (packaging/build-deb.sh): what it holds, its control fields, an installation into a
/// scratch root with dpkg (maintainer scripts included) and out again, and lintian's verdict.
/// </summary>
public sealed class DebPackageTests : IClassFixture<DebPackage>
{
    private const string NeedsDpkg = "apt-get install dpkg; every Debian system has it";
    private readonly DebPackage _package;

    public DebPackageTests(DebPackage package) => _package = package;

    [FactWithTool("dpkg-deb", NeedsDpkg)]
    public void The_package_holds_the_server_its_unit_users_man_pages_logrotate_file_and_conf()
    {
        var entries = Tool.Check("dpkg-deb", "-c", _package.Deb)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(fields => string.Join(' ', fields[5..]), fields => (Mode: fields[0], Owner: fields[1]));

        var expected = new Dictionary<string, string>
        {
            ["./usr/lib/netdump-server/netdump-server"] = "-rwxr-xr-x",
            ["./usr/lib/netdump-server/netdump-server.dll"] = "-rw-r--r--",
            ["./usr/lib/netdump-server/netdump-server.runtimeconfig.json"] = "-rw-r--r--",
            ["./usr/lib/netdump-server/Netdump.Actors.dll"] = "-rw-r--r--",
            ["./usr/sbin/netdump-server -> ../lib/netdump-server/netdump-server"] = "lrwxrwxrwx",
            ["./usr/lib/systemd/system/netdump-server.service"] = "-rw-r--r--",
            ["./usr/lib/sysusers.d/netdump-server.conf"] = "-rw-r--r--",
            ["./usr/lib/tmpfiles.d/netdump-server.conf"] = "-rw-r--r--",
            ["./usr/share/man/man8/netdump-server.8.gz"] = "-rw-r--r--",
            ["./usr/share/man/man5/netdump.conf.5.gz"] = "-rw-r--r--",
            ["./etc/logrotate.d/netdump-server"] = "-rw-r--r--",
            ["./etc/netdump.conf"] = "-rw-r--r--",
            ["./usr/share/bash-completion/completions/netdump-server"] = "-rw-r--r--",
            ["./usr/share/doc/netdump-server/copyright"] = "-rw-r--r--",
            ["./usr/share/doc/netdump-server/changelog.Debian.gz"] = "-rw-r--r--",
        };
        Assert.All(expected, file =>
        {
            Assert.True(entries.TryGetValue(file.Key, out var entry), $"{file.Key} is not in the package");
            Assert.Equal(file.Value, entry.Mode);
        });
        Assert.All(entries, entry => Assert.Equal("root/root", entry.Value.Owner));
        // nothing in the package writable by anyone but root (links aside, whose mode means nothing)
        Assert.All(entries.Where(e => e.Value.Mode[0] != 'l'), e => Assert.Equal('-', e.Value.Mode[5]));
        Assert.All(entries.Where(e => e.Value.Mode[0] != 'l'), e => Assert.Equal('-', e.Value.Mode[8]));
    }

    [FactWithTool("dpkg-deb", NeedsDpkg)]
    public void The_control_fields_name_this_version_the_machine_and_the_NET_runtime_package()
    {
        string Field(string name) => Tool.Check("dpkg-deb", "-f", _package.Deb, name).Trim();

        Assert.Equal("netdump-server", Field("Package"));
        Assert.Equal($"{ServerCommand.Version}-1", Field("Version"));
        Assert.Equal(Tool.Check("dpkg", "--print-architecture").Trim(), Field("Architecture"));
        Assert.Contains("dotnet-runtime-10.0", Field("Depends").Split(", "));
        Assert.Contains("libzstd1", Field("Depends").Split(", ")); // compress = zstd

        var info = Tool.Check("dpkg-deb", "-I", _package.Deb);
        foreach (var script in new[] { "postinst", "prerm", "postrm", "md5sums", "conffiles" })
        {
            Assert.Contains($" {script} ", info);
        }

        var conffiles = Tool.Check("dpkg-deb", "-I", _package.Deb, "conffiles").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["/etc/netdump.conf", "/etc/logrotate.d/netdump-server"], conffiles);
    }

    [FactAsRootWithDpkg]
    public void Dpkg_installs_it_into_a_scratch_root_with_the_netdump_user_var_crash_and_the_enabled_unit_and_purges_it()
    {
        var root = Directory.CreateTempSubdirectory("netdump-deb-root.").FullName;
        try
        {
            foreach (var dir in new[] { "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc" })
            {
                Directory.CreateDirectory(Path.Combine(root, dir));
            }

            File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
            File.WriteAllText(Path.Combine(root, "var/lib/dpkg/available"), "");

            // The maintainer scripts run here with DPKG_ROOT set (--force-script-chrootless),
            // since the scratch root has no shell to chroot into; the runtime is not in its
            // database (--force-depends).
            Dpkg(root, "--install", _package.Deb);
            Assert.Contains("Status: install ok installed", Tool.Check("dpkg", $"--root={root}", "--status", "netdump-server"));

            var user = File.ReadAllLines(Path.Combine(root, "etc/passwd")).Select(l => l.Split(':')).Single(f => f[0] == "netdump");
            Assert.Equal("/var/crash", user[5]);
            Assert.Equal("/usr/sbin/nologin", user[6]);
            var group = File.ReadAllLines(Path.Combine(root, "etc/group")).Select(l => l.Split(':')).Single(f => f[0] == "netdump");

            var crash = Path.Combine(root, "var/crash");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(crash));
            Assert.Equal($"{user[2]} {group[2]}", Tool.Check("stat", "-c", "%u %g", crash).Trim());

            var wanted = new FileInfo(Path.Combine(root, "etc/systemd/system/multi-user.target.wants/netdump-server.service"));
            Assert.Equal("/usr/lib/systemd/system/netdump-server.service", wanted.LinkTarget);
            var unit = File.ReadAllText(Path.Combine(root, "usr/lib/systemd/system/netdump-server.service"));
            Assert.Contains("\nExecStart=/usr/sbin/netdump-server\n", unit);
            Assert.Contains("\nDocumentation=man:netdump-server(8)\n", unit);
            Assert.True(File.Exists(Path.Combine(root, "usr/share/man/man8/netdump-server.8.gz")));

            // the installed command, through its link, finds its assemblies and the runtime
            var dotnetRoot = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "../../.."));
            var version = Tool.Run(Path.Combine(root, "usr/sbin/netdump-server"), ["--version"], new Dictionary<string, string> { ["DOTNET_ROOT"] = dotnetRoot });
            Assert.True(version.ExitCode == 0, version.Stderr);
            Assert.Equal(ServerCommand.Version, version.Stdout.Trim());

            // purge: the program and its conffiles go; the dumps' directory and the user stay
            Dpkg(root, "--purge", "netdump-server");
            Assert.False(File.Exists(Path.Combine(root, "usr/lib/netdump-server/netdump-server")));
            Assert.False(File.Exists(Path.Combine(root, "etc/netdump.conf")));
            Assert.Null(new FileInfo(wanted.FullName).LinkTarget);
            Assert.True(Directory.Exists(crash));
            Assert.Contains(File.ReadAllLines(Path.Combine(root, "etc/passwd")), l => l.StartsWith("netdump:", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [FactWithTool("lintian", "apt-get install lintian, as .ci/run does")]
    public void Lintian_finds_no_error_and_no_warning()
    {
        var result = Tool.Run("lintian", ["--display-info", _package.Deb]);
        var tags = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.True(result.ExitCode == 0, $"lintian exited with {result.ExitCode}: {result.Stdout}{result.Stderr}");
        Assert.DoesNotContain(tags, tag => tag.StartsWith("E: ", StringComparison.Ordinal) || tag.StartsWith("W: ", StringComparison.Ordinal));
    }

    private static void Dpkg(string root, params string[] action) =>
        Tool.Check("dpkg", [$"--root={root}", "--force-script-chrootless", "--force-depends", .. action]);
}

/// <summary>The dpkg installation needs root (it gives files their owners); elsewhere it is skipped with that reason.</summary>
internal sealed class FactAsRootWithDpkgAttribute : FactAttribute
{
    public FactAsRootWithDpkgAttribute()
    {
        if (!Tool.OnPath("dpkg") || !Tool.OnPath("dpkg-deb"))
        {
            Skip = "dpkg is not installed (apt-get install dpkg)";
        }
        else if (Environment.UserName != "root")
        {
            Skip = "installing with dpkg --root needs root (CI runs as root)";
        }
    }
}
