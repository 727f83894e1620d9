using System.Net;
using Netdump.Actors.Scheduling;
using Netdump.Actors.Storage;

namespace Netdump.Actors.Ingest.Linux;

/// <summary>What the table holds per client: where its stream stands and its latest text in memory.</summary>
internal sealed partial class ConsoleFiles
{
    /// <summary>A client in the table; its fields are guarded by the lock, the file ones by the writing step.</summary>
    private sealed class Client
    {
        public Client(IPAddress address)
        {
            Address = address;
            InQueue = new LinkedListNode<Client>(this);
        }

        public IPAddress Address { get; }

        /// <summary>Its place in the writer's queue, made once: queued when it is in the queue's list.</summary>
        public LinkedListNode<Client> InQueue { get; }

        public bool Queued => InQueue.List is not null;

        /// <summary>Where its stream stands: the offset after the text of its latest packet.</summary>
        public long Next;

        public readonly RecentText Text = new();

        /// <summary>Where in <see cref="Text"/> its file has got to.</summary>
        public long Written;

        /// <summary>Out of the table: its text is not written any more.</summary>
        public bool Forgotten;

        /// <summary>The writer took its text: forgetting it must remove its files, however many wait.</summary>
        public bool MayHaveFiles;

        /// <summary>The writer's: its file's length, -1 until looked at.</summary>
        public long FileBytes = -1;
    }

    /// <summary>
    /// A client's latest text in the order its file gets it, positions counted from its first
    /// byte: what is not yet written and at least the last <see cref="RepeatBytes"/> of what is,
    /// at most <see cref="RecentBytes"/>. A ring, grown to what its client needed.
    /// </summary>
    private sealed class RecentText
    {
        private byte[] _ring = [];

        /// <summary>The position after its last byte: every byte this client sent in this run, once.</summary>
        public long End { get; private set; }

        public int Length { get; private set; }

        public long Start => End - Length;

        public void Append(ReadOnlySpan<byte> text)
        {
            if (text.IsEmpty)
            {
                return;
            }

            if (Length + text.Length > _ring.Length && _ring.Length < RecentBytes)
            {
                Resize(Math.Min(RecentBytes, Math.Max(Math.Max(Length + text.Length, 2 * _ring.Length), 512)));
            }

            End += text.Length;
            text = text[Math.Max(0, text.Length - _ring.Length)..];
            var at = (int)((End - text.Length) % _ring.Length);
            var first = Math.Min(text.Length, _ring.Length - at);
            text[..first].CopyTo(_ring.AsSpan(at));
            text[first..].CopyTo(_ring);
            Length = Math.Min(_ring.Length, Length + text.Length);
        }

        /// <summary>Whether the text at <paramref name="position"/> is <paramref name="part"/>; false where memory no longer holds it.</summary>
        public bool Holds(long position, ReadOnlySpan<byte> part)
        {
            if (position < Start || position + part.Length > End)
            {
                return false;
            }

            Span<byte> kept = part.Length <= 1024 ? stackalloc byte[part.Length] : new byte[part.Length];
            CopyTo(position, kept);
            return kept.SequenceEqual(part);
        }

        /// <summary>The text from <paramref name="position"/> (at least <see cref="Start"/>) to the end.</summary>
        public byte[] Copy(long position)
        {
            var text = new byte[End - position];
            CopyTo(position, text);
            return text;
        }

        /// <summary>Forgets the text before <paramref name="position"/>.</summary>
        public void KeepFrom(long position) => Length = (int)Math.Min(Length, Math.Max(0, End - position));

        private void CopyTo(long position, Span<byte> destination)
        {
            if (destination.IsEmpty)
            {
                return; // also with no ring yet
            }

            var at = (int)(position % _ring.Length);
            var first = Math.Min(destination.Length, _ring.Length - at);
            _ring.AsSpan(at, first).CopyTo(destination);
            _ring.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
        }

        private void Resize(int size)
        {
            var ring = new byte[size];
            if (Length > 0)
            {
                var text = new byte[Length];
                CopyTo(Start, text);
                var at = (int)(Start % size);
                var first = Math.Min(text.Length, size - at);
                text.AsSpan(0, first).CopyTo(ring.AsSpan(at));
                text.AsSpan(first).CopyTo(ring);
            }

            _ring = ring;
        }
    }
}
