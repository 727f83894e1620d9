using System.Net;
using System.Text;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>The port's thread: its receive loop, the tick of the pulls, and where each datagram goes.</summary>
public sealed partial class LinuxPort
{
    private static readonly byte[] StartupLine = Encoding.ASCII.GetBytes(ConsoleLog.StartupLine);

    /// <summary>A drop: counted always, and true when the log may hear of it.</summary>
    private bool Counted(ReportBudget dropReports)
    {
        Drops?.Inc();
        return dropReports.TryTake();
    }

    private void Run(ControlEvents listener, LinuxPortIo io)
    {
        var dropReports = new ReportBudget(HeraldReceiver.DropReportLimit);
        var nextTick = Environment.TickCount64 + (long)Tick.TotalMilliseconds;
        var ticking = false;
        while (!_stopping)
        {
            if (_pulls.IsEmpty == ticking)
            {
                // only on a change: a pull's first or last, not every receive
                ticking = !ticking;
                _socket.ReceiveTimeout = ticking ? (int)Tick.TotalMilliseconds : 0;
                nextTick = Environment.TickCount64 + (long)Tick.TotalMilliseconds;
            }

            var count = io.Receive();
            if (_stopping)
            {
                break; // what came with the stop is not served
            }

            if (count < 0)
            {
                Thread.Sleep(Tick); // not expected on a bound UDP socket: try again, without spinning
            }

            for (var i = 0; i < count; i++)
            {
                if (io.TryGet(i, out var from, out var datagram))
                {
                    if (datagram.IsEmpty && from == _wakeTarget)
                    {
                        continue; // Wake's: it has done its work by ending the wait
                    }

                    HandleGuarded(listener, from, datagram, dropReports);
                }
                else if (Counted(dropReports))
                {
                    listener(new Dropped(from.ToEndPoint(), LinuxReplyHeader.Describe(LinuxReplyError.TooLong)));
                }
            }

            var now = Environment.TickCount64;
            if (now >= nextTick)
            {
                nextTick = now + (long)Tick.TotalMilliseconds;
                foreach (var (_, pull) in _pulls)
                {
                    try
                    {
                        pull.Tick(now);
                    }
                    catch (Exception e)
                    {
                        pull.Fault(e); // one dump ends, not the thread that serves every Linux client
                    }
                }
            }

            io.Flush();
        }
    }

    /// <summary>
    /// An exception here would end the thread every Linux client depends on (and the process):
    /// the dump whose packet caused it ends, the others go on.
    /// </summary>
    private void HandleGuarded(ControlEvents listener, Peer from, ReadOnlySpan<byte> datagram, ReportBudget dropReports)
    {
        try
        {
            Handle(listener, from, datagram, dropReports);
        }
        catch (Exception e)
        {
            if (_pulls.TryGetValue(from.Address, out var pull))
            {
                pull.Fault(e);
            }
            else if (Counted(dropReports))
            {
                listener(new Dropped(from.ToEndPoint(), $"unexpected error: {e.Message}"));
            }
        }
    }

    private void Handle(ControlEvents listener, Peer from, ReadOnlySpan<byte> datagram, ReportBudget dropReports)
    {
        var error = LinuxReplyHeader.TryRead(datagram, out var header);
        var payload = datagram[Math.Min(datagram.Length, LinuxReplyHeader.Size)..];
        string? problem = error == LinuxReplyError.None ? null : LinuxReplyHeader.Describe(error);
        if (problem is null)
        {
            switch (header.Code)
            {
                case LinuxReplyCode.StartNetdump:
                    if (LinuxStart.TryParse(header, payload, out var start, out problem))
                    {
                        listener(new Herald(0, from.ToEndPoint(), LocalEndpoint.Address, "", null, DateTimeOffset.UtcNow, start));
                        return;
                    }

                    break;
                case LinuxReplyCode.Log:
                    Console(listener, from, header.Info, payload);
                    return;
                default:
                    if (_pulls.TryGetValue(from.Address, out var pull) && pull.Peer == from)
                    {
                        pull.Handle(header, payload);
                        return;
                    }

                    if (header.Code is LinuxReplyCode.Error or LinuxReplyCode.EndNetdump)
                    {
                        return; // a rebooted client's answer to the ACK that preceded its REBOOT
                    }

                    problem = $"{header.Code} from a client with no dump";
                    break;
            }
        }

        if (Counted(dropReports))
        {
            listener(new Dropped(from.ToEndPoint(), problem!));
        }
    }

    /// <summary>
    /// Console text: into the dump's log while a dump runs, else into the client's console file.
    /// Matched by address alone: netconsole sends it from its own port (6664), not the START's, so
    /// it says little of who sent it, and the pull counts it as a sign of life only while it
    /// awaits it (<see cref="LinuxPull.Log"/>).
    /// </summary>
    private void Console(ControlEvents listener, Peer from, uint offset, ReadOnlySpan<byte> text)
    {
        var booted = offset == 0 && text.StartsWith(StartupLine);
        var dumping = _pulls.TryGetValue(from.Address, out var pull);
        if (dumping)
        {
            // a dumping kernel's console is silent: a startup line is the client booted again,
            // and its new boot's text written into the dump's log would hide the crash the dump
            // is for (LinuxPull.ClientBooted)
            if (!(booted && pull!.ClientBooted()) && pull!.Log(offset, text))
            {
                return;
            }
        }

        var client = new IPAddress(from.Address);
        if (!MayDump(from.Address, client))
        {
            return;
        }

        _console.Append(client, offset, text);
        if (booted && !dumping)
        {
            // netdump-start not for an address whose dump runs: anyone can send this line
            listener(new ConsoleStarted(client));
        }
    }

    /// <summary>The secure decision for console text, asked at most once a minute per address (it looks at files).</summary>
    private bool MayDump(uint address, IPAddress client)
    {
        var now = Environment.TickCount64;
        if (_allowedCache.TryGetValue(address, out var known) && now - known.At < 60_000)
        {
            return known.Allowed;
        }

        if (_allowedCache.Count > 4096)
        {
            _allowedCache.Clear();
        }

        var allowed = _mayDump(client);
        _allowedCache[address] = (allowed, now);
        return allowed;
    }
}
