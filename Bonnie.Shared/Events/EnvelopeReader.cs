using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;

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
        var ok = TryRead(utf8, build: true, out var read, out error);
        envelope = read!;
        return ok;
    }

    /// <summary>
    /// Reads the envelope held by the JSON string at <paramref name="json"/>'s current token. With
    /// <paramref name="build"/> false it only checks the syntax, allocating nothing, and gives the same error the
    /// full read would: a parse can refuse a malformed envelope and leave building it to the first reader.
    /// </summary>
    public static bool TryRead(ref Utf8JsonReader json, bool build, out Envelope? envelope, out string error)
    {
        envelope = null;
        if (!json.ValueIsEscaped)
        {
            return TryRead(json.ValueSpan, build, out envelope, out error);
        }
        // Unescaped text is never longer than the escaped JSON.
        var rented = json.ValueSpan.Length > 2048 ? ArrayPool<byte>.Shared.Rent(json.ValueSpan.Length) : null;
        var buffer = rented ?? stackalloc byte[2048];
        try
        {
            int length;
            try
            {
                length = json.CopyString(buffer);
            }
            catch (InvalidOperationException)
            {
                error = "contains an escaped UTF-16 surrogate without its pair";
                return false;
            }
            return TryRead(buffer[..length], build, out envelope, out error);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool TryRead(ReadOnlySpan<byte> utf8, bool build, out Envelope? envelope, out string error)
    {
        envelope = null;
        var reader = new Reader(utf8, build);
        reader.SkipSpaces();
        if (!reader.TryTake((byte)'('))
        {
            error = reader.AtEnd || reader.Current != ')' ? FieldList : $"unexpected ')' at position {reader.Position} of the envelope";
            return false;
        }
        if (!reader.TryReadNString(out var dateToken, out error) || !reader.TryReadNString(out var subjectToken, out error))
        {
            return false;
        }
        var addresses = build ? new IReadOnlyList<EmailAddress>[6] : null;
        var previous = ReadOnlySpan<byte>.Empty;
        for (var i = 0; i < 6; i++)
        {
            var start = reader.Position;
            if (!reader.TryReadAddresses(out var list, out error))
            {
                return false;
            }
            if (addresses is null)
            {
                continue;
            }
            addresses[i] = list;
            // From, sender and reply-to are usually the same list: share it rather than build it three times.
            var raw = utf8[start..reader.Position].Trim(" "u8);
            if (i > 0 && addresses[i].Count > 0 && raw.SequenceEqual(previous))
            {
                addresses[i] = addresses[i - 1];
            }
            previous = raw;
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
        error = "";
        if (addresses is null)
        {
            return true;
        }
        var dateText = dateToken.ToText(utf8);
        envelope = new Envelope
        {
            DateText = dateText,
            Date = dateText is not null && MessageDate.TryParse(dateText, out var date) ? date : null,
            Subject = subjectToken.ToDecodedText(utf8),
            From = addresses[0],
            Sender = addresses[1],
            ReplyTo = addresses[2],
            To = addresses[3],
            Cc = addresses[4],
            Bcc = addresses[5],
            InReplyTo = inReplyTo.ToText(utf8),
            MessageId = messageId.ToText(utf8),
        };
        return true;
    }

    /// <summary>Where an nstring's text is in the envelope; becomes a string only when the value is kept.</summary>
    private readonly record struct Token(int Start, int Length, bool IsNil, bool Escaped)
    {
        public static Token Nil => new(0, 0, true, false);

        public string? ToText(ReadOnlySpan<byte> text) => IsNil ? null : Encoding.UTF8.GetString(Unescape(text));

        public string? ToDecodedText(ReadOnlySpan<byte> text)
        {
            if (IsNil)
            {
                return null;
            }
            var value = Encoding.UTF8.GetString(Unescape(text));
            return text.Slice(Start, Length).IndexOf("=?"u8) >= 0 ? EncodedWords.Decode(value) : value;
        }

        /// <summary>The bytes with quoted-string escapes removed (into a new buffer only when there are escapes).</summary>
        public ReadOnlySpan<byte> Unescape(ReadOnlySpan<byte> text)
        {
            var raw = text.Slice(Start, Length);
            if (!Escaped)
            {
                return raw;
            }
            var buffer = new byte[raw.Length];
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                if (raw[i] == '\\' && i + 1 < raw.Length)
                {
                    i++;
                }
                buffer[length++] = raw[i];
            }
            return buffer.AsSpan(0, length);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> text, bool build)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        private readonly bool _build = build;

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
            EmailAddress? single = null;
            List<EmailAddress>? more = null;
            while (true)
            {
                SkipSpaces();
                if (TryTake((byte)')'))
                {
                    addresses = more is not null ? more.ToArray() : single is not null ? [single] : [];
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
                if (host.IsNil || !_build)
                {
                    continue;
                }
                var address = new EmailAddress(name.Length == 0 ? null : name.ToDecodedText(_text), Address(mailbox, host));
                if (single is null)
                {
                    single = address;
                }
                else
                {
                    (more ??= [single]).Add(address);
                }
            }
        }

        private readonly string Address(Token mailbox, Token host)
        {
            if (mailbox.IsNil)
            {
                return host.ToText(_text)!;
            }
            var local = mailbox.Unescape(_text);
            var domain = host.Unescape(_text);
            var length = local.Length + 1 + domain.Length;
            var buffer = length <= 256 ? stackalloc byte[length] : new byte[length];
            local.CopyTo(buffer);
            buffer[local.Length] = (byte)'@';
            domain.CopyTo(buffer[(local.Length + 1)..]);
            return Encoding.UTF8.GetString(buffer);
        }

        /// <summary>NIL, a quoted string or a literal; a bare atom is taken as text rather than refused.</summary>
        public bool TryReadNString(out Token value, out string error)
        {
            value = Token.Nil;
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
                    value = new Token(start, Position - start, false, false);
                    return true;
            }
        }

        private bool TryReadQuoted(out Token value, out string error)
        {
            value = Token.Nil;
            error = "";
            var start = Position;
            var contentStart = Position + 1;
            var escaped = false;
            var i = contentStart;
            while (i < _text.Length)
            {
                var next = _text[i..].IndexOfAny((byte)'"', (byte)'\\');
                if (next < 0)
                {
                    break;
                }
                i += next;
                if (_text[i] == '"')
                {
                    value = new Token(contentStart, i - contentStart, false, escaped);
                    Position = i + 1;
                    return true;
                }
                escaped = true;
                i += 2;
            }
            error = $"the quoted string at position {start} of the envelope is not closed";
            return false;
        }

        private bool TryReadLiteral(out Token value, out string error)
        {
            value = Token.Nil;
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
            value = new Token(Position, octets, false, false);
            Position += octets;
            error = "";
            return true;
        }
    }
}
