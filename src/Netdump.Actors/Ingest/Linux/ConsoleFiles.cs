using System.Net;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// Console text of Linux clients that are not dumping (netconsole's REPLY_LOG), one file a
/// client: <c>&lt;dumpdir&gt;/.console/&lt;ip&gt;.log</c> (a hidden folder: no HERALD path may
/// lead there and the recovery scan skips it). Text is appended in the order of the console
/// stream, once (a packet whose bytes were all written already is a duplicate); the stream
/// starting again at offset 0 (the client booted) just goes on, and so does a stream found to
/// have started again without that packet (other bytes where the file has text). A file past
/// <see cref="MaxFileBytes"/> becomes <c>&lt;ip&gt;.log.1</c> (one older generation kept), so a
/// chatty client costs at most twice that. Used by the Linux port's thread; a dump's start reads
/// <see cref="Recent"/> from an actor thread, hence the lock.
/// </summary>
internal sealed class ConsoleFiles(string dumpDirectory)
{
    public const string Folder = ".console";

    /// <summary>About a day of a busy server's console; the oops before a panic is in the last few KiB.</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>What a new dump's log gets of the text before it: enough for an oops and its call trace.</summary>
    public const int RecentBytes = 64 << 10;

    /// <summary>
    /// Clients whose console is kept: at 2 MiB each at most, 2 GiB in all. Text from a further
    /// address makes room by forgetting the client that sent text least recently, its files
    /// removed: when the table only filled up, 1,024 spoofed datagrams once kept every later
    /// client's console (the oops before its panic) out for the rest of the server's run.
    /// </summary>
    public const int MaxClients = 1024;

    private readonly Lock _lock = new();

    /// <summary>Per client: where its stream stands, and how long its file is (stat once, then counted); the most recent first.</summary>
    private readonly Dictionary<IPAddress, LinkedListNode<ClientStream>> _clients = [];
    private readonly LinkedList<ClientStream> _recency = new();
    private readonly string _folder = Path.Combine(dumpDirectory, Folder);
    private bool _folderMade;

    public void Append(IPAddress client, uint offset, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            var path = PathOf(client);
            if (_clients.TryGetValue(client, out var node))
            {
                _recency.Remove(node);
            }
            else
            {
                if (_clients.Count >= MaxClients)
                {
                    Forget(_recency.Last!);
                }

                node = new LinkedListNode<ClientStream>(new ClientStream(client, 0, File.Exists(path) ? new FileInfo(path).Length : 0));
                _clients[client] = node;
            }

            _recency.AddFirst(node);
            var known = node.Value;

            var skip = 0;
            if (offset != 0 && offset < known.Next)
            {
                var overlap = (int)Math.Min(known.Next - offset, text.Length);
                if (RepeatsFile(path, known, offset, text[..overlap]))
                {
                    if (overlap == text.Length)
                    {
                        return; // a duplicate: every byte was written
                    }

                    skip = overlap;
                }

                // else other bytes where the stream had text: the client booted again and the
                // packet at offset 0 that says so was lost; the new stream goes on from here
            }
            var fileBytes = known.FileBytes;
            try
            {
                if (!_folderMade)
                {
                    Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                    _folderMade = true;
                }

                if (fileBytes > MaxFileBytes)
                {
                    File.Move(path, path + ".1", overwrite: true);
                    fileBytes = 0;
                }

                using var file = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.Append,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                file.Write(text[skip..]);
                fileBytes += text.Length - skip;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // console text outside a dump is a convenience: a full or broken disk loses it, not a dump
                _folderMade = false; // made again next time, should it have been removed
            }

            node.Value = node.Value with { Next = offset + (long)text.Length, FileBytes = fileBytes };
        }
    }

    /// <summary>Where a client's console stream stands, and how long its file is.</summary>
    private readonly record struct ClientStream(IPAddress Client, long Next, long FileBytes);

    /// <summary>The client that sent text least recently: out of the table, its files removed (their text is the oldest kept).</summary>
    private void Forget(LinkedListNode<ClientStream> node)
    {
        _recency.Remove(node);
        _clients.Remove(node.Value.Client);
        var path = PathOf(node.Value.Client);
        try
        {
            File.Delete(path);
            File.Delete(path + ".1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a file left behind costs its room, not a dump
        }
    }

    /// <summary>
    /// Whether <paramref name="part"/> at stream offset <paramref name="offset"/> is what the
    /// client's file already holds there. Text older than the current file cannot be compared
    /// and counts as a repeat.
    /// </summary>
    private static bool RepeatsFile(string path, ClientStream known, uint offset, ReadOnlySpan<byte> part)
    {
        var position = known.FileBytes - (known.Next - offset);
        if (position < 0)
        {
            return true;
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            Span<byte> stored = part.Length <= 1024 ? stackalloc byte[part.Length] : new byte[part.Length];
            return RandomAccess.Read(file.SafeFileHandle, stored, position) == part.Length && stored.SequenceEqual(part);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // unreadable: keep to what the offsets say
        }
    }

    /// <summary>The last <see cref="RecentBytes"/> of a client's console, and where its stream stands.</summary>
    public (byte[] Text, long Next) Recent(IPAddress client)
    {
        lock (_lock)
        {
            var next = _clients.TryGetValue(client, out var node) ? node.Value.Next : 0;
            // the older generation first: right after a rotation the oops may be there
            var current = Tail(PathOf(client), RecentBytes);
            var older = Tail(PathOf(client) + ".1", RecentBytes - current.Length);
            return ([.. older, .. current], next);
        }
    }

    /// <summary>The last <paramref name="bytes"/> of a file; none when it is missing or unreadable.</summary>
    private static byte[] Tail(string path, int bytes)
    {
        try
        {
            using var file = File.OpenRead(path);
            var length = (int)Math.Min(file.Length, bytes);
            file.Seek(-length, SeekOrigin.End);
            var text = new byte[length];
            file.ReadExactly(text);
            return text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private string PathOf(IPAddress client) => Path.Combine(_folder, client + ".log");
}
