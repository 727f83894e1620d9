using System.Diagnostics;
using System.Reflection;

namespace Netdump.Tests.Packaging;

/// <summary>The programs the packaging tests run (man, dpkg-deb, dpkg, lintian), and where the repository is.</summary>
internal static class Tool
{
    /// <summary>The repository's root: the directory above the test assembly that holds Netdump.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The build's own output of src/Netdump.App (the configuration the tests were built in).</summary>
    public static string AppBuildOutput { get; } = Path.Combine(
        RepositoryRoot, "src", "Netdump.App", "bin",
        typeof(Tool).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug",
        "net10.0");

    public static string InRepository(string relative) => Path.Combine(RepositoryRoot, relative);

    public static bool OnPath(string tool) => Locate(tool) is not null;

    /// <summary>Runs <paramref name="tool"/> to its end; the caller checks the exit status.</summary>
    public static Result Run(string tool, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var path = Locate(tool) ?? (File.Exists(tool) ? tool : throw new InvalidOperationException($"{tool} is not installed"));
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new Result(process.ExitCode, output, error.Result);
    }

    /// <summary>Like <see cref="Run"/>, and fails the test, with what the tool said, unless it exits 0.</summary>
    public static string Check(string tool, params string[] arguments)
    {
        var result = Run(tool, arguments);
        Assert.True(result.ExitCode == 0, $"{tool} {string.Join(' ', arguments)} exited with {result.ExitCode}: {result.Stdout}{result.Stderr}");
        return result.Stdout;
    }

    private static string? Locate(string tool) => tool.Contains('/')
        ? null
        : (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Netdump.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Netdump.sln above {AppContext.BaseDirectory}");
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);
}

/// <summary>
/// A test that needs <c>tool</c>, skipped with a reason where it is not installed (a green run
/// then says what it did not check).
/// </summary>
internal sealed class FactWithToolAttribute : FactAttribute
{
    public FactWithToolAttribute(string tool, string install)
    {
        if (!Tool.OnPath(tool))
        {
            Skip = $"{tool} is not installed ({install})";
        }
    }
}
