namespace Netdump.Tests.Packaging;

/// <summary>
/// The .deb that packaging/build-deb.sh makes from the build's own output of src/Netdump.App
/// (<c>--from</c>: no second publish), built once for <see cref="DebPackageTests"/> in a
/// directory of its own; null where dpkg-deb is not installed.
/// </summary>
public sealed class DebPackage : IDisposable
{
    private readonly string? _directory;

    public DebPackage()
    {
        if (!Tool.OnPath("dpkg-deb"))
        {
            return;
        }

        _directory = Directory.CreateTempSubdirectory("netdump-deb-test.").FullName;
        var built = Tool.Run("bash", [Tool.InRepository("packaging/build-deb.sh"), "--from", Tool.AppBuildOutput, "--out", _directory]);
        BuildOutput = built.Stdout + built.Stderr;
        Path = built.ExitCode == 0 ? built.Stdout.Trim() : null;
    }

    /// <summary>The package; null when it could not be built (<see cref="BuildOutput"/> says why).</summary>
    public string? Path { get; }

    public string BuildOutput { get; } = "";

    /// <summary>The package, or the test fails with what build-deb.sh said.</summary>
    public string Deb => Path ?? throw new InvalidOperationException($"packaging/build-deb.sh failed: {BuildOutput}");

    public void Dispose()
    {
        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
