using System.Text.Json;
using System.Text.Unicode;

namespace Bonnie.Shared.Events;

/// <summary>Options for <see cref="NotificationParser"/>.</summary>
public sealed record ParserOptions
{
    /// <summary>Notifications above this size are refused as <see cref="ParseFailure.TooLarge"/> (default 20 MB).</summary>
    public int MaxNotificationBytes { get; init; } = 20 * 1024 * 1024;
}

/// <summary>Reads a Cyrus notification (either dialect) into a <see cref="CyrusEvent"/>. Never throws on bad input.</summary>
public static partial class NotificationParser
{
    private static readonly ParserOptions DefaultOptions = new();

    /// <summary>
    /// Reads one notification. Bad input gives a result with <see cref="ParseResult.Failure"/> and a
    /// <see cref="ParseResult.Reason"/> naming the field or byte at fault; this method does not throw for it.
    /// A notification without a valid <c>timestamp</c> (with a UTC offset) is refused as
    /// <see cref="ParseFailure.InvalidField"/>: the event's time is part of the evidence and is not guessed.
    /// <see cref="CyrusEvent.Raw"/> refers to <paramref name="raw"/> itself, not a copy, and the envelope and body
    /// structure are decoded from it on first read: do not reuse the buffer.
    /// </summary>
    public static ParseResult Parse(ReadOnlyMemory<byte> raw, ParserOptions? options = null)
    {
        options ??= DefaultOptions;
        if (raw.Length > options.MaxNotificationBytes)
        {
            return Fail(ParseFailure.TooLarge,
                $"the notification is {raw.Length} bytes, more than the {options.MaxNotificationBytes} allowed (ParserOptions.MaxNotificationBytes)");
        }
        var span = raw.Span;
        if (!Utf8.IsValid(span))
        {
            var offset = FirstInvalidUtf8(span);
            return Fail(ParseFailure.InvalidUtf8, $"byte {offset} (0x{span[offset]:X2}) is not valid UTF-8; Cyrus sends UTF-8 JSON");
        }
        if (span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return Fail(ParseFailure.MalformedJson, "the notification is empty");
        }
        try
        {
            return ParseObject(raw);
        }
        catch (InvalidOperationException exception)
        {
            // A \u escape that is half a surrogate pair is valid JSON syntax but no text: Utf8JsonReader refuses to
            // turn it into a string wherever it stands (a field name, a value).
            return Fail(ParseFailure.MalformedJson, $"a string holds an escape that is no character: {exception.Message}");
        }
        catch (JsonException exception)
        {
            var message = exception.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
            return Fail(ParseFailure.MalformedJson,
                $"malformed JSON at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine} of that line: {message}");
        }
    }

    private static ParseResult ParseObject(ReadOnlyMemory<byte> raw)
    {
        var reader = new Utf8JsonReader(raw.Span, new JsonReaderOptions { MaxDepth = 64 });
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return Fail(ParseFailure.NotAnObject, $"the notification is a JSON {Describe(reader.TokenType)}, not an object");
        }

        var draft = new Draft { Raw = raw };
        ulong seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FieldOf(ref reader, out var unknownName);
            var nameStart = reader.TokenStartIndex;
            reader.Read();
            if (field == Field.Unknown)
            {
                var name = unknownName!;
                draft.Extra ??= [];
                if (HasExtra(draft.Extra, name))
                {
                    return Fail(ParseFailure.InvalidField, $"field \"{name}\" appears twice (at byte {nameStart})");
                }
                // Checks the value's syntax as ParseValue would; the values become elements at the end, in one go.
                reader.Skip();
                draft.Extra.Add(new ExtraField(name, (int)nameStart, (int)reader.BytesConsumed));
                continue;
            }
            var bit = 1UL << (int)field;
            if ((seen & bit) != 0)
            {
                return Fail(ParseFailure.InvalidField, $"field \"{FieldNames[(int)field]}\" appears twice (at byte {nameStart})");
            }
            seen |= bit;
            var error = ReadField(ref reader, field, ref draft);
            if (error is not null)
            {
                return Fail(ParseFailure.InvalidField, $"field \"{FieldNames[(int)field]}\" at byte {reader.TokenStartIndex}: {error}");
            }
        }
        // Reading on makes the reader refuse anything but whitespace after the object.
        while (reader.Read())
        {
        }

        if (draft.Name is null)
        {
            return Fail(ParseFailure.MissingEvent, "the notification has no \"event\" field naming its type");
        }
        if (draft.Type == EventType.Unknown)
        {
            return Fail(ParseFailure.UnknownEvent, $"\"{draft.Name}\" is not an event name any Cyrus version sends");
        }
        if (draft.Timestamp is not { } timestamp)
        {
            return Fail(ParseFailure.InvalidField,
                "the notification has no \"timestamp\"; add timestamp to event_extra_params in imapd.conf");
        }

        return new ParseResult
        {
            Event = new CyrusEvent
            {
                Type = draft.Type,
                Name = draft.Name,
                Timestamp = timestamp,
                User = draft.User,
                Service = draft.Service,
                SessionId = draft.SessionId,
                ClientIP = draft.ClientIP,
                ClientPort = draft.ClientPort,
                ServerDomain = draft.ServerDomain,
                ServerPort = draft.ServerPort,
                ServerFqdn = draft.ServerFqdn,
                Pid = draft.Pid,
                Mailbox = draft.Mailbox ?? draft.MailboxIdUri,
                MailboxId = draft.MailboxId,
                MailboxIdUri = draft.MailboxIdUri,
                OldMailbox = draft.OldMailbox,
                OldMailboxId = draft.OldMailboxId,
                UidSet = draft.UidSet,
                OldUidSet = draft.OldUidSet,
                MessageIds = draft.MessageIds ?? [],
                EmailId = draft.EmailId,
                ThreadId = draft.ThreadId,
                Flags = draft.Flags ?? [],
                Acl = draft.Acl ?? [],
                AclSubject = draft.AclSubject,
                AclRights = draft.AclRights,
                MailboxType = draft.MailboxType,
                DiskQuota = draft.DiskQuota,
                DiskUsed = draft.DiskUsed,
                MaxMessages = draft.MaxMessages,
                Messages = draft.Messages,
                UnseenMessages = draft.UnseenMessages,
                UidNext = draft.UidNext,
                Modseq = draft.Modseq,
                MessageSize = draft.MessageSize,
                // 2.5/Kolab sends no envelope: it is built from the message's headers, so every reader of Envelope
                // (handlers, stored events, search) gets one in either dialect.
                EnvelopeSource = (object?)draft.Envelope ?? (draft.MessageHeaders is { } headers ? KolabHeaders.EnvelopeOf(headers) : null),
                BodyStructureSource = draft.BodyStructure,
                MessageContent = draft.MessageContent ?? CyrusEvent.NoContent,
                MessageHeaders = draft.MessageHeaders ?? CyrusEvent.NoHeaders,
                Extra = draft.Extra is null ? CyrusEvent.NoExtra : ReadExtra(raw.Span, draft.Extra),
                Raw = raw,
            },
        };
    }


    /// <summary>A field this model does not name: its name, and where <c>"name":value</c> is in the notification.</summary>
    private readonly record struct ExtraField(string Name, int Start, int End);

    private static bool HasExtra(List<ExtraField> fields, string name)
    {
        foreach (var field in fields)
        {
            if (field.Name == name)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The unknown fields as elements of one document holding only them: a document per field (ParseValue) cost
    /// more than the rest of the notification for events that bring many (CalendarAlarm, ApplePushService).
    /// </summary>
    private static Dictionary<string, JsonElement> ReadExtra(ReadOnlySpan<byte> raw, List<ExtraField> fields)
    {
        var length = 2 + fields.Count;
        foreach (var field in fields)
        {
            length += field.End - field.Start;
        }
        var rented = length > 1024 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        var buffer = rented ?? stackalloc byte[1024];
        try
        {
            var written = 0;
            buffer[written++] = (byte)'{';
            foreach (var field in fields)
            {
                if (written > 1)
                {
                    buffer[written++] = (byte)',';
                }
                raw[field.Start..field.End].CopyTo(buffer[written..]);
                written += field.End - field.Start;
            }
            buffer[written++] = (byte)'}';
            var reader = new Utf8JsonReader(buffer[..written], new JsonReaderOptions { MaxDepth = 64 });
            var root = JsonElement.ParseValue(ref reader);
            var extra = new Dictionary<string, JsonElement>(fields.Count, StringComparer.Ordinal);
            var index = 0;
            foreach (var property in root.EnumerateObject())
            {
                extra.Add(fields[index++].Name, property.Value);
            }
            return extra;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static ParseResult Fail(ParseFailure failure, string reason) => new() { Failure = failure, Reason = reason };

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> span)
    {
        var offset = 0;
        while (offset < span.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(span[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }
            offset += consumed;
        }
        return 0;
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "array",
        JsonTokenType.StartObject => "object",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
