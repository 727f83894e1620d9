using System.Net;
using Netdump.Actors.Native;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The writer: its thread, woken when there is work, and its steps, which <see cref="Dispose"/>
/// also takes for what is left. Every file operation of the console files but
/// <see cref="Recent"/>'s reads is here, off the Linux port's thread.
/// </summary>
internal sealed partial class ConsoleFiles
{
    /// <summary>Under the lock: the writer is woken once for whatever comes until it finds nothing to do.</summary>
    private void WakeWriter()
    {
        if (_writerAwake)
        {
            return;
        }

        _writerAwake = true;
        _writer ??= StartWriter();
        _wake.Add(true);
    }

    private Thread StartWriter()
    {
        var thread = new Thread(() =>
        {
            // below the port's thread and the pulls: under a flood, the packets come first
            ThreadNice.SetCurrent(BackgroundLane.Nice);
            while (_wake.Take(out _))
            {
                while (Step(Timeout.InfiniteTimeSpan))
                {
                }
            }
        })
        { IsBackground = true, Name = "linux-console" };
        thread.Start();
        return thread;
    }

    /// <summary>
    /// One step of the writer: the files of the forgotten clients removed, then one client's
    /// new text appended. The removals come first, so that a forgotten client heard again
    /// starts a new file. False when there was nothing to do.
    /// </summary>
    private bool Step(TimeSpan wait)
    {
        if (!_writing.TryEnter(wait))
        {
            return false;
        }

        try
        {
            IPAddress[] forgotten;
            Client? client = null;
            byte[] text = [];
            long end = 0;
            lock (_lock)
            {
                forgotten = [.. _forgotten];
                if (_unwritten.First is { } next)
                {
                    _unwritten.Remove(next); // never a forgotten client: forgetting takes it out
                    client = next.Value;
                }

                if (client is null && forgotten.Length == 0)
                {
                    _writerAwake = false;
                    return false;
                }

                if (client is not null)
                {
                    text = client.Text.Copy(Math.Max(client.Written, client.Text.Start));
                    end = client.Text.End;
                    client.MayHaveFiles = true;
                }
            }

            if (forgotten.Length > 0)
            {
                foreach (var address in forgotten)
                {
                    RemoveFiles(address);
                }

                lock (_lock)
                {
                    _forgotten.ExceptWith(forgotten);
                }
            }

            if (client is not null)
            {
                lock (client) // Recent reads the client's files before or after, not during
                {
                    Write(client, text);
                    lock (_lock)
                    {
                        client.Written = end;
                        client.Text.KeepFrom(Math.Min(end, client.Text.End - RepeatBytes));
                        if (client.Forgotten)
                        {
                            _forgotten.Add(client.Address); // forgotten while it was written: its file goes too
                        }
                    }
                }
            }

            return true;
        }
        finally
        {
            _writing.Exit();
        }
    }

    /// <summary>Appends a client's new text to its file, the file made older first when it is full.</summary>
    private void Write(Client client, byte[] text)
    {
        try
        {
            if (!_folderMade)
            {
                Directory.CreateDirectory(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                _folderMade = true;
            }

            var path = PathOf(client.Address);
            if (client.FileBytes < 0)
            {
                client.FileBytes = File.Exists(path) ? new FileInfo(path).Length : 0; // stat once, then counted
            }

            if (client.FileBytes > MaxFileBytes)
            {
                File.Move(path, path + ".1", overwrite: true);
                client.FileBytes = 0;
            }

            using var file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Append,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            file.Write(text);
            client.FileBytes += text.Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // console text outside a dump is a convenience: a full or broken disk loses it, not a dump
            _folderMade = false; // made again next time, should it have been removed
            client.FileBytes = -1;
        }
    }

    private void RemoveFiles(IPAddress address)
    {
        var path = PathOf(address);
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
    /// The writer ends once it has written what was queued; what is still waiting is written
    /// here, step by step with it, on the caller's thread (the one that stops the port). A
    /// writer stuck in a file (a hung disk) is waited for <see cref="DisposeWait"/>, no longer.
    /// </summary>
    public void Dispose()
    {
        _wake.Complete();
        while (Step(DisposeWait))
        {
        }
    }

    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(2);
}
