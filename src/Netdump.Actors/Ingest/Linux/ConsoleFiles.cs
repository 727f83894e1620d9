using System.Net;
using Netdump.Actors.Scheduling;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// Console text of Linux clients that are not dumping (netconsole's REPLY_LOG), one file a
/// client: <c>&lt;dumpdir&gt;/.console/&lt;ip&gt;.log</c> (a hidden folder: no HERALD path may
/// lead there and the recovery scan skips it). Text is appended in the order of the console
/// stream, once (a packet whose bytes were all kept already is a duplicate); the stream
/// starting again at offset 0 (the client booted) just goes on, and so does a stream found to
/// have started again without that packet (other bytes where the stream had text, or text
/// further back than the last <see cref="RepeatBytes"/>). A file past
/// <see cref="MaxFileBytes"/> becomes <c>&lt;ip&gt;.log.1</c> (one older generation kept), so a
/// chatty client costs at most twice that.
/// <para>
/// <see cref="Append"/> runs on the Linux port's thread, the packet path of every Linux client,
/// and touches memory only: which clients are kept, where each stream stands, its latest text.
/// The files are written, rotated and removed by a thread of their own at a lower priority
/// (as <see cref="BackgroundLane"/>'s), each client's new text in one append. When every file
/// operation ran on the port's thread, a flood of spoofed addresses cost a file created and
/// another removed per datagram there, and a console file slow to write held up every Linux
/// dump's packets.
/// A dump's start reads <see cref="Recent"/> from an actor thread: the file, and the text not
/// yet in it.
/// </para>
/// <para>
/// This file holds the table of clients and their text in memory; the writer's thread and its
/// steps are in <c>ConsoleFiles.Writing.cs</c>.
/// </para>
/// </summary>
internal sealed partial class ConsoleFiles(string dumpDirectory) : IDisposable
{
    public const string Folder = ".console";

    /// <summary>About a day of a busy server's console; the oops before a panic is in the last few KiB.</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>
    /// What a new dump's log gets of the text before it: enough for an oops and its call trace.
    /// Also the most of a client's text that waits in memory for the writer (a stalled disk):
    /// beyond it the oldest text waiting is lost to the file, never to the next dump.
    /// </summary>
    public const int RecentBytes = 64 << 10;

    /// <summary>
    /// How much of a client's latest text stays in memory once written, to recognise a packet
    /// that repeats it: duplicates and reordering come within a few packets. A packet from
    /// further back is a new stream's: netconsole never sends text again.
    /// </summary>
    public const int RepeatBytes = 4 << 10;

    /// <summary>
    /// Clients whose console is kept: at 2 MiB each at most, 2 GiB in all. Text from a further
    /// address makes room by forgetting the client that sent text least recently, its files
    /// removed: when the table only filled up, 1,024 spoofed datagrams once kept every later
    /// client's console (the oops before its panic) out for the rest of the server's run.
    /// </summary>
    public const int MaxClients = 1024;

    /// <summary>The table and the clients' text: held for memory work only, never around a file.</summary>
    private readonly Lock _lock = new();

    /// <summary>One writing step at a time: the writer's, or <see cref="Dispose"/>'s.</summary>
    private readonly Lock _writing = new();

    /// <summary>Per client: where its stream stands and its latest text; the most recent first.</summary>
    private readonly Dictionary<IPAddress, LinkedListNode<Client>> _clients = [];
    private readonly LinkedList<Client> _recency = new();

    /// <summary>Clients with text for the writer, each once.</summary>
    private readonly LinkedList<Client> _unwritten = new();

    /// <summary>Forgotten clients whose files the writer is to remove; until then their files are not read.</summary>
    private readonly HashSet<IPAddress> _forgotten = [];

    private readonly WaitQueue<bool> _wake = new();
    private bool _writerAwake; // a wake is queued, or the writer is at work: no other is needed
    private Thread? _writer;

    private readonly string _folder = Path.Combine(dumpDirectory, Folder);
    private bool _folderMade; // the writer's

    public void Append(IPAddress client, uint offset, ReadOnlySpan<byte> text)
    {
        lock (_lock)
        {
            var known = Heard(client);
            var skip = 0;
            if (offset != 0 && offset < known.Next)
            {
                var overlap = (int)Math.Min(known.Next - offset, text.Length);
                if (known.Text.Holds(known.Text.End - (known.Next - offset), text[..overlap]))
                {
                    if (overlap == text.Length)
                    {
                        return; // a duplicate: every byte was kept
                    }

                    skip = overlap;
                }

                // else other bytes where the stream had text, or text from before what memory
                // holds: the client booted again and the packet at offset 0 that says so was
                // lost; the new stream goes on from here
            }

            known.Text.Append(text[skip..]);
            known.Next = offset + (long)text.Length;
            if (!known.Queued)
            {
                _unwritten.AddLast(known.InQueue); // its own node: nothing allocated
                WakeWriter();
            }
        }
    }

    /// <summary>The client's entry, now the most recent; a new one may forget the least recent.</summary>
    private Client Heard(IPAddress address)
    {
        if (_clients.TryGetValue(address, out var node))
        {
            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }

        if (_clients.Count >= MaxClients)
        {
            Forget(_recency.Last!);
        }

        var client = new Client(address);
        _clients[address] = _recency.AddFirst(client);
        return client;
    }

    /// <summary>
    /// The client that sent text least recently: out of the table, with its text not yet
    /// written; its files (their text is the oldest kept) are the writer's to remove. Files of
    /// a client the writer never wrote are from an earlier run: looked for while few wait,
    /// so that a flood of new addresses cannot grow the list.
    /// </summary>
    private void Forget(LinkedListNode<Client> node)
    {
        var client = node.Value;
        _recency.Remove(node);
        _clients.Remove(client.Address);
        client.Forgotten = true;
        if (client.Queued)
        {
            // its text is not written now: out of the queue, so that a writer stuck in a file
            // (a hung disk) under a flood of new addresses, one forgotten per datagram, holds
            // at most the table's clients, not every address it heard (65 MB after 100,000)
            _unwritten.Remove(client.InQueue);
        }

        if (client.MayHaveFiles || _forgotten.Count < MaxClients)
        {
            _forgotten.Add(client.Address);
            WakeWriter();
        }
    }

    /// <summary>The last <see cref="RecentBytes"/> of a client's console (its files, then what they still lack), and where its stream stands.</summary>
    public (byte[] Text, long Next) Recent(IPAddress address)
    {
        Client? client;
        lock (_lock)
        {
            client = _clients.TryGetValue(address, out var node) ? node.Value : null;
            if (_forgotten.Contains(address))
            {
                // forgotten, its files about to go: only what came since counts, none of it
                // written yet (the writer removes the files before it writes for the address)
                return client is null ? ([], 0) : (client.Text.Copy(Math.Max(client.Written, client.Text.Start)), client.Next);
            }
        }

        if (client is null)
        {
            return (Files(address, RecentBytes), 0); // not heard in this run: what its files hold
        }

        lock (client) // the writer appends to its file under this lock: the file and Written agree
        {
            byte[] unwritten;
            long next;
            lock (_lock)
            {
                unwritten = client.Text.Copy(Math.Max(client.Written, client.Text.Start));
                next = client.Next;
            }

            return ([.. Files(address, RecentBytes - unwritten.Length), .. unwritten], next);
        }
    }

    /// <summary>The last <paramref name="bytes"/> of a client's files, the older generation first (right after a rotation the oops may be there).</summary>
    private byte[] Files(IPAddress address, int bytes)
    {
        var current = Tail(PathOf(address), bytes);
        var older = Tail(PathOf(address) + ".1", bytes - current.Length);
        return [.. older, .. current];
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
