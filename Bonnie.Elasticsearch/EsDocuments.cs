using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Elasticsearch;

/// <summary>How store records become documents and back.</summary>
internal static class EsDocuments
{
    public static string Date(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset ReadDate(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<long>(out var ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms),
        JsonValue v => DateTimeOffset.Parse(v.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        _ => throw new ElasticsearchStoreException("A stored document lacks a date it must have."),
    };

    /// <param name="arrival">Its place in the order events were stored (the feed): see <c>ElasticsearchStore.ReadFeedAsync</c>.</param>
    public static JsonObject Event(StoredEvent e, long sequence, long arrival)
    {
        var folderIds = new[] { e.FolderId, e.OldFolderId }.Where(v => !string.IsNullOrEmpty(v)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var folderNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, name) in new[] { (e.FolderId, e.FolderName), (e.FolderId, e.FolderPath), (e.OldFolderId, e.OldFolderName) })
        {
            if (!string.IsNullOrEmpty(name))
            {
                folderNames.UnionWith(FolderAliases.Of(id, name));
            }
        }
        return new JsonObject
        {
            ["id"] = e.Id,
            ["sequence"] = sequence,
            ["arrival"] = arrival,
            ["type"] = e.Type.ToString(),
            ["event"] = e.Type.ToString().ToLowerInvariant(),
            ["name"] = e.Name,
            ["timestamp"] = Date(e.Timestamp),
            ["received"] = Date(e.ReceivedAt),
            ["user"] = e.User,
            ["identity_status"] = e.Identity?.Status,
            ["person_id"] = e.Identity?.PersonId,
            ["identity"] = e.Identity is null ? null : Identity(e.Identity),
            ["service"] = e.Service,
            ["session"] = e.SessionId,
            ["ip"] = e.ClientIp,
            ["folder_id"] = e.FolderId,
            ["folder_name"] = e.FolderName,
            ["folder_path"] = e.FolderPath,
            ["old_folder_id"] = e.OldFolderId,
            ["old_folder_name"] = e.OldFolderName,
            ["folder_ids"] = Array(folderIds),
            ["folders"] = Array(folderNames.Order(StringComparer.Ordinal)),
            ["uids"] = e.Uids,
            ["message_ids"] = Array(e.MessageIds.Select(m => QueryParser.NormalizeKeyword(KeywordField.MessageId, m))),
            ["message_ids_sent"] = Array(e.MessageIds),
            ["message_keys"] = Array(e.MessageKeys),
            ["subject"] = e.Subject,
            ["from"] = Array(e.From),
            ["to"] = Array(e.To),
            ["body"] = e.BodyText,
            ["flags"] = Array(e.Flags),
            ["size"] = e.Size,
            ["payload_status"] = e.PayloadStatus.ToString(),
            ["payload_sha256"] = e.PayloadSha256,
            ["raw_sha256"] = e.RawSha256,
            ["raw"] = Convert.ToBase64String(e.Raw.Span),
        };
    }

    public static StoredEvent ReadEvent(JsonObject source)
    {
        string? S(string name) => source[name]?.GetValue<string>();
        IReadOnlyList<string> L(string name) => source[name] is JsonArray a ? a.Select(v => v!.GetValue<string>()).ToArray() : [];
        return new StoredEvent
        {
            Id = S("id")!,
            Sequence = source["sequence"]!.GetValue<long>(),
            Type = Enum.Parse<EventType>(S("type")!),
            Name = S("name")!,
            Timestamp = ReadDate(source["timestamp"]),
            ReceivedAt = ReadDate(source["received"]),
            User = S("user"),
            Identity = source["identity"] is JsonObject identity ? ReadIdentity(identity) : null,
            Service = S("service"),
            SessionId = S("session"),
            ClientIp = S("ip"),
            FolderId = S("folder_id"),
            FolderName = S("folder_name"),
            FolderPath = S("folder_path"),
            OldFolderId = S("old_folder_id"),
            OldFolderName = S("old_folder_name"),
            Uids = S("uids"),
            // Events written before message_ids_sent existed have only the searched form.
            MessageIds = source["message_ids_sent"] is not null ? L("message_ids_sent") : L("message_ids"),
            MessageKeys = L("message_keys"),
            Subject = S("subject"),
            From = L("from"),
            To = L("to"),
            Flags = L("flags"),
            Size = source["size"]?.GetValue<long>(),
            PayloadStatus = Enum.Parse<PayloadStatus>(S("payload_status") ?? nameof(PayloadStatus.None)),
            PayloadSha256 = S("payload_sha256"),
            RawSha256 = S("raw_sha256")!,
            Raw = S("raw") is { } raw ? Convert.FromBase64String(raw) : ReadOnlyMemory<byte>.Empty,
        };
    }

    public static JsonObject Identity(EventIdentity i) => new()
    {
        ["status"] = i.Status,
        ["person_id"] = i.PersonId,
        ["display_name"] = i.DisplayName,
        ["addresses"] = Array(i.Addresses),
        ["groups"] = Array(i.Groups),
        ["roles"] = Array(i.Roles),
        ["resolved_at"] = i.ResolvedAt is { } at ? Date(at) : null,
    };

    public static EventIdentity ReadIdentity(JsonObject o)
    {
        IReadOnlyList<string> L(string name) => o[name] is JsonArray a ? a.Select(v => v!.GetValue<string>()).ToArray() : [];
        return new EventIdentity
        {
            Status = o["status"]!.GetValue<string>(),
            PersonId = o["person_id"]?.GetValue<string>(),
            DisplayName = o["display_name"]?.GetValue<string>(),
            Addresses = L("addresses"),
            Groups = L("groups"),
            Roles = L("roles"),
            ResolvedAt = o["resolved_at"] is { } at ? ReadDate(at) : null,
        };
    }

    public static JsonObject Folder(FolderObject f) => new()
    {
        ["id"] = f.Id,
        ["name"] = f.Name,
        ["exists"] = f.Exists,
        ["subjects_pending"] = f.HasPendingSubjects(),
        ["doc"] = JsonSerializer.SerializeToNode(f, EsJson.Default.FolderObject),
    };

    public static JsonObject Message(MessageObject m) => new()
    {
        ["key"] = m.Key,
        ["message_id"] = m.MessageId,
        ["current_at"] = Array(m.Locations.Where(l => l.Until is null).Select(l => l.Address).Distinct(StringComparer.Ordinal)),
        ["once_at"] = Array(m.Locations.Select(l => l.Address).Distinct(StringComparer.Ordinal)),
        ["in_folders"] = Array(m.Locations.Where(l => l.Until is null).Select(l => l.FolderId).Distinct(StringComparer.Ordinal)),
        ["doc"] = JsonSerializer.SerializeToNode(m, EsJson.Default.MessageObject),
    };

    public static JsonObject Session(SessionObject s) => new()
    {
        ["id"] = s.Id,
        ["user"] = s.User,
        ["started"] = (s.LoginAt ?? s.LogoutAt) is { } t ? Date(t) : null,
        ["doc"] = JsonSerializer.SerializeToNode(s, EsJson.Default.SessionObject),
    };

    // The serializer builds sorted collections with the default comparer; identity rules need ours back.
    public static FolderObject ReadFolder(JsonObject hit)
    {
        var f = hit["_source"]!["doc"].Deserialize(EsJson.Default.FolderObject)!;
        f.Acl = new(f.Acl, StringComparer.Ordinal);
        f.Subscribers = new(f.Subscribers, StringComparer.OrdinalIgnoreCase);
        f.Quota = new(f.Quota, StringComparer.Ordinal);
        f.Metadata = new(f.Metadata, StringComparer.Ordinal);
        f.Version = hit["_version"]!.GetValue<long>();
        return f;
    }

    public static MessageObject ReadMessage(JsonObject hit)
    {
        var m = hit["_source"]!["doc"].Deserialize(EsJson.Default.MessageObject)!;
        foreach (var l in m.Locations)
        {
            l.Flags = new(l.Flags, StringComparer.OrdinalIgnoreCase);
        }
        m.Version = hit["_version"]!.GetValue<long>();
        return m;
    }

    public static SessionObject ReadSession(JsonObject hit)
    {
        var s = hit["_source"]!["doc"].Deserialize(EsJson.Default.SessionObject)!;
        s.Version = hit["_version"]!.GetValue<long>();
        return s;
    }

    public static JsonObject Change(ChangeRecord c, long eventSequence, long recorded) => new()
    {
        ["recorded"] = recorded,
        ["kind"] = c.Kind.ToString(),
        ["object_id"] = c.ObjectId,
        ["aspect"] = c.Aspect.ToString(),
        ["key"] = c.Key,
        ["from"] = c.From,
        ["to"] = c.To,
        ["folder_id"] = c.FolderId,
        ["folder_name"] = c.FolderName,
        ["uid"] = c.Uid is { } u ? (long)u : null,
        ["user"] = c.Actor.User,
        ["session"] = c.Actor.SessionId,
        ["ip"] = c.Actor.ClientIp,
        ["service"] = c.Actor.Service,
        ["at"] = Date(c.At),
        ["event_id"] = c.EventId,
        ["event_seq"] = eventSequence,
        ["ordinal"] = c.Ordinal,
    };

    /// <summary>The same change stored twice (a retried batch) keeps one document.</summary>
    public static string ChangeId(ChangeRecord c)
        => Hash(string.Join('\n', c.EventId, c.Ordinal.ToString(CultureInfo.InvariantCulture), c.Kind.ToString(), c.ObjectId, c.Aspect.ToString(), c.Key ?? "",
            c.FolderId ?? "", c.Uid?.ToString(CultureInfo.InvariantCulture) ?? ""));

    public static ChangeRecord ReadChange(JsonObject source)
    {
        string? S(string name) => source[name]?.GetValue<string>();
        return new ChangeRecord
        {
            Kind = Enum.Parse<ObjectKind>(S("kind")!),
            ObjectId = S("object_id")!,
            Aspect = Enum.Parse<ChangeAspect>(S("aspect")!),
            Key = S("key"),
            From = S("from"),
            To = S("to"),
            FolderId = S("folder_id"),
            FolderName = S("folder_name"),
            Uid = source["uid"] is { } u ? (uint)u.GetValue<long>() : null,
            Actor = new Actor(S("user"), S("session"), S("ip"), S("service")),
            At = ReadDate(source["at"]),
            EventId = S("event_id")!,
            Ordinal = source["ordinal"]!.GetValue<int>(),
        };
    }

    public static JsonObject Quarantine(QuarantineItem q, long sequence) => new()
    {
        ["sequence"] = sequence,
        ["job_id"] = q.JobId,
        ["at"] = Date(q.At),
        ["stage"] = q.Stage,
        ["reason"] = q.Reason,
        ["raw_sha256"] = q.RawSha256.Length > 0 ? q.RawSha256 : Convert.ToHexStringLower(SHA256.HashData(q.Raw.Span)),
        ["raw"] = Convert.ToBase64String(q.Raw.Span),
    };

    public static QuarantineItem ReadQuarantine(JsonObject source) => new()
    {
        Sequence = source["sequence"]!.GetValue<long>(),
        JobId = source["job_id"]!.GetValue<string>(),
        At = ReadDate(source["at"]),
        Stage = source["stage"]!.GetValue<string>(),
        Reason = source["reason"]!.GetValue<string>(),
        RawSha256 = source["raw_sha256"]!.GetValue<string>(),
        Raw = Convert.FromBase64String(source["raw"]!.GetValue<string>()),
    };

    /// <summary>
    /// The document id for a key: the key itself, or its hash when longer than Elasticsearch takes (512 bytes: it
    /// refuses the whole bulk request otherwise). A sender chooses the Message-ID in a message's key. The key stays in
    /// the document's own fields. A hashed id is "~" and 64 hex digits, a form no message key, folder id or event id takes.
    /// </summary>
    public static string DocId(string key) => Encoding.UTF8.GetByteCount(key) <= 512 ? key : "~" + Hash(key);

    public static string Hash(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    private static JsonArray? Array(IEnumerable<string?> values)
    {
        var a = new JsonArray();
        foreach (var v in values)
        {
            if (!string.IsNullOrEmpty(v))
            {
                a.Add(v);
            }
        }
        return a.Count == 0 ? null : a;
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FolderObject))]
[JsonSerializable(typeof(MessageObject))]
[JsonSerializable(typeof(SessionObject))]
internal sealed partial class EsJson : JsonSerializerContext;


/// <summary>
/// Opaque keyset cursors: the sort values of a page's last hit (sequence, then id), versioned. The feed's positions
/// (<see cref="EsFeedPosition"/>) are the same form under another tag, so neither is taken for the other.
/// </summary>
internal static class EsCursor
{
    public static string Encode(long sequence, string id) => Encode("v1", sequence, id);

    public static (long Sequence, string Id) Decode(string cursor) =>
        Decode("v1", cursor, allowEmptyId: false, "The cursor is not one this server gave out; start again without it.", "a cursor from a previous page");

    internal static string Encode(string tag, long value, string id)
        => Convert.ToBase64String(Encoding.UTF8.GetBytes(tag + ":" + value.ToString(CultureInfo.InvariantCulture) + ":" + id))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static (long Value, string Id) Decode(string tag, string text, bool allowEmptyId, string error, string expected)
    {
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(b64)).Split(':', 3);
            if (parts.Length == 3 && parts[0] == tag
                && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                && parts[2].Length <= 512 && (allowEmptyId || parts[2].Length > 0) && !parts[2].Any(char.IsControl))
            {
                return (value, parts[2]);
            }
        }
        catch (FormatException)
        {
        }
        throw new QuerySyntaxException(error, 0, expected);
    }
}
