using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Bonnie.Shared.Events;

/// <summary>
/// Reads an IMAP ENVELOPE (RFC 3501 section 7.4.2) as Cyrus puts it in <c>vnd.cmu.envelope</c>: quoted strings with
/// escapes, NIL, literals, address lists with group syntax. Works on the UTF-8 bytes so that only the values kept
/// become strings.
/// </summary>
internal static class EnvelopeReader
{
    private const string FieldList = "the envelope is not a list of 10 fields (date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id)";

    public static bool TryRead(string text, out Envelope envelope, out string error)
        => TryRead(Encoding.UTF8.GetBytes(text), out envelope, out error);

    public static bool TryRead(ReadOnlySpan<byte> utf8, out Envelope envelope, out string error)
    {
        envelope = null!;
        var reader = new Reader(utf8);
        reader.SkipSpaces();
        if (!reader.TryTake((byte)'('))
        {
            error = reader.AtEnd || reader.Current != ')' ? FieldList : $"unexpected ')' at position {reader.Position} of the envelope";
            return false;
        }
        if (!reader.TryReadNString(out var dateText, out error) || !reader.TryReadNString(out var subject, out error))
        {
            return false;
        }
        var addresses = new IReadOnlyList<EmailAddress>[6];
        for (var i = 0; i < addresses.Length; i++)
        {
            if (!reader.TryReadAddresses(out addresses[i], out error))
            {
                return false;
            }
        }
        if (!reader.TryReadNString(out var inReplyTo, out error) || !reader.TryReadNString(out var messageId, out error))
        {
            return false;
        }
        reader.SkipSpaces();
        if (!reader.TryTake((byte)')'))
        {
            error = reader.AtEnd ? "the envelope ends inside a list (missing ')')" : FieldList;
            return false;
        }
        reader.SkipSpaces();
        if (!reader.AtEnd)
        {
            error = $"unexpected text after the envelope at position {reader.Position}";
            return false;
        }
        envelope = new Envelope
        {
            DateText = dateText,
            Date = dateText is not null && MessageDate.TryParse(dateText, out var date) ? date : null,
            Subject = subject is null ? null : EncodedWords.Decode(subject),
            From = addresses[0],
            Sender = addresses[1],
            ReplyTo = addresses[2],
            To = addresses[3],
            Cc = addresses[4],
            Bcc = addresses[5],
            InReplyTo = inReplyTo,
            MessageId = messageId,
        };
        error = "";
        return true;
    }

    private ref struct Reader(ReadOnlySpan<byte> text)
    {
        private readonly ReadOnlySpan<byte> _text = text;

        public int Position { get; private set; }
        public readonly bool AtEnd => Position >= _text.Length;
        public readonly byte Current => _text[Position];

        public void SkipSpaces()
        {
            while (Position < _text.Length && _text[Position] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                Position++;
            }
        }

        public bool TryTake(byte expected)
        {
            if (Position < _text.Length && _text[Position] == expected)
            {
                Position++;
                return true;
            }
            return false;
        }

        private bool TryTakeNil()
        {
            if (_text.Length - Position >= 3 && Ascii.EqualsIgnoreCase(_text.Slice(Position, 3), "NIL"u8)
                && (_text.Length - Position == 3 || _text[Position + 3] is (byte)' ' or (byte)')' or (byte)'('))
            {
                Position += 3;
                return true;
            }
            return false;
        }

        public bool TryReadAddresses(out IReadOnlyList<EmailAddress> addresses, out string error)
        {
            addresses = [];
            error = "";
            SkipSpaces();
            if (TryTakeNil())
            {
                return true;
            }
            if (!TryTake((byte)'('))
            {
                error = AtEnd || Current == ')' ? FieldList : $"the envelope has something other than an address list at position {Position}";
                return false;
            }
            var result = new List<EmailAddress>(1);
            while (true)
            {
                SkipSpaces();
                if (TryTake((byte)')'))
                {
                    addresses = result;
                    return true;
                }
                var start = Position;
                if (!TryTake((byte)'('))
                {
                    error = AtEnd ? "the envelope ends inside a list (missing ')')" : $"the envelope has an address that is not (name adl mailbox host) at position {start}";
                    return false;
                }
                if (!TryReadNString(out var name, out error) || !TryReadNString(out _, out error)
                    || !TryReadNString(out var mailbox, out error) || !TryReadNString(out var host, out error))
                {
                    if (error == FieldList)
                    {
                        error = $"the envelope has an address that is not (name adl mailbox host) at position {start}";
                    }
                    return false;
                }
                SkipSpaces();
                if (!TryTake((byte)')'))
                {
                    error = $"the envelope has an address that is not (name adl mailbox host) at position {start}";
                    return false;
                }
                // Group syntax: (NIL NIL "group" NIL) opens a group, (NIL NIL NIL NIL) closes it; members come between.
                if (host is null)
                {
                    continue;
                }
                result.Add(new EmailAddress(
                    string.IsNullOrEmpty(name) ? null : EncodedWords.Decode(name),
                    mailbox is null ? host : $"{mailbox}@{host}"));
            }
        }

        /// <summary>NIL, a quoted string or a literal; a bare atom is taken as text rather than refused.</summary>
        public bool TryReadNString(out string? value, out string error)
        {
            value = null;
            error = "";
            SkipSpaces();
            if (AtEnd)
            {
                error = "the envelope ends inside a list (missing ')')";
                return false;
            }
            switch (Current)
            {
                case (byte)'"':
                    return TryReadQuoted(out value, out error);
                case (byte)'{':
                    return TryReadLiteral(out value, out error);
                case (byte)')':
                    error = FieldList;
                    return false;
                case (byte)'(':
                    error = $"the envelope has a list where a string or NIL should be, at position {Position}";
                    return false;
                default:
                    if (TryTakeNil())
                    {
                        return true;
                    }
                    var start = Position;
                    while (Position < _text.Length && _text[Position] is not ((byte)' ' or (byte)'(' or (byte)')' or (byte)'"'))
                    {
                        Position++;
                    }
                    value = Encoding.UTF8.GetString(_text[start..Position]);
                    return true;
            }
        }

        private bool TryReadQuoted(out string? value, out string error)
        {
            value = null;
            error = "";
            var start = Position;
            Position++;
            var content = _text[Position..];
            var end = content.IndexOfAny((byte)'"', (byte)'\\');
            if (end >= 0 && content[end] == '"')
            {
                value = Encoding.UTF8.GetString(content[..end]);
                Position += end + 1;
                return true;
            }
            // Escapes present: copy without the backslashes.
            var buffer = ArrayPool<byte>.Shared.Rent(content.Length);
            try
            {
                var length = 0;
                for (var i = 0; i < content.Length; i++)
                {
                    var b = content[i];
                    if (b == '"')
                    {
                        value = Encoding.UTF8.GetString(buffer, 0, length);
                        Position += i + 1;
                        return true;
                    }
                    if (b == '\\')
                    {
                        if (++i >= content.Length)
                        {
                            break;
                        }
                        b = content[i];
                    }
                    buffer[length++] = b;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            error = $"the quoted string at position {start} of the envelope is not closed";
            return false;
        }

        private bool TryReadLiteral(out string? value, out string error)
        {
            value = null;
            var start = Position;
            var close = _text[Position..].IndexOf((byte)'}');
            var digits = close < 0 ? [] : _text.Slice(Position + 1, close - 1);
            if (digits.Length > 0 && digits[^1] == '+')
            {
                digits = digits[..^1];
            }
            if (close < 0 || !Utf8Parser.TryParse(digits, out int octets, out var consumed) || consumed != digits.Length || octets < 0)
            {
                error = $"the literal at position {start} of the envelope has no valid {{length}}";
                return false;
            }
            Position += close + 1;
            TryTake((byte)'\r');
            if (!TryTake((byte)'\n'))
            {
                error = $"the literal at position {start} of the envelope is not followed by a line break";
                return false;
            }
            var available = _text.Length - Position;
            if (available < octets)
            {
                error = $"the literal at position {start} of the envelope announces {octets} octets but has {available}";
                return false;
            }
            value = Encoding.UTF8.GetString(_text.Slice(Position, octets));
            Position += octets;
            error = "";
            return true;
        }
    }
}
