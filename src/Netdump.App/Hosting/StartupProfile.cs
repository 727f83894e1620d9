using System.Runtime;
using Serilog;

namespace Netdump.App.Hosting;

/// <summary>
/// The runtime's multi-core JIT profile (<see cref="ProfileOptimization"/>) in <c>cache_dir</c>.
/// ReadyToRun cannot hold generic code over other assemblies' types (Akka's log values, the
/// collections over the server's own structs), so a fresh server compiled them while its first
/// crash storm waited, a visible part of every HERALD's ack (docs/performance.md).
/// With the profile its last run wrote at exit, a background thread compiles them at start,
/// before the first dump. A missing, stale or unreadable profile only means no head start.
/// </summary>
internal static class StartupProfile
{
    public const string FileName = "netdump-server.jitprofile";

    /// <summary>Starts playing back and recording the profile in <paramref name="directory"/> (made 0700 if missing); null: none.</summary>
    public static void Start(string? directory)
    {
        if (directory is null)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warning("cache_dir {Directory} cannot be made ({Error}): the server starts without its start-up profile; set cache_dir, or off", directory, e.Message);
            return;
        }

        ProfileOptimization.SetProfileRoot(directory);
        ProfileOptimization.StartProfile(FileName);
    }
}
