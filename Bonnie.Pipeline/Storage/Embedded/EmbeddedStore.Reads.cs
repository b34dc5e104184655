using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    private const string EventColumns =
        "e.seq, e.id, e.type, e.name, e.ts, e.received, e.user, e.service, e.session, e.ip, e.folder_id, e.folder, e.folder_path, " +
        "e.old_folder_id, e.old_folder, e.uids, e.mids, e.keys, e.sender, e.recipients, e.flags, e.subject, e.size, e.payload_status, " +
        "e.payload_sha256, e.raw_sha256, e.identity";

    private static StoredEvent ReadEvent(SqliteDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        IReadOnlyList<string> L(int i) => r.IsDBNull(i) ? [] : r.GetString(i).Split('\n');
        return new StoredEvent
        {
            Sequence = r.GetInt64(0),
            Id = r.GetString(1),
            Type = Enum.Parse<EventType>(r.GetString(2)),
            Name = r.GetString(3),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
            ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
            User = S(6),
            Service = S(7),
            SessionId = S(8),
            ClientIp = S(9),
            FolderId = S(10),
            FolderName = S(11),
            FolderPath = S(12),
            OldFolderId = S(13),
            OldFolderName = S(14),
            Uids = S(15),
            MessageIds = L(16),
            MessageKeys = L(17),
            From = L(18),
            To = L(19),
            Flags = L(20),
            Subject = S(21),
            Size = r.IsDBNull(22) ? null : r.GetInt64(22),
            PayloadStatus = (PayloadStatus)r.GetInt32(23),
            PayloadSha256 = S(24),
            RawSha256 = r.GetString(25),
            Identity = r.IsDBNull(26) ? null : StoreJson.ReadIdentity(r.GetString(26)),
        };
    }

    public async Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {EventColumns}, e.raw, e.raw_codec FROM events e WHERE e.id = $id";
        cmd.Parameters.AddWithValue("$id", eventId);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var stored = ReadEvent(r);
        return stored with { Raw = _raw.Decode((byte[])r.GetValue(27), r.GetInt64(28)) };
    }

    // In the order the changes were derived (commit order), not by event time: each record's "from" is then the
    // previous record's "to", even when events were processed in another order than their timestamps (a MOVE after
    // its own expunge, clocks of several servers). Each record still carries its event's time.
    public async Task<IReadOnlyList<ChangeRecord>> GetChangesAsync(ObjectKind kind, string objectId, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT c.kind, c.object_id, c.aspect, c.key, c.from_value, c.to_value, c.folder_id, c.folder_name, c.uid,
                   c.user, c.session, c.ip, c.service, c.at, e.id, c.ordinal
            FROM changes c JOIN events e ON e.seq = c.event_seq
            WHERE c.object_id = $id AND c.kind = $kind
            ORDER BY c.id
            """;
        cmd.Parameters.AddWithValue("$id", objectId);
        cmd.Parameters.AddWithValue("$kind", (int)kind);
        var list = new List<ChangeRecord>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            list.Add(new ChangeRecord
            {
                Kind = (ObjectKind)r.GetInt32(0),
                ObjectId = r.GetString(1),
                Aspect = (ChangeAspect)r.GetInt32(2),
                Key = S(3),
                From = S(4),
                To = S(5),
                FolderId = S(6),
                FolderName = S(7),
                Uid = r.IsDBNull(8) ? null : (uint)r.GetInt64(8),
                Actor = new Actor(S(9), S(10), S(11), S(12)),
                At = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
                EventId = r.GetString(14),
                Ordinal = r.GetInt32(15),
            });
        }
        return list;
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsForObjectAsync(ObjectKind kind, string objectId, int limit, CancellationToken cancellationToken = default)
    {
        var term = kind switch
        {
            ObjectKind.Message => EventTerms.MessageKey + objectId,
            ObjectKind.Folder => EventTerms.Folder + objectId.ToLowerInvariant(),
            ObjectKind.Session => EventTerms.Session + objectId.ToLowerInvariant(),
            ObjectKind.User => EventTerms.User + objectId.ToLowerInvariant(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {EventColumns} FROM event_terms t CROSS JOIN events e ON e.seq = t.seq WHERE t.term = $t ORDER BY t.seq LIMIT $n";
        cmd.Parameters.AddWithValue("$t", term);
        cmd.Parameters.AddWithValue("$n", Math.Clamp(limit, 1, 100_000));
        var list = new List<StoredEvent>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(ReadEvent(r));
        }
        return list;
    }

    public async Task<IReadOnlyList<SessionObject>> GetSessionsForUserAsync(string login, int limit, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT doc, version FROM sessions WHERE user = $u ORDER BY started DESC LIMIT $n";
        cmd.Parameters.AddWithValue("$u", login.ToLowerInvariant());
        cmd.Parameters.AddWithValue("$n", Math.Clamp(limit, 1, 10_000));
        var list = new List<SessionObject>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(StoreJson.ReadSession(r.GetString(0), r.GetInt64(1)));
        }
        return list;
    }

    public async Task<StoreCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        // One read transaction, so the two counts are of the same moment.
        cmd.CommandText = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM quarantine)";
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new StoreCounts(reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<QuarantinePage> GetQuarantineAsync(int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        limit = Math.Clamp(limit, 1, EventSearch.MaxLimit);
        var before = cursor is null ? long.MaxValue : Cursor.Decode(cursor);
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT seq, job_id, at, stage, reason, raw_sha256, raw,
                   stage <> 'parse' AND EXISTS(SELECT 1 FROM events e WHERE e.id = q.job_id)
            FROM quarantine q WHERE seq < $c ORDER BY seq DESC LIMIT $n
            """;
        cmd.Parameters.AddWithValue("$c", before);
        cmd.Parameters.AddWithValue("$n", limit + 1);
        var list = new List<QuarantineItem>();
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(new QuarantineItem
            {
                Sequence = r.GetInt64(0),
                JobId = r.GetString(1),
                At = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)),
                Stage = r.GetString(3),
                Reason = r.GetString(4),
                RawSha256 = r.GetString(5),
                Raw = (byte[])r.GetValue(6),
                EventStored = r.GetInt64(7) != 0,
            });
        }
        string? next = null;
        if (list.Count > limit)
        {
            list.RemoveAt(limit);
            next = Cursor.Encode(list[^1].Sequence);
        }
        return new QuarantinePage(list, next);
    }

    public async Task<PersonRecord?> GetPersonAsync(string personId, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        string displayName;
        long count;
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT p.display_name, (SELECT count(*) FROM events e WHERE e.person_id = p.id) FROM people p WHERE p.id = $id";
            cmd.Parameters.AddWithValue("$id", personId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            displayName = r.GetString(0);
            count = r.GetInt64(1);
        }
        var names = new List<PersonName>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT name, first_seen, last_seen FROM person_names WHERE person_id = $id ORDER BY first_seen, name";
            cmd.Parameters.AddWithValue("$id", personId);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(new PersonName(r.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2))));
            }
        }
        return new PersonRecord(personId, displayName, names, count);
    }

    public async Task<IReadOnlyList<StoredEvent>> GetPendingIdentityAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {EventColumns} FROM events e WHERE e.identity_status = 'pending' ORDER BY e.seq LIMIT $n";
        cmd.Parameters.AddWithValue("$n", Math.Clamp(limit, 1, EventSearch.MaxLimit));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<StoredEvent>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(ReadEvent(r));
        }
        return list;
    }

    // A scan of the folders (few next to events), read where the folder's JSON says pending: no column to keep in step.
    public async Task<IReadOnlyList<FolderObject>> GetFoldersWithPendingSubjectsAsync(int limit, CancellationToken cancellationToken = default)
    {
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            SELECT f.doc, f.version FROM folders f
            WHERE json_extract(f.doc, '$.OwnerIdentity.Status') = 'pending'
               OR EXISTS (SELECT 1 FROM json_each(f.doc, '$.AclSubjects') s WHERE json_extract(s.value, '$.Status') = 'pending')
            ORDER BY f.id LIMIT $n
            """;
        cmd.Parameters.AddWithValue("$n", Math.Clamp(limit, 1, EventSearch.MaxLimit));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<FolderObject>();
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            list.Add(StoreJson.ReadFolder(r.GetString(0), r.GetInt64(1)));
        }
        return list;
    }
}

/// <summary>
/// Opaque keyset cursors: the last sequence of a page, versioned so the format can change. The feed's positions
/// (<see cref="FeedPosition"/>) are the same form under another tag, so neither is taken for the other.
/// </summary>
internal static class Cursor
{
    public static string Encode(long sequence) => Encode("v1", sequence);

    public static long Decode(string cursor) =>
        Decode("v1", cursor, "The cursor is not one this server gave out; start again without it.", "a cursor from a previous page");

    internal static string Encode(string tag, long value)
        => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(tag + ":" + value.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    internal static long Decode(string tag, string text, string error, string expected)
    {
        try
        {
            var b64 = text.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
            var decoded = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(b64));
            if (decoded.StartsWith(tag + ":", StringComparison.Ordinal)
                && long.TryParse(decoded.AsSpan(tag.Length + 1), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }
        }
        catch (FormatException)
        {
        }
        throw new QuerySyntaxException(error, 0, expected);
    }
}
