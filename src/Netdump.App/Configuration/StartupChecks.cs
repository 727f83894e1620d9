using System.Net;
using System.Net.Sockets;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;

namespace Netdump.App.Configuration;

/// <summary>
/// What the settings cannot tell by themselves and the server must know before its actor system
/// starts: that the dump directory can be written, and that the HERALD port can be bound. Each
/// failure is an <see cref="OperatorConfigException"/> with one line for the operator.
/// </summary>
public static class StartupChecks
{
    /// <summary>
    /// The dump directory must exist (it is made, mode 0700, when missing and its parent exists:
    /// a typo higher up the path is refused, not built into a tree of new folders), be
    /// <see cref="TrustedPath">trusted</see> (the server's user's or root's, a link to it too,
    /// writable by nobody else) and be writable.
    /// </summary>
    public static void PrepareDumpDirectory(string path)
    {
        if (File.Exists(path))
        {
            throw new OperatorConfigException($"dumpdir {path} is a file, not a directory");
        }

        try
        {
            if (!Directory.Exists(path))
            {
                if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)) is { } parent && !Path.Exists(parent))
                {
                    var reason = FileAmongParents(path) is { } file
                        ? $"{file} is not a directory"
                        : $"its parent {parent} does not exist (only the last folder of dumpdir is made)";
                    throw new OperatorConfigException($"dumpdir {path} cannot be created: {reason}");
                }

                Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var reason = FileAmongParents(path) is { } file ? $"{file} is not a directory" : Reason(e);
            throw new OperatorConfigException($"dumpdir {path} cannot be created: {reason}", e);
        }

        // Scripts run and magic files admit clients from under dumpdir: a directory others can
        // write would let anyone plant them.
        if (TrustedPath.WhyNotTrustedDirectory(path) is { } problem)
        {
            throw new OperatorConfigException(
                $"dumpdir {path} is not trusted: {problem}; anyone who can write there could plant scripts or magic files (chown it to the server's user or root, chmod go-w)");
        }

        var probe = Path.Combine(path, $".netdump-write-test-{Environment.ProcessId}");
        try
        {
            File.WriteAllBytes(probe, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperatorConfigException($"dumpdir {path} is not writable: {Reason(e)}", e);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    /// <summary>
    /// What <c>compress</c> and <c>decrypt_key</c> need: the system's libzstd, and a private key
    /// that is the server's user's (or root's), readable by nobody else and a usable RSA key.
    /// </summary>
    public static void CheckStorageCare(NetdumpSettings settings)
    {
        if (settings.Compress == AtRestCompression.Zstd && ZstdCore.WhyUnavailable() is { } noZstd)
        {
            throw new OperatorConfigException($"compress = zstd: {noZstd}");
        }

        if (settings.DecryptKey is { } path)
        {
            using var key = DecryptKey.Load(path, out var why);
            if (key is null)
            {
                throw new OperatorConfigException(why!);
            }
        }
    }

    /// <summary>
    /// Binds and releases the HERALD port, so that a port in use (or an address this machine does
    /// not have, or a privileged port) stops the start before anything runs. Port 0 (any port)
    /// always binds. The listener binds for real moments later and reports a failure the same way.
    /// </summary>
    public static void CheckListenPort(IPAddress address, int port) =>
        // the listener's wording (UdpListenerActor), so both checks read alike
        ProbeBind(SocketType.Dgram, ProtocolType.Udp, address, port, "");

    /// <summary>
    /// Binds and releases the cluster's TCP port (<c>addr</c>, <c>cluster_port</c>): a port in use
    /// stopped the start inside Akka's remoting with its exception's whole text, or not at all.
    /// </summary>
    public static void CheckClusterPort(IPAddress address, int port) =>
        ProbeBind(SocketType.Stream, ProtocolType.Tcp, address, port, ConfigKeys.ClusterPort.Name + ": ");

    /// <summary>Binds and releases <paramref name="address"/>:<paramref name="port"/> (0: any port, always free); a failure is one line, after <paramref name="prefix"/>.</summary>
    private static void ProbeBind(SocketType type, ProtocolType protocol, IPAddress address, int port, string prefix)
    {
        if (port == 0)
        {
            return;
        }

        using var socket = new Socket(address.AddressFamily, type, protocol);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e)
        {
            throw new OperatorConfigException($"{prefix}cannot bind {address}:{port}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The nearest existing parent of <paramref name="path"/> when it is a file: .NET reports that
    /// case (ENOTDIR) as "could not find a part of the path", which sends the operator looking for
    /// a missing directory.
    /// </summary>
    private static string? FileAmongParents(string path)
    {
        for (var parent = Path.GetDirectoryName(path); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
        {
            if (File.Exists(parent))
            {
                return parent;
            }

            if (Directory.Exists(parent))
            {
                return null;
            }
        }

        return null;
    }

    /// <summary>The OS's reason, on one line.</summary>
    private static string Reason(Exception e) => e.Message.ReplaceLineEndings(" ");
}
