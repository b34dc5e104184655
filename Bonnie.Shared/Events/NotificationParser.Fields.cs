using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
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

    /// <summary>A struct so that reading a notification allocates only what the event keeps.</summary>
    private struct Draft
    {
        public EventType Type;
        public string? Name;
        public DateTimeOffset? Timestamp;
        public string? User, Service, SessionId, ClientIP, ServerDomain, ServerFqdn;
        public int? ClientPort, ServerPort, Pid;
        public MailboxUri? Mailbox, MailboxIdUri, OldMailbox;
        public string? MailboxId, OldMailboxId;
        public SequenceSet? UidSet, OldUidSet;
        public string[]? MessageIds;
        public string? EmailId, ThreadId, AclSubject, AclRights, MailboxType;
        /// <summary>A string, or a <see cref="Deferred{T}"/> of one when it can wait.</summary>
        public object? BodyStructure;
        public string[]? Flags;
        public AclEntry[]? Acl;
        public long? DiskQuota, DiskUsed, MaxMessages, Messages, UnseenMessages, UidNext, Modseq, MessageSize;
        public Deferred<Envelope>? Envelope;
        public ReadOnlyMemory<byte> Raw;
        public Dictionary<uint, string>? MessageContent;
        public Dictionary<uint, JsonElement>? MessageHeaders;
        public List<ExtraField>? Extra;
    }

    // Field and event names bucketed by length: a lookup compares a handful of short byte spans, no hashing.
    private static readonly (byte[] Name, Field Field)[][] FieldsByLength = ByLength(
        FieldNames.Select((name, index) => (name, (Field)index)).Where(f => f.Item2 != Field.Unknown));

    private static readonly (string Name, EventType Type)[] EventNames =
    [
        ("Login", EventType.Login), ("Logout", EventType.Logout),
        ("MessageNew", EventType.MessageNew), ("MessageAppend", EventType.MessageAppend),
        ("MessageRead", EventType.MessageRead), ("MessageTrash", EventType.MessageTrash),
        ("MessageExpunge", EventType.MessageExpunge), ("MessageExpire", EventType.MessageExpire),
        ("vnd.cmu.MessageCopy", EventType.MessageCopy), ("MessageCopy", EventType.MessageCopy),
        ("vnd.cmu.MessageMove", EventType.MessageMove), ("MessageMove", EventType.MessageMove),
        ("FlagsSet", EventType.FlagsSet), ("FlagsClear", EventType.FlagsClear),
        ("MailboxCreate", EventType.MailboxCreate), ("MailboxDelete", EventType.MailboxDelete),
        ("MailboxRename", EventType.MailboxRename), ("MailboxSubscribe", EventType.MailboxSubscribe),
        ("MailboxUnSubscribe", EventType.MailboxUnSubscribe), ("MailboxModseq", EventType.MailboxModseq),
        ("AclChange", EventType.AclChange), ("QuotaChange", EventType.QuotaChange),
        ("QuotaExceed", EventType.QuotaExceed), ("QuotaExceeded", EventType.QuotaExceed),
        ("QuotaWithin", EventType.QuotaWithin), ("Calendar", EventType.Calendar),
        ("CalendarAlarm", EventType.CalendarAlarm), ("ApplePushService", EventType.ApplePushService),
        ("MessagesUnscheduled", EventType.MessagesUnscheduled),
    ];

    /// <summary>Every event name a Cyrus version sends, with the type it stands for (also what the query language takes).</summary>
    internal static IReadOnlyList<(string Name, EventType Type)> KnownEventNames => EventNames;

    // Declared after EventNames: static fields initialise in order.
    private static readonly (byte[] Name, (string Name, EventType Type) Event)[][] EventsByLength = ByLength(
        EventNames.Select(e => (e.Name, e)));

    private static (byte[] Name, T Value)[][] ByLength<T>(IEnumerable<(string Name, T Value)> entries)
    {
        var list = entries.Select(e => (Encoding.UTF8.GetBytes(e.Name), e.Value)).ToList();
        var buckets = new (byte[], T)[list.Max(e => e.Item1.Length) + 1][];
        for (var length = 0; length < buckets.Length; length++)
        {
            buckets[length] = [.. list.Where(e => e.Item1.Length == length)];
        }
        return buckets;
    }

    private static bool TryFind<T>((byte[] Name, T Value)[][] buckets, ReadOnlySpan<byte> name, out T value)
    {
        if (name.Length < buckets.Length)
        {
            foreach (var (candidate, found) in buckets[name.Length])
            {
                if (name.SequenceEqual(candidate))
                {
                    value = found;
                    return true;
                }
            }
        }
        value = default!;
        return false;
    }

    private static Field FieldOf(ref Utf8JsonReader reader, out string? unknownName)
    {
        unknownName = null;
        var name = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
        if (TryFind(FieldsByLength, name, out var field))
        {
            return field;
        }
        unknownName = reader.GetString();
        return Field.Unknown;
    }

    /// <summary>The Cyrus 3.x and 2.5/Kolab names; <paramref name="canonical"/> is a shared instance of the name.</summary>
    internal static EventType EventTypeOf(ReadOnlySpan<byte> name, out string? canonical)
    {
        if (TryFind(EventsByLength, name, out var found))
        {
            canonical = found.Name;
            return found.Type;
        }
        canonical = null;
        return EventType.Unknown;
    }

    /// <summary>Reads one field's value into the draft; returns what is wrong with it, or null.</summary>
    private static string? ReadField(ref Utf8JsonReader reader, Field field, ref Draft draft)
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
                draft.Type = reader.ValueIsEscaped ? EventType.Unknown : EventTypeOf(reader.ValueSpan, out draft.Name);
                if (draft.Name is null)
                {
                    if (!TryGetString(ref reader, out text, out error))
                    {
                        return error;
                    }
                    draft.Type = EventTypeOf(Encoding.UTF8.GetBytes(text!), out var canonical);
                    draft.Name = canonical ?? text;
                }
                return null;
            case Field.Timestamp:
                return ReadTimestamp(ref reader, ref draft);
            case Field.Service:
                return ReadCachedString(ref reader, Field.Service, out draft.Service);
            case Field.User:
                error = ReadCachedString(ref reader, Field.User, out draft.User);
                if (draft.User is { Length: 0 })
                {
                    draft.User = null;
                }
                return error;
            case Field.SessionId:
                return ReadCachedString(ref reader, Field.SessionId, out draft.SessionId);
            case Field.ClientIP:
                return ReadCachedString(ref reader, Field.ClientIP, out draft.ClientIP);
            case Field.ClientPort:
                return ReadPort(ref reader, out draft.ClientPort);
            case Field.ServerDomain:
                return ReadCachedString(ref reader, Field.ServerDomain, out draft.ServerDomain);
            case Field.ServerPort:
                return ReadPort(ref reader, out draft.ServerPort);
            case Field.ServerFqdn:
                return ReadCachedString(ref reader, Field.ServerFqdn, out draft.ServerFqdn);
            case Field.Pid:
                return ReadInt(ref reader, out draft.Pid);
            case Field.Uri:
                return ReadMailbox(ref reader, field, allowId: false, out draft.Mailbox, out _);
            case Field.MailboxId:
                return ReadMailbox(ref reader, field, allowId: true, out draft.MailboxIdUri, out draft.MailboxId);
            case Field.OldMailboxId:
                return ReadMailbox(ref reader, field, allowId: true, out draft.OldMailbox, out draft.OldMailboxId);
            case Field.UidSet:
                return ReadSequenceSet(ref reader, field, out draft.UidSet);
            case Field.OldUidSet:
                return ReadSequenceSet(ref reader, field, out draft.OldUidSet);
            case Field.MidSet:
                return ReadStringArray(ref reader, out draft.MessageIds);
            case Field.EmailId:
                return ReadString(ref reader, out draft.EmailId);
            case Field.ThreadId:
                if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.SequenceEqual("NIL"u8))
                {
                    return null;
                }
                error = ReadString(ref reader, out draft.ThreadId);
                if (draft.ThreadId == "NIL")
                {
                    draft.ThreadId = null;
                }
                return error;
            case Field.FlagNames:
                if (TryRecall(ref reader, field, out draft.Flags))
                {
                    return null;
                }
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                draft.Flags = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Remember(ref reader, field, draft.Flags);
                return null;
            case Field.MailboxAcl:
                if (TryRecall(ref reader, field, out draft.Acl))
                {
                    return null;
                }
                if ((error = ReadString(ref reader, out text)) is not null || text is null)
                {
                    return error;
                }
                if ((error = ReadAcl(text, out draft.Acl)) is null)
                {
                    Remember(ref reader, field, draft.Acl!);
                }
                return error;
            case Field.AclSubject:
                return ReadCachedString(ref reader, Field.AclSubject, out draft.AclSubject);
            case Field.AclRights:
                return ReadCachedString(ref reader, Field.AclRights, out draft.AclRights);
            case Field.MailboxType:
                return ReadCachedString(ref reader, Field.MailboxType, out draft.MailboxType);
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
                return ReadEnvelope(ref reader, draft.Raw, out draft.Envelope);
            case Field.BodyStructure:
                if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.IndexOf("\\u"u8) < 0)
                {
                    draft.BodyStructure = new Deferred<string>(draft.Raw.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2), ReadDeferredText);
                    return null;
                }
                error = ReadString(ref reader, out text);
                draft.BodyStructure = text;
                return error;
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

    private static string? ReadTimestamp(ref Utf8JsonReader reader, ref Draft draft)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"must be an ISO 8601 time string, found {Describe(reader.TokenType)}";
        }
        var value = reader.ValueSpan;
        if (TryReadCyrusTime(value, out var utc))
        {
            draft.Timestamp = utc;
            return null;
        }
        var timeStart = value.IndexOfAny((byte)'T', (byte)'t');
        // Without a zone the reader would assume this machine's; an event time is never guessed.
        var hasZone = timeStart > 0 && value[timeStart..].IndexOfAny("Zz+-"u8) > 0;
        if (!hasZone || !reader.TryGetDateTimeOffset(out var timestamp))
        {
            // 9999-12-31T23:59:59.999-01:00 has an offset, but is after the last time there is in UTC: say which it is.
            return hasZone && IsTimeWithAnOffset(reader.GetString()!)
                ? $"\"{reader.GetString()}\" is outside the times there are in UTC (0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z)"
                : $"\"{reader.GetString()}\" is not an ISO 8601 time with a UTC offset (2026-11-29T11:20:51.851Z)";
        }
        draft.Timestamp = timestamp.ToUniversalTime();
        return null;
    }

    /// <summary>A local time and an offset each well formed: when such a time does not parse, it is out of UTC's range.</summary>
    private static bool IsTimeWithAnOffset(string value)
    {
        var t = value.IndexOfAny(['T', 't']);
        var zone = value.LastIndexOfAny(['+', '-', 'Z', 'z']);
        if (t < 0 || zone <= t)
        {
            return false;
        }
        var offset = value[zone..];
        return DateTime.TryParse(value[..zone], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
            && (offset is "Z" or "z" || (TimeSpan.TryParseExact(offset[1..], @"hh\:mm", CultureInfo.InvariantCulture, out var o) && o <= TimeSpan.FromHours(14)));
    }

    /// <summary>The exact form Cyrus 3.x writes, <c>2026-11-29T11:20:51.851Z</c>, read without the general ISO 8601 parser.</summary>
    private static bool TryReadCyrusTime(ReadOnlySpan<byte> value, out DateTimeOffset utc)
    {
        utc = default;
        if (value.Length != 24 || value[4] != '-' || value[7] != '-' || value[10] != 'T' || value[13] != ':'
            || value[16] != ':' || value[19] != '.' || value[23] != 'Z')
        {
            return false;
        }
        int year = Digits(value, 0, 4), month = Digits(value, 5, 2), day = Digits(value, 8, 2);
        int hour = Digits(value, 11, 2), minute = Digits(value, 14, 2), second = Digits(value, 17, 2), millisecond = Digits(value, 20, 3);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59 || millisecond < 0)
        {
            return false;
        }
        utc = new DateTimeOffset(year, month, day, hour, minute, second, millisecond, TimeSpan.Zero);
        return true;
    }

    /// <summary>The number in <paramref name="count"/> ASCII digits, or -1.</summary>
    private static int Digits(ReadOnlySpan<byte> value, int start, int count)
    {
        var number = 0;
        foreach (var b in value.Slice(start, count))
        {
            if ((uint)(b - '0') > 9)
            {
                return -1;
            }
            number = number * 10 + (b - '0');
        }
        return number;
    }

    // Only for strings without \u escapes (checked before deferring), which always decode.
    private static string ReadDeferredText(ref Utf8JsonReader reader) => reader.GetString()!;

    private static Envelope BuildEnvelope(ref Utf8JsonReader reader)
        => EnvelopeReader.TryRead(ref reader, build: true, out var envelope, out var error)
            ? envelope!
            // The parser ran the same reader over the same bytes before deferring it.
            : throw new InvalidOperationException($"an envelope checked when parsed does not read: {error}");

    private static string? ReadEnvelope(ref Utf8JsonReader reader, ReadOnlyMemory<byte> raw, out Deferred<Envelope>? envelope)
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
        // Only the syntax now, so that a malformed envelope still fails the parse; the strings when first read.
        if (!EnvelopeReader.TryRead(ref reader, build: false, out _, out var error))
        {
            return error;
        }
        envelope = new Deferred<Envelope>(raw.Slice((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2), BuildEnvelope);
        return null;
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

    /// <summary>The last value read for a field, with the JSON bytes it was read from.</summary>
    private sealed class Memo(byte[] key, object value)
    {
        public byte[] Key { get; } = key;
        public object Value { get; } = value;
    }

    // Notifications repeat most values: service, server, user, session, the mailbox, its ACL, the flags. The values
    // are immutable, so one read before from the same bytes is reused. A small direct-mapped table per field holds
    // the sessions and mailboxes in use at the moment; a race between threads only costs a miss.
    private const int MemoSlots = 16;
    private static readonly Memo?[] Memos = new Memo?[FieldNames.Length * MemoSlots];

    private static int MemoSlot(Field field, ReadOnlySpan<byte> key)
    {
        // Only picks a slot (the key is compared in full), so a few bytes will do: values of one field differ at
        // their end (folder, UIDVALIDITY, session counter) or in the middle (session start time).
        ulong mix = (ulong)key.Length;
        if (key.Length >= 8)
        {
            mix ^= BinaryPrimitives.ReadUInt64LittleEndian(key[^8..]) ^ BinaryPrimitives.ReadUInt64LittleEndian(key[((key.Length - 8) / 2)..]) * 31;
        }
        else
        {
            foreach (var b in key)
            {
                mix = mix * 31 + b;
            }
        }
        return (int)field * MemoSlots + (int)((mix * 0x9E3779B97F4A7C15UL) >> 60);
    }

    private static bool TryRecall<T>(ref Utf8JsonReader reader, Field field, out T? value) where T : class
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return TryRecall(field, reader.ValueSpan, out value);
        }
        value = null;
        return false;
    }

    private static bool TryRecall<T>(Field field, ReadOnlySpan<byte> key, out T? value) where T : class
    {
        if (Memos[MemoSlot(field, key)] is { } memo && key.SequenceEqual(memo.Key) && memo.Value is T found)
        {
            value = found;
            return true;
        }
        value = null;
        return false;
    }

    private static void Remember(ref Utf8JsonReader reader, Field field, object value)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            Remember(field, reader.ValueSpan, value);
        }
    }

    private static void Remember(Field field, ReadOnlySpan<byte> key, object value)
    {
        if (key.Length <= 512)
        {
            Memos[MemoSlot(field, key)] = new Memo(key.ToArray(), value);
        }
    }

    private static string? ReadCachedString(ref Utf8JsonReader reader, Field field, out string? value)
    {
        if (TryRecall(ref reader, field, out value))
        {
            return null;
        }
        var error = ReadString(ref reader, out value);
        if (value is not null)
        {
            Remember(ref reader, field, value);
        }
        return error;
    }

    /// <summary><c>uri</c>, <c>mailboxID</c>, <c>oldMailboxID</c>: a URI, or (the IDs) a unique id.</summary>
    private static string? ReadMailbox(ref Utf8JsonReader reader, Field field, bool allowId, out MailboxUri? mailbox, out string? id)
    {
        mailbox = null;
        id = null;
        if (TryRecall<object>(ref reader, field, out var known))
        {
            mailbox = known as MailboxUri;
            id = known as string;
            return null;
        }
        var uidAt = reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped ? reader.ValueSpan.IndexOf("/;UID="u8) : -1;
        if (uidAt > 0 && TryRecallMessage(ref reader, field, uidAt, out mailbox))
        {
            return null;
        }
        var error = ReadString(ref reader, out var text);
        if (error is not null || text is null)
        {
            return error;
        }
        // Cyrus 2.5 put the mailbox's URI in mailboxID; 3.x puts its unique id there. An empty one names no mailbox: taken
        // as an id, every such event shared one folder object (a review).
        if (allowId && text.Trim().Length == 0)
        {
            return null;
        }
        if (allowId && !text.StartsWith("imap://", StringComparison.OrdinalIgnoreCase))
        {
            id = text;
            Remember(ref reader, field, text);
            return null;
        }
        if (!MailboxUri.TryParse(text, out mailbox, out error))
        {
            return error;
        }
        if (mailbox is null)
        {
            // A server-only URI (Login, Logout): the next session's event names the same server.
            Remember(ref reader, field, NoMailbox);
            return null;
        }
        if (mailbox.Uid is null)
        {
            Remember(ref reader, field, mailbox);
        }
        else if (uidAt > 0)
        {
            // A URI with a UID names one message, the next one another: remember the mailbox part only.
            var prefix = reader.ValueSpan[..uidAt];
            Remember(field, prefix, mailbox with { Uid = null, Original = Encoding.UTF8.GetString(prefix) });
        }
        return null;
    }

    /// <summary>Remembered for a URI that names a server but no mailbox.</summary>
    private static readonly object NoMailbox = new();

    /// <summary>The last mailbox read for this field, with this URI's UID.</summary>
    private static bool TryRecallMessage(ref Utf8JsonReader reader, Field field, int uidAt, out MailboxUri? mailbox)
    {
        mailbox = null;
        var span = reader.ValueSpan;
        var digits = span[(uidAt + "/;UID=".Length)..];
        if (!TryRecall(field, span[..uidAt], out MailboxUri? known)
            || !Utf8Parser.TryParse(digits, out uint uid, out var consumed) || consumed != digits.Length || uid == 0)
        {
            return false;
        }
        mailbox = known! with { Uid = uid, Original = reader.GetString()! };
        return true;
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

    private static string? ReadSequenceSet(ref Utf8JsonReader reader, Field field, out SequenceSet? value)
    {
        if (TryRecall(ref reader, field, out value))
        {
            return null;
        }
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
        Remember(ref reader, field, set);
        return null;
    }

    private static string? ReadStringArray(ref Utf8JsonReader reader, out string[]? values)
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
        // Usually one Message-ID: build an exact array without a list in between.
        string? first = null;
        List<string>? more = null;
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
            {
                return $"must hold only strings, found {Describe(reader.TokenType)} at position {count}";
            }
            if (!TryGetString(ref reader, out var item, out var error))
            {
                return error;
            }
            if (count++ == 0)
            {
                first = item;
            }
            else
            {
                (more ??= [first!]).Add(item!);
            }
        }
        values = more is not null ? [.. more] : first is not null ? [first] : [];
        return null;
    }

    private static string? ReadAcl(string text, out AclEntry[]? acl)
    {
        acl = null;
        var parts = text.Split('\t');
        // Cyrus ends every pair with a tab, so the last part is empty.
        var count = parts.Length > 0 && parts[^1].Length == 0 ? parts.Length - 1 : parts.Length;
        if (count % 2 != 0)
        {
            return $"identifier \"{parts[count - 1]}\" has no rights (expected identifier<TAB>rights<TAB> pairs)";
        }
        acl = new AclEntry[count / 2];
        for (var i = 0; i < acl.Length; i++)
        {
            acl[i] = new AclEntry(parts[2 * i], parts[2 * i + 1]);
        }
        return null;
    }
}
