using System.Globalization;
using System.Text;

namespace Bonnie.Shared.Events;

/// <summary>
/// Reads an IMAP ENVELOPE (RFC 3501 section 7.4.2) as Cyrus puts it in <c>vnd.cmu.envelope</c>: quoted strings with
/// escapes, NIL, literals, address lists with group syntax.
/// </summary>
internal static class EnvelopeReader
{
    public static bool TryRead(string text, out Envelope envelope, out string error)
    {
        envelope = null!;
        var reader = new Reader(text);
        if (!reader.TryReadValue(out var value, out error))
        {
            return false;
        }
        reader.SkipSpaces();
        if (!reader.AtEnd)
        {
            error = $"unexpected text after the envelope at position {reader.Position}";
            return false;
        }
        if (value is not List<object?> fields || fields.Count != 10)
        {
            error = "the envelope is not a list of 10 fields (date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id)";
            return false;
        }
        var dateText = fields[0] as string;
        var subject = fields[1] as string;
        if (fields[0] is List<object?> || fields[1] is List<object?> || fields[8] is List<object?> || fields[9] is List<object?>)
        {
            error = "the envelope has a list where date, subject, in-reply-to or message-id should be";
            return false;
        }
        var addresses = new IReadOnlyList<EmailAddress>[6];
        for (var i = 0; i < 6; i++)
        {
            if (!TryAddresses(fields[2 + i], out addresses[i], out error))
            {
                return false;
            }
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
            InReplyTo = fields[8] as string,
            MessageId = fields[9] as string,
        };
        return true;
    }

    private static bool TryAddresses(object? value, out IReadOnlyList<EmailAddress> addresses, out string error)
    {
        addresses = [];
        error = "";
        if (value is null)
        {
            return true;
        }
        if (value is not List<object?> list)
        {
            error = $"the envelope has \"{value}\" where an address list should be";
            return false;
        }
        var result = new List<EmailAddress>(list.Count);
        foreach (var item in list)
        {
            if (item is not List<object?> { Count: 4 } parts || parts.Any(p => p is List<object?>))
            {
                error = "the envelope has an address that is not (name adl mailbox host)";
                return false;
            }
            var mailbox = parts[2] as string;
            var host = parts[3] as string;
            // Group syntax: (NIL NIL "group" NIL) opens a group, (NIL NIL NIL NIL) closes it; members come between.
            if (host is null)
            {
                continue;
            }
            var name = parts[0] as string;
            result.Add(new EmailAddress(
                string.IsNullOrEmpty(name) ? null : EncodedWords.Decode(name),
                mailbox is null ? host : $"{mailbox}@{host}"));
        }
        addresses = result;
        return true;
    }

    private ref struct Reader(string text)
    {
        private readonly string _text = text;

        public int Position { get; private set; }
        public readonly bool AtEnd => Position >= _text.Length;

        public void SkipSpaces()
        {
            while (Position < _text.Length && _text[Position] is ' ' or '\t' or '\r' or '\n')
            {
                Position++;
            }
        }

        /// <summary>A value is null (NIL), a string, or a list of values.</summary>
        public bool TryReadValue(out object? value, out string error)
        {
            value = null;
            error = "";
            SkipSpaces();
            if (AtEnd)
            {
                error = "the envelope ends where a value should be";
                return false;
            }
            var c = _text[Position];
            switch (c)
            {
                case '(':
                    Position++;
                    var list = new List<object?>();
                    while (true)
                    {
                        SkipSpaces();
                        if (AtEnd)
                        {
                            error = "the envelope ends inside a list (missing ')')";
                            return false;
                        }
                        if (_text[Position] == ')')
                        {
                            Position++;
                            value = list;
                            return true;
                        }
                        if (!TryReadValue(out var item, out error))
                        {
                            return false;
                        }
                        list.Add(item);
                    }
                case '"':
                    return TryReadQuoted(out value, out error);
                case '{':
                    return TryReadLiteral(out value, out error);
                case ')':
                    error = $"unexpected ')' at position {Position} of the envelope";
                    return false;
                default:
                    var start = Position;
                    while (Position < _text.Length && _text[Position] is not (' ' or '(' or ')' or '"'))
                    {
                        Position++;
                    }
                    var atom = _text[start..Position];
                    value = atom.Equals("NIL", StringComparison.OrdinalIgnoreCase) ? null : atom;
                    return true;
            }
        }

        private bool TryReadQuoted(out object? value, out string error)
        {
            value = null;
            error = "";
            var start = Position;
            Position++;
            StringBuilder? builder = null;
            var runStart = Position;
            while (Position < _text.Length)
            {
                var c = _text[Position];
                if (c == '"')
                {
                    value = builder is null
                        ? _text[runStart..Position]
                        : builder.Append(_text, runStart, Position - runStart).ToString();
                    Position++;
                    return true;
                }
                if (c == '\\')
                {
                    if (Position + 1 >= _text.Length)
                    {
                        break;
                    }
                    builder ??= new StringBuilder();
                    builder.Append(_text, runStart, Position - runStart).Append(_text[Position + 1]);
                    Position += 2;
                    runStart = Position;
                    continue;
                }
                Position++;
            }
            error = $"the quoted string at position {start} of the envelope is not closed";
            return false;
        }

        private bool TryReadLiteral(out object? value, out string error)
        {
            value = null;
            var start = Position;
            var close = _text.IndexOf('}', Position);
            var digits = close < 0 ? "" : _text[(Position + 1)..close].TrimEnd('+');
            if (close < 0 || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var octets))
            {
                error = $"the literal at position {start} of the envelope has no valid {{length}}";
                return false;
            }
            Position = close + 1;
            if (Position < _text.Length && _text[Position] == '\r')
            {
                Position++;
            }
            if (Position >= _text.Length || _text[Position] != '\n')
            {
                error = $"the literal at position {start} of the envelope is not followed by a line break";
                return false;
            }
            Position++;
            // The length counts octets on the wire (UTF-8), not UTF-16 characters.
            var contentStart = Position;
            var counted = 0;
            while (counted < octets && Position < _text.Length)
            {
                var rune = Rune.GetRuneAt(_text, Position);
                counted += rune.Utf8SequenceLength;
                Position += rune.Utf16SequenceLength;
            }
            if (counted != octets)
            {
                error = $"the literal at position {start} of the envelope announces {octets} octets but has {counted}";
                return false;
            }
            value = _text[contentStart..Position];
            error = "";
            return true;
        }
    }
}
