using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netdump.Actors.Configuration;
using Netdump.Actors.Ingest;
using Netdump.Actors.Protocol;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Actors;

/// <summary>KDH and EKCD key messages of a FreeBSD dump: the KDH parsed and kept for the reports, the key stored and acked once written; a client that keeps sending bad ones gets a few log lines, not one per packet.</summary>
public sealed partial class DumpWriterActor
{
    private void HandleStoreKey(PumpEvent.ControlPacket packet)
    {
        if (packet.Type != MessageType.EkcdKey)
        {
            throw new ArgumentException($"the writer does not store {packet.Type} as a key");
        }

        if (WriteKey(packet))
        {
            Sender.Tell(new Stored(packet.Sequence));
        }
    }

    private void KeepKernelDumpHeader(PumpEvent.ControlPacket packet)
    {
        if (packet.Offset != 0)
        {
            _headerProblem = $"kernel dump header at offset {packet.Offset}";
        }
        else if (KernelDumpHeader.TryParse(packet.Payload.Span, out var header, out var problem))
        {
            if (header == _header)
            {
                return; // a retransmission: logged and reported already
            }

            _header = header;
            _headerProblem = null;
            if (!header!.ParityOk)
            {
                _log.Warning("Client {Client}: kernel dump header parity check failed", _herald.Client.Address);
            }

            // its host and panic are on the dump's end line (ClientSessionActor.LogEnd)
            _news = ReportNews.Change; // the next flush tick describes it, in dump.json and to the catalog
            return;
        }
        else
        {
            _headerProblem = problem;
        }

        if (_headerProblemsLogged++ < MaxHeaderProblemsLogged)
        {
            _log.Warning("Client {Client}: bad kernel dump header: {Reason}", _herald.Client.Address, DumpReport.OneLine(_headerProblem!));
        }
    }
    private bool WriteKey(PumpEvent.ControlPacket packet)
    {
        var end = packet.Offset + (ulong)packet.Payload.Length;
        if (packet.Offset > (ulong)_settings.MaxKeySize || end > (ulong)_settings.MaxKeySize)
        {
            if (_headerProblemsLogged++ < MaxHeaderProblemsLogged)
            {
                _log.Warning("Client {Client}: encryption key bytes {Start}-{End} exceed max_key_size {Max}; not acked",
                    _herald.Client.Address, packet.Offset, end, _settings.MaxKeySize);
            }
            return false;
        }

        try
        {
            _key ??= new FileStream(Path.Combine(_directory, CoreFileNames.Key), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                BufferSize = 0,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            RandomAccess.Write(_key.SafeFileHandle, packet.Payload.Span, (long)packet.Offset);
            _keyRanges.Add(packet.Offset, end);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure ??= EndReason.WriteFailed("the key", e.Message);
            _log.Error("Client {Client}: cannot write the encryption key: {Error}", _herald.Client.Address, e.Message);
            return false;
        }
    }
    /// <summary>The key's holes, the first few by name (a scattered key must not make a reason of any length).</summary>
    private string MissingKeyBytes()
    {
        const int named = 4;
        var holes = _keyRanges.Holes(_header!.DumpKeySize);
        var text = "bytes " + string.Join(", ", holes.Take(named).Select(h => $"{h.Start}-{h.End - 1}"));
        return holes.Count > named ? $"{text} and {holes.Count - named} more ranges" : text;
    }
    /// <summary>A client that keeps sending bad headers or keys gets this many log lines, not one per packet.</summary>
    private const int MaxHeaderProblemsLogged = 3;
}
