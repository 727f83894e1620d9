using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>
/// The requests: each sent with its own sequence number, resent after <see cref="RequestTimeout"/>
/// (the queries at most <see cref="QuerySends"/> times), and retired, for reuse, once answered;
/// a reply is matched to its request and dispatched here.
/// </summary>
internal sealed partial class LinuxPull
{
    /// <summary>A client answers a request at once (it does nothing else while dumping); a missing answer is resent after this.</summary>
    internal static readonly TimeSpan RequestTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>GET_NR_PAGES, GET_PAGE_SIZE and GET_REGS are sent at most this often (5 s of resends).</summary>
    internal const int QuerySends = 20;

    /// <summary>Why a reply to an outstanding request was ignored; each reported once a dump.</summary>
    [Flags]
    private enum IgnoredReply
    {
        /// <summary>Its code is not one that answers the request (REPLY_MEM to GET_REGS...).</summary>
        NotAnAnswer = 1,

        /// <summary>A REPLY_MEM whose offset is not within the page.</summary>
        OutsideThePage = 2,

        /// <summary>A REPLY_MEM chunk that had come already, although SEND_MEM was sent once (a resend brings the page again, so a repeat after one is expected).</summary>
        ChunkAgain = 4,
    }

    private IgnoredReply _reported;

    private sealed class Request
    {
        public LinuxCommand Command { get; private set; }
        public uint From { get; private set; }
        public long SentAt { get; set; }
        public int Sends { get; set; }

        /// <summary>The page being assembled; kept when the request is reused.</summary>
        public byte[]? Page { get; set; }

        /// <summary>The 1024-byte chunks of the page that arrived, a bit each (up to 64: a 64 KiB page).</summary>
        public ulong Chunks { get; set; }

        public Request Reset(LinuxCommand command, uint from, long sentAt)
        {
            (Command, From, SentAt, Sends, Chunks) = (command, from, sentAt, 1, 0);
            return this;
        }
    }

    /// <summary>COMM_START_NETDUMP_ACK (again for a repeated START); the first one starts the queries.</summary>
    public void Ack(uint sequence)
    {
        lock (_lock)
        {
            _port.Send(Peer, new LinuxRequest(_magic, sequence, LinuxCommand.StartNetdumpAck, LinuxVersion.Server));
            _acked = true;
            if (_phase == Phase.Acking)
            {
                _phase = Phase.Querying;
                Ask(LinuxCommand.GetNrPages, 0);
                Ask(LinuxCommand.GetPageSize, 0);
                Ask(LinuxCommand.GetRegs, 0);
            }
        }
    }

    /// <summary>A reply from the client (the port's thread).</summary>
    public void Handle(LinuxReplyHeader header, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (_phase is Phase.Stopped or Phase.Acking)
            {
                return;
            }

            if (!_outstanding.TryGetValue(header.Sequence, out var request))
            {
                return; // a late duplicate of something answered already, or not ours
            }

            Interlocked.Increment(ref _packets);
            _bytesSinceTick += payload.Length;
            if (_firstData == 0)
            {
                Interlocked.Exchange(ref _firstData, DateTimeOffset.UtcNow.UtcTicks);
                _session(PumpEvent.FirstData.Instance);
            }

            if (Answer(header, request, payload))
            {
                // only progress counts as the client being alive: a reply that carries a
                // request's sequence but does not answer it (another code, a chunk outside the
                // page, a chunk again) kept a broken client's dump going for ever, SEND_MEM being
                // resent without limit
                Interlocked.Exchange(ref _lastPacket, Environment.TickCount64);
            }
        }
    }

    /// <summary>Takes a reply to an outstanding request; true when it answered it (or a part of it), false when it was ignored.</summary>
    private bool Answer(LinuxReplyHeader header, Request request, ReadOnlySpan<byte> payload)
    {
        switch (header.Code)
        {
            case LinuxReplyCode.NrPages when request.Command == LinuxCommand.GetNrPages:
                _pages = header.Info;
                Answered(header.Sequence);
                return true;
            case LinuxReplyCode.PageSize when request.Command == LinuxCommand.GetPageSize:
                _pageSize = header.Info;
                Answered(header.Sequence);
                return true;
            case LinuxReplyCode.Regs when request.Command == LinuxCommand.GetRegs:
                _registers = LinuxRegisters.TryRead(_machine, payload, out var gregs, out _registersProblem) ? gregs.ToArray() : [];
                Answered(header.Sequence);
                return true;
            case LinuxReplyCode.Error when request.Command == LinuxCommand.GetRegs:
                NoRegisters(header.Sequence, "the client answered GET_REGS with an error");
                return true;
            case LinuxReplyCode.Error when request.Command is LinuxCommand.GetNrPages or LinuxCommand.GetPageSize:
                CannotDescribe(EndReason.AnsweredWithError(request.Command));
                return true;
            case LinuxReplyCode.Mem when request.Command == LinuxCommand.SendMem:
                return Chunk(header, request, payload);
            case LinuxReplyCode.Reserved when request.Command == LinuxCommand.SendMem:
                Reserve(request.From, header.Info);
                Retire(header.Sequence);
                AskForPages(Environment.TickCount64);
                return true;
            case LinuxReplyCode.Error when request.Command == LinuxCommand.SendMem:
                // a frame the client says it does not have: recorded like a reserved one
                Reserve(request.From, request.From + 1);
                Retire(header.Sequence);
                AskForPages(Environment.TickCount64);
                return true;
            case LinuxReplyCode.ShowState when request.Command == LinuxCommand.ShowState:
                Retire(header.Sequence);
                _lastLog = Environment.TickCount64;
                return true;
            case LinuxReplyCode.Error when request.Command == LinuxCommand.ShowState:
                // a client that does not know SHOW_STATE answers any such command so: there is no
                // task list to wait for
                Retire(header.Sequence);
                return true;
            default:
                Ignore(IgnoredReply.NotAnAnswer, header, request);
                return false;
        }
    }

    /// <summary>
    /// A reply that carried an outstanding request's sequence and made no progress: no sign of
    /// life, and reported once a dump for each kind (a broken client sends it with every resend,
    /// four times a second), naming the request and what was wrong.
    /// </summary>
    private void Ignore(IgnoredReply kind, LinuxReplyHeader header, Request request)
    {
        if ((_reported & kind) != 0)
        {
            return;
        }

        _reported |= kind;
        var what = kind switch
        {
            IgnoredReply.NotAnAnswer => $"{header.Code} does not answer {request.Command}",
            IgnoredReply.OutsideThePage => $"{header.Code} at offset {header.Info} is outside frame {request.From}'s {_pageSize}-byte page",
            IgnoredReply.ChunkAgain => $"{header.Code} at offset {header.Info} of frame {request.From} came again, SEND_MEM having been sent once",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "one kind at a time"),
        };
        _session(new PumpEvent.Dropped($"{what}; ignored, and not taken as a sign of life (reported once a dump)"));
    }

    /// <summary>Resends what timed out; closes SHOW_STATE when the console went quiet (the port's thread).</summary>
    public void Tick(long now)
    {
        lock (_lock)
        {
            FlushMeter();

            if (_phase is Phase.Stopped or Phase.Done or Phase.Acking)
            {
                return;
            }

            foreach (var (sequence, request) in _outstanding)
            {
                if (request.Command == LinuxCommand.ShowState)
                {
                    // resent only when neither its answer nor console text has come for a while
                    if (now - Math.Max(request.SentAt, _lastLog) < (long)ShowStateTimeout.TotalMilliseconds)
                    {
                        continue;
                    }

                    if (request.Sends >= ShowStateSends)
                    {
                        Retire(sequence); // a client that cannot show its state still gets rebooted
                        continue;
                    }
                }
                else if (now - request.SentAt < (long)RequestTimeout.TotalMilliseconds)
                {
                    continue;
                }
                else if (request.Command != LinuxCommand.SendMem && request.Sends >= QuerySends)
                {
                    if (request.Command == LinuxCommand.GetRegs)
                    {
                        NoRegisters(sequence, $"no answer to GET_REGS after {QuerySends} requests");
                    }
                    else
                    {
                        CannotDescribe(EndReason.NoAnswer(request.Command, QuerySends));
                    }

                    return;
                }

                request.SentAt = now;
                request.Sends++;
                _port.Send(Peer, new LinuxRequest(_magic, sequence, request.Command, request.From));
            }

            var quiet = _outstanding.Count == 0 && now - _lastLog >= (long)QuietTime.TotalMilliseconds;
            if (_phase == Phase.ShowingState && (quiet || now - _showStateAt >= (long)ShowStateDeadline.TotalMilliseconds))
            {
                _phase = Phase.Done;
                // the log is final (its held text written): text from now on goes to the client's
                // console file; the writer makes it durable with the core, on a disk thread, not on
                // this thread, which serves every Linux client
                _log?.Dispose();
                _log = null;
                _session(ConsoleDone.Instance);
            }
        }
    }

    private void Ask(LinuxCommand command, uint from)
    {
        var sequence = _nextSequence++;
        _outstanding[sequence] = (_spare.TryPop(out var spare) ? spare : new Request()).Reset(command, from, Environment.TickCount64);
        _port.Send(Peer, new LinuxRequest(_magic, sequence, command, from));
    }

    /// <summary>The dump goes on without registers (the core then has no NT_PRSTATUS).</summary>
    private void NoRegisters(uint sequence, string problem)
    {
        _registers = [];
        _registersProblem = problem;
        Answered(sequence);
    }

    /// <summary>Without its page count or size there is no core to fill: the dump ends with the reason.</summary>
    private void CannotDescribe(EndReason reason)
    {
        Stop();
        _session(new PumpEvent.WriteFailed(reason));
    }

    private void Answered(uint sequence)
    {
        Retire(sequence);
        if (_phase == Phase.Querying && _pages is not null && _pageSize is not null && _registers is not null)
        {
            _phase = Phase.Described;
            _session(new Described(_pages.Value, _pageSize.Value, _registers, _registersProblem));
        }
    }

    /// <summary>The request is answered (or given up): no longer outstanding, kept for reuse.</summary>
    private void Retire(uint sequence)
    {
        if (_outstanding.Remove(sequence, out var request))
        {
            _spare.Push(request);
        }
    }
}
