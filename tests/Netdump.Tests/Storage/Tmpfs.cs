using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Netdump.Tests.Storage;

/// <summary>A small real file system for the disk-full tests: a tmpfs, which only root can mount (CI runs as root on this machine kind).</summary>
internal static class Tmpfs
{
    public static bool IsRoot => EffectiveUid == 0;

    /// <summary>The effective user id of the tests' process (and of a server they start in it).</summary>
    public static uint EffectiveUid => geteuid();

    /// <summary>Mounts a tmpfs with <paramref name="options"/> (e.g. <c>size=3m</c>) on <paramref name="path"/>; false when not root or mount fails.</summary>
    public static bool TryMount(string path, string options)
    {
        if (!IsRoot)
        {
            return false;
        }

        using var mount = Process.Start("mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])!;
        mount.WaitForExit();
        return mount.ExitCode == 0;
    }

    /// <summary>Lazily unmounts it (files still open on it do not stop that).</summary>
    public static void Unmount(string path) => Process.Start("umount", ["-l", path])!.WaitForExit();

    [DllImport("libc")]
    private static extern uint geteuid();
}
