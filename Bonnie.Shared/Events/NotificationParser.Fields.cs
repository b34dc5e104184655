using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Bonnie.Shared.Events;

public static partial class NotificationParser
{
    private enum Field
    {
        Unknown, Event, Timestamp, Service, User, SessionId, ClientIP, ClientPort, ServerDomain, ServerPort,
        ServerFqdn, Pid, Uri, MailboxId, OldMailboxId, UidSet, OldUidSet, MidSet, EmailId, ThreadId, FlagNames,
        MailboxAcl, AclSubject, AclRights, MailboxType, DiskQuota, DiskUsed, MaxMessages, Messages, UnseenMessages,
        UidNext, Modseq, MessageSize, Envelope, BodyStructure, MessageContent, MessageHeaders,
    }

    private static readonly string[] FieldNames =
    [
        "", "event", "timestamp", "service", "user", "vnd.cmu.sessionId", "clientIP", "clientPort", "serverDomain",
        "serverPort", "serverFQDN", "pid", "uri", "mailboxID", "oldMailboxID", "uidset", "vnd.cmu.oldUidset",
        "vnd.cmu.midset", "vnd.cmu.emailid", "vnd.cmu.threadid", "flagNames", "vnd.cmu.mailboxACL", "aclSubject",
        "aclRights", "vnd.cmu.mbtype", "diskQuota", "diskUsed", "maxMessages", "messages", "vnd.cmu.unseenMessages",
        "uidnext", "modseq", "messageSize", "vnd.cmu.envelope", "bodyStructure", "messageContent", "messageHeaders",
    ];

    private sealed class Draft
    {
        public EventType Type;
        public string? Name;
        public DateTimeOffset? Timestamp;
        public string? User, Service, SessionId, ClientIP, ServerDomain, ServerFqdn;
        public int? ClientPort, ServerPort, Pid;
        public MailboxUri? Mailbox, MailboxIdUri, OldMailbox;
        public string? MailboxId, OldMailboxId;
        public SequenceSet? UidSet, OldUidSet;
        public List<string>? MessageIds;
        public string? EmailId, ThreadId, AclSubject, AclRights, MailboxType, BodyStructure;
        public string[]? Flags;
        public List<AclEntry>? Acl;
        public long? DiskQuota, DiskUsed, MaxMessages, Messages, UnseenMessages, UidNext, Modseq, MessageSize;
        public Envelope? Envelope;
        public Dictionary<uint, string>? MessageContent;
        public Dictionary<uint, JsonElement>? MessageHeaders;
        public Dictionary<string, JsonElement>? Extra;
    }

    private static Field FieldOf(ref Utf8JsonReader reader, out string? unknownName)
    {
        unknownName = null;
        Field field;
        if (!reader.ValueIsEscaped && reader.ValueSpan.Length <= 32)
        {
            // Field names are ASCII; widening on the stack lets the compiler's string switch do the lookup.
            var bytes = reader.ValueSpan;
            Span<char> chars = stackalloc char[bytes.Length];
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = (char)bytes[i];
            }
            field = FieldOf(chars);
        }
        else
        {
            field = FieldOf(reader.GetString());
        }
        if (field == Field.Unknown)
        {
            unknownName = reader.GetString();
        }
        return field;
    }

    private static Field FieldOf(ReadOnlySpan<char> name) => name switch
    {
        "event" => Field.Event,
        "timestamp" => Field.Timestamp,
        "service" => Field.Service,
        "user" => Field.User,
        "vnd.cmu.sessionId" => Field.SessionId,
        "clientIP" => Field.ClientIP,
        "clientPort" => Field.ClientPort,
        "serverDomain" => Field.ServerDomain,
        "serverPort" => Field.ServerPort,
        "serverFQDN" => Field.ServerFqdn,
        "pid" => Field.Pid,
        "uri" => Field.Uri,
        "mailboxID" => Field.MailboxId,
        "oldMailboxID" => Field.OldMailboxId,
        "uidset" => Field.UidSet,
        "vnd.cmu.oldUidset" => Field.OldUidSet,
        "vnd.cmu.midset" => Field.MidSet,
        "vnd.cmu.emailid" => Field.EmailId,
        "vnd.cmu.threadid" => Field.ThreadId,
        "flagNames" => Field.FlagNames,
        "vnd.cmu.mailboxACL" => Field.MailboxAcl,
        "aclSubject" => Field.AclSubject,
        "aclRights" => Field.AclRights,
        "vnd.cmu.mbtype" => Field.MailboxType,
        "diskQuota" => Field.DiskQuota,
        "diskUsed" => Field.DiskUsed,
        "maxMessages" => Field.MaxMessages,
        "messages" => Field.Messages,
        "vnd.cmu.unseenMessages" => Field.UnseenMessages,
        "uidnext" => Field.UidNext,
        "modseq" => Field.Modseq,
        "messageSize" => Field.MessageSize,
        "vnd.cmu.envelope" => Field.Envelope,
        "bodyStructure" => Field.BodyStructure,
        "messageContent" => Field.MessageContent,
        "messageHeaders" => Field.MessageHeaders,
        _ => Field.Unknown,
    };

    /// <summary>The Cyrus 3.x and 2.5/Kolab names; the returned name is a shared instance.</summary>
    internal static EventType EventTypeOf(ReadOnlySpan<char> name, out string? canonical)
    {
        (EventType Type, string? Name) found = name switch
        {
            "Login" => (EventType.Login, "Login"),
            "Logout" => (EventType.Logout, "Logout"),
            "MessageNew" => (EventType.MessageNew, "MessageNew"),
            "MessageAppend" => (EventType.MessageAppend, "MessageAppend"),
            "MessageRead" => (EventType.MessageRead, "MessageRead"),
            "MessageTrash" => (EventType.MessageTrash, "MessageTrash"),
            "MessageExpunge" => (EventType.MessageExpunge, "MessageExpunge"),
            "MessageExpire" => (EventType.MessageExpire, "MessageExpire"),
            "vnd.cmu.MessageCopy" => (EventType.MessageCopy, "vnd.cmu.MessageCopy"),
            "MessageCopy" => (EventType.MessageCopy, "MessageCopy"),
            "vnd.cmu.MessageMove" => (EventType.MessageMove, "vnd.cmu.MessageMove"),
            "MessageMove" => (EventType.MessageMove, "MessageMove"),
            "FlagsSet" => (EventType.FlagsSet, "FlagsSet"),
            "FlagsClear" => (EventType.FlagsClear, "FlagsClear"),
            "MailboxCreate" => (EventType.MailboxCreate, "MailboxCreate"),
            "MailboxDelete" => (EventType.MailboxDelete, "MailboxDelete"),
            "MailboxRename" => (EventType.MailboxRename, "MailboxRename"),
            "MailboxSubscribe" => (EventType.MailboxSubscribe, "MailboxSubscribe"),
            "MailboxUnSubscribe" => (EventType.MailboxUnSubscribe, "MailboxUnSubscribe"),
            "MailboxModseq" => (EventType.MailboxModseq, "MailboxModseq"),
            "AclChange" => (EventType.AclChange, "AclChange"),
            "QuotaChange" => (EventType.QuotaChange, "QuotaChange"),
            "QuotaExceed" => (EventType.QuotaExceed, "QuotaExceed"),
            "QuotaExceeded" => (EventType.QuotaExceed, "QuotaExceeded"),
            "QuotaWithin" => (EventType.QuotaWithin, "QuotaWithin"),
            "Calendar" => (EventType.Calendar, "Calendar"),
            "CalendarAlarm" => (EventType.CalendarAlarm, "CalendarAlarm"),
            "ApplePushService" => (EventType.ApplePushService, "ApplePushService"),
            "MessagesUnscheduled" => (EventType.MessagesUnscheduled, "MessagesUnscheduled"),
            _ => (EventType.Unknown, null),
        };
        canonical = found.Name;
        return found.Type;
    }

    /// <summary>Reads one field's value into the draft; returns what is wrong with it, or null.</summary>
    private static string? ReadField(ref Utf8JsonReader reader, Field field, Draft draft)
    {
        string? text;
        string? error;
        switch (field)
        {
            case Field.Event:
                if (reader.TokenType != JsonTokenType.String)
                {
                    return $"must be a string naming the event, found {Describe(reader.TokenType)}";
                }
                if (!TryGetString(ref reader, out text, out error))
                {
                    return error;
                }
                draft.Type = EventTypeOf(text, out var canonical);
                draft.Name = canonical ?? text;
                return null;
            case Field.Timestamp:
                return ReadTimestamp(ref reader, draft);
            case Field.Service:
                return ReadString(ref reader, out draft.Service);
            case Field.User:
                error = ReadString(ref reader, out draft.User);
                if (draft.User is { Length: 0 })
                {
                    draft.User = null;
                }
                return error;
            case Field.SessionId:
                return ReadString(ref reader, out draft.SessionId);
            case Field.ClientIP:
                return ReadString(ref reader, out draft.ClientIP);
            case Field.ClientPort:
                return ReadPort(ref reader, out draft.ClientPort);
            case Field.ServerDomain:
                return ReadString(ref reader, out draft.ServerDomain);
            case Field.ServerPort:
                return ReadPort(ref reader, out draft.ServerPort);
            case Field.ServerFqdn:
                return ReadString(ref reader, out draft.ServerFqdn);
            case Field.Pid:
                return ReadInt(ref reader, out draft.Pid);
            case Field.Uri:
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                return MailboxUri.TryParse(text, out draft.Mailbox, out error) ? null : error;
            case Field.MailboxId:
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                // Cyrus 2.5 put the mailbox's URI here; 3.x puts its unique id.
                if (!text.StartsWith("imap://", StringComparison.OrdinalIgnoreCase))
                {
                    draft.MailboxId = text;
                    return null;
                }
                return MailboxUri.TryParse(text, out draft.MailboxIdUri, out error) ? null : error;
            case Field.OldMailboxId:
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                if (!text.StartsWith("imap://", StringComparison.OrdinalIgnoreCase))
                {
                    draft.OldMailboxId = text;
                    return null;
                }
                return MailboxUri.TryParse(text, out draft.OldMailbox, out error) ? null : error;
            case Field.UidSet:
                return ReadSequenceSet(ref reader, out draft.UidSet);
            case Field.OldUidSet:
                return ReadSequenceSet(ref reader, out draft.OldUidSet);
            case Field.MidSet:
                return ReadStringArray(ref reader, out draft.MessageIds);
            case Field.EmailId:
                return ReadString(ref reader, out draft.EmailId);
            case Field.ThreadId:
                error = ReadString(ref reader, out draft.ThreadId);
                if (draft.ThreadId == "NIL")
                {
                    draft.ThreadId = null;
                }
                return error;
            case Field.FlagNames:
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                draft.Flags = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return null;
            case Field.MailboxAcl:
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                return ReadAcl(text, out draft.Acl);
            case Field.AclSubject:
                return ReadString(ref reader, out draft.AclSubject);
            case Field.AclRights:
                return ReadString(ref reader, out draft.AclRights);
            case Field.MailboxType:
                return ReadString(ref reader, out draft.MailboxType);
            case Field.DiskQuota:
                return ReadLong(ref reader, out draft.DiskQuota);
            case Field.DiskUsed:
                return ReadLong(ref reader, out draft.DiskUsed);
            case Field.MaxMessages:
                return ReadLong(ref reader, out draft.MaxMessages);
            case Field.Messages:
                return ReadLong(ref reader, out draft.Messages);
            case Field.UnseenMessages:
                return ReadLong(ref reader, out draft.UnseenMessages);
            case Field.UidNext:
                return ReadLong(ref reader, out draft.UidNext);
            case Field.Modseq:
                return ReadLong(ref reader, out draft.Modseq);
            case Field.MessageSize:
                return ReadLong(ref reader, out draft.MessageSize);
            case Field.Envelope:
                return ReadEnvelope(ref reader, out draft.Envelope);
            case Field.BodyStructure:
                return ReadString(ref reader, out draft.BodyStructure);
            case Field.MessageContent:
                return ReadPerUid(ref reader, ref draft.MessageContent, static (ref Utf8JsonReader r, out string? e) =>
                {
                    e = null;
                    if (r.TokenType != JsonTokenType.String)
                    {
                        e = $"must map each UID to the message as a string, found {Describe(r.TokenType)}";
                        return null!;
                    }
                    return TryGetString(ref r, out var value, out e) ? value! : null!;
                });
            case Field.MessageHeaders:
                return ReadPerUid(ref reader, ref draft.MessageHeaders, static (ref Utf8JsonReader r, out string? e) =>
                {
                    e = null;
                    return JsonElement.ParseValue(ref r);
                });
            default:
                throw new InvalidOperationException($"field {field} has no reader");
        }
    }

    private delegate T ValueReader<T>(ref Utf8JsonReader reader, out string? error);

    private static string? ReadPerUid<T>(ref Utf8JsonReader reader, ref Dictionary<uint, T>? target, ValueReader<T> readValue)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return $"must be an object keyed by UID, found {Describe(reader.TokenType)}";
        }
        target = [];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString();
            if (!uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) || uid == 0)
            {
                return $"key \"{key}\" is not a UID";
            }
            reader.Read();
            var value = readValue(ref reader, out var error);
            if (error is not null)
            {
                return error;
            }
            if (!target.TryAdd(uid, value))
            {
                return $"UID {uid} appears twice";
            }
        }
        return null;
    }

    private static string? ReadTimestamp(ref Utf8JsonReader reader, Draft draft)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"must be an ISO 8601 time string, found {Describe(reader.TokenType)}";
        }
        var value = reader.ValueSpan;
        var timeStart = value.IndexOfAny((byte)'T', (byte)'t');
        // Without a zone the reader would assume this machine's; an event time is never guessed.
        var hasZone = timeStart > 0 && value[timeStart..].IndexOfAny("Zz+-"u8) > 0;
        if (!hasZone || !reader.TryGetDateTimeOffset(out var timestamp))
        {
            return $"\"{reader.GetString()}\" is not an ISO 8601 time with a UTC offset (2026-11-29T11:20:51.851Z)";
        }
        draft.Timestamp = timestamp.ToUniversalTime();
        return null;
    }

    private static string? ReadEnvelope(ref Utf8JsonReader reader, out Envelope? envelope)
    {
        envelope = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"must be a string holding an IMAP ENVELOPE, found {Describe(reader.TokenType)}";
        }
        if (!reader.ValueIsEscaped)
        {
            return EnvelopeReader.TryRead(reader.ValueSpan, out envelope!, out var direct) ? null : direct;
        }
        // Unescaped text is never longer than the escaped JSON.
        var buffer = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
        try
        {
            int length;
            try
            {
                length = reader.CopyString(buffer);
            }
            catch (InvalidOperationException)
            {
                return "contains an escaped UTF-16 surrogate without its pair";
            }
            return EnvelopeReader.TryRead(buffer.AsSpan(0, length), out envelope!, out var error) ? null : error;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool TryGetString(ref Utf8JsonReader reader, out string? value, out string? error)
    {
        try
        {
            value = reader.GetString();
            error = null;
            return true;
        }
        catch (InvalidOperationException)
        {
            // A \uD800 escape without its pair: valid JSON syntax, but no text.
            value = null;
            error = "contains an escaped UTF-16 surrogate without its pair";
            return false;
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return TryGetString(ref reader, out value, out var error) ? null : error;
            default:
                return $"must be a string, found {Describe(reader.TokenType)}";
        }
    }

    private static string? ReadLong(ref Utf8JsonReader reader, out long? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.Number)
        {
            return $"must be a whole number, found {Describe(reader.TokenType)}";
        }
        if (!reader.TryGetInt64(out var number))
        {
            return "must be a whole number within 64 bits";
        }
        value = number;
        return null;
    }

    private static string? ReadInt(ref Utf8JsonReader reader, out int? value)
    {
        value = null;
        var error = ReadLong(ref reader, out var number);
        if (error is not null || number is null)
        {
            return error;
        }
        if (number is < int.MinValue or > int.MaxValue)
        {
            return $"{number} is out of range";
        }
        value = (int)number;
        return null;
    }

    private static string? ReadPort(ref Utf8JsonReader reader, out int? value)
    {
        var error = ReadInt(ref reader, out value);
        if (error is null && value is < 0 or > 65535)
        {
            error = $"{value} is not a TCP port";
            value = null;
        }
        return error;
    }

    private static string? ReadSequenceSet(ref Utf8JsonReader reader, out SequenceSet? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Number)
        {
            return "must be a string holding an IMAP sequence set (\"1:3,7\"), found a number";
        }
        var error = ReadString(ref reader, out var text);
        if (error is not null || text is null)
        {
            return error;
        }
        if (!SequenceSet.TryParse(text, out var set, out error))
        {
            return error;
        }
        value = set;
        return null;
    }

    private static string? ReadStringArray(ref Utf8JsonReader reader, out List<string>? values)
    {
        values = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return $"must be an array of strings, found {Describe(reader.TokenType)}";
        }
        values = [];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return $"must hold only strings, found {Describe(reader.TokenType)} at position {values.Count}";
            }
            if (!TryGetString(ref reader, out var item, out var error))
            {
                return error;
            }
            values.Add(item!);
        }
        return null;
    }

    private static string? ReadAcl(string text, out List<AclEntry>? acl)
    {
        acl = [];
        var parts = text.Split('\t');
        // Cyrus ends every pair with a tab, so the last part is empty.
        var count = parts.Length > 0 && parts[^1].Length == 0 ? parts.Length - 1 : parts.Length;
        if (count % 2 != 0)
        {
            return $"identifier \"{parts[count - 1]}\" has no rights (expected identifier<TAB>rights<TAB> pairs)";
        }
        for (var i = 0; i < count; i += 2)
        {
            acl.Add(new AclEntry(parts[i], parts[i + 1]));
        }
        return null;
    }
}
