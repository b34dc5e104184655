using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    public async Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
    {
        EnsureInitialized();
        if (batch.IsEmpty)
        {
            return;
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var tx = _writer.BeginTransaction();
            var newVersions = new List<Action>();
            var sequences = WriteEvents(tx, batch.Events);
            WriteFolders(tx, batch.Folders.Values, newVersions);
            WriteFolderAliases(tx, batch);
            WriteMessages(tx, batch.Messages.Values.OrderBy(m => m.Key, StringComparer.Ordinal), newVersions);
            WriteSessions(tx, batch.Sessions.Values.OrderBy(s => s.Id, StringComparer.Ordinal), newVersions);
            WriteChanges(tx, batch.Changes, sequences);
            WriteUsers(tx, batch.Users.Values);
            WritePeople(tx, batch.People);
            WriteQuarantine(tx, batch.Quarantine);
            tx.Commit();
            foreach (var apply in newVersions)
            {
                apply();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private SqliteCommand Command(SqliteTransaction tx, string sql, params string[] parameters)
    {
        var cmd = _writer.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new SqliteParameter(p, null));
        }
        return cmd;
    }

    private static void Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        cmd.ExecuteNonQuery();
    }

    private Dictionary<string, long> WriteEvents(SqliteTransaction tx, List<StoredEvent> events)
    {
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        if (events.Count == 0)
        {
            return sequences;
        }
        using var maxSeq = Command(tx, "SELECT max(seq) FROM events WHERE seq >= $lo AND seq < $hi", "$lo", "$hi");
        using var insert = Command(tx, """
            INSERT INTO events(seq, id, type, name, ts, received, user, service, session, ip, folder_id, folder, folder_path,
                old_folder_id, old_folder, uids, mids, keys, sender, recipients, flags, subject, size, payload_status, payload_sha256, raw_sha256, raw,
                identity_status, person_id, identity)
            VALUES ($seq, $id, $type, $name, $ts, $received, $user, $service, $session, $ip, $folder_id, $folder, $folder_path,
                $old_folder_id, $old_folder, $uids, $mids, $keys, $sender, $recipients, $flags, $subject, $size, $payload_status, $payload_sha256, $raw_sha256, $raw,
                $identity_status, $person_id, $identity)
            """,
            "$seq", "$id", "$type", "$name", "$ts", "$received", "$user", "$service", "$session", "$ip", "$folder_id", "$folder", "$folder_path",
            "$old_folder_id", "$old_folder", "$uids", "$mids", "$keys", "$sender", "$recipients", "$flags", "$subject", "$size", "$payload_status",
            "$payload_sha256", "$raw_sha256", "$raw", "$identity_status", "$person_id", "$identity");
        var termRows = new List<(string Term, long Seq)>(events.Count * 8);
        using var fts = Command(tx, "INSERT INTO events_fts(rowid, subject, sender, recipients, body) VALUES ($s, $a, $b, $c, $d)", "$s", "$a", "$b", "$c", "$d");
        var terms = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (sequences.ContainsKey(e.Id))
            {
                throw new StoreConflictException($"The event of job {e.Id} is twice in the batch; nothing of this batch was written.");
            }
            var ms = e.Timestamp.ToUnixTimeMilliseconds();
            var lo = ms * SequencePerMillisecond;
            var seq = lo;
            var hi = lo + SequencePerMillisecond;
            // The first event of its millisecond takes the slot's first sequence; a second one asks for the next free.
            // More than 4096 in one millisecond spill into the next: order is kept, time is off by < 1 ms.
            while (true)
            {
                try
                {
                    Run(insert, seq, e.Id, e.Type.ToString(), e.Name, ms, e.ReceivedAt.ToUnixTimeMilliseconds(), e.User, e.Service, e.SessionId, e.ClientIp,
                        e.FolderId, e.FolderName, e.FolderPath, e.OldFolderId, e.OldFolderName, e.Uids, Join(e.MessageIds), Join(e.MessageKeys),
                        Join(e.From), Join(e.To), Join(e.Flags), e.Subject, e.Size, (int)e.PayloadStatus, e.PayloadSha256, e.RawSha256, e.Raw.ToArray(),
                        e.Identity?.Status, e.Identity?.PersonId, e.Identity is null ? null : StoreJson.Write(e.Identity));
                    break;
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19 && ex.Message.Contains("events.id", StringComparison.Ordinal))
                {
                    throw new StoreConflictException($"The event of job {e.Id} is already stored; nothing of this batch was written.", ex);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    maxSeq.Parameters[0].Value = lo;
                    maxSeq.Parameters[1].Value = hi;
                    seq = maxSeq.ExecuteScalar() is long last ? last + 1 : lo;
                    hi = seq + SequencePerMillisecond;
                }
            }
            sequences[e.Id] = seq;
            terms.Clear();
            EventTerms.Collect(e, terms);
            foreach (var t in terms)
            {
                termRows.Add((t, seq));
            }
            if (e.Subject is not null || e.From.Count > 0 || e.To.Count > 0 || e.BodyText is not null)
            {
                Run(fts, seq, e.Subject, string.Join(' ', e.From), string.Join(' ', e.To), e.BodyText);
            }
        }
        WriteTerms(tx, termRows);
        return sequences;
    }

    // The term index is a B-tree keyed by (term, seq): rows inserted in event order land all over it, touching a
    // different page for nearly every row. Sorted, each term's rows of the batch go to the same (usually last) page.
    // The rows travel as one JSON array bound once: one statement for the batch instead of one per row.
    private void WriteTerms(SqliteTransaction tx, List<(string Term, long Seq)> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }
        rows.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Term, b.Term);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        });
        var buffer = new ArrayBufferWriter<byte>(rows.Count * 48);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (t, seq) in rows)
            {
                json.WriteStartArray();
                json.WriteStringValue(t);
                json.WriteNumberValue(seq);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        using var insert = Command(tx, """
            INSERT OR IGNORE INTO event_terms(term, seq)
            SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($rows)
            """, "$rows");
        Run(insert, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string? Join(IReadOnlyList<string> values) => values.Count == 0 ? null : string.Join('\n', values);

    private void WriteFolders(SqliteTransaction tx, IEnumerable<FolderObject> folders, List<Action> newVersions)
    {
        using var insert = Command(tx, "INSERT INTO folders(id, name_lower, present, version, doc) VALUES ($id, $n, $p, 1, $doc)", "$id", "$n", "$p", "$doc");
        using var update = Command(tx, "UPDATE folders SET name_lower = $n, present = $p, version = version + 1, doc = $doc WHERE id = $id AND version = $v",
            "$n", "$p", "$doc", "$id", "$v");
        foreach (var f in folders)
        {
            var doc = StoreJson.Write(f);
            if (f.Version == 0)
            {
                try
                {
                    Run(insert, f.Id, f.Name.ToLowerInvariant(), f.Exists ? 1 : 0, doc);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Folder {f.Id} was created by another writer.", ex);
                }
            }
            else
            {
                update.Parameters[0].Value = f.Name.ToLowerInvariant();
                update.Parameters[1].Value = f.Exists ? 1 : 0;
                update.Parameters[2].Value = doc;
                update.Parameters[3].Value = f.Id;
                update.Parameters[4].Value = f.Version;
                if (update.ExecuteNonQuery() != 1)
                {
                    throw new StoreConflictException($"Folder {f.Id} was changed by another writer.");
                }
            }
            var next = f.Version + 1;
            newVersions.Add(() => f.Version = next);
        }
    }

    // Every name a folder ever had finds it (folder:Archive, folder:INBOX/Archive, folder:user/alice/Archive@example.org):
    // its current name and both sides of each rename in the batch.
    private void WriteFolderAliases(SqliteTransaction tx, StoreBatch batch)
    {
        using var alias = Command(tx, "INSERT OR IGNORE INTO folder_aliases(alias, folder_id) VALUES ($a, $f)", "$a", "$f");
        var names = batch.Folders.Values.Select(f => (f.Id, (string?)f.Name))
            .Concat(batch.Changes.Where(c => c.Kind == ObjectKind.Folder && c.Aspect == ChangeAspect.Name)
                .SelectMany(c => new[] { (c.ObjectId, c.From), (c.ObjectId, c.To) }))
            .Where(n => n.Item2 is not null)
            .Distinct();
        foreach (var (id, name) in names)
        {
            foreach (var a in FolderAliases.Of(id, name!))
            {
                Run(alias, a, id);
            }
        }
    }

    private void WriteMessages(SqliteTransaction tx, IEnumerable<MessageObject> messages, List<Action> newVersions)
    {
        using var insert = Command(tx, "INSERT INTO messages(key, version, doc) VALUES ($k, 1, $doc)", "$k", "$doc");
        using var update = Command(tx, "UPDATE messages SET version = version + 1, doc = $doc WHERE key = $k AND version = $v", "$doc", "$k", "$v");
        using var at = Command(tx, "INSERT OR REPLACE INTO message_at(folder_id, uid, key) VALUES ($f, $u, $k)", "$f", "$u", "$k");
        using var gone = Command(tx, "DELETE FROM message_at WHERE folder_id = $f AND uid = $u AND key = $k", "$f", "$u", "$k");
        foreach (var m in messages)
        {
            var doc = StoreJson.Write(m);
            if (m.Version == 0)
            {
                try
                {
                    Run(insert, m.Key, doc);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Message {m.Key} was created by another writer.", ex);
                }
            }
            else
            {
                update.Parameters[0].Value = doc;
                update.Parameters[1].Value = m.Key;
                update.Parameters[2].Value = m.Version;
                if (update.ExecuteNonQuery() != 1)
                {
                    throw new StoreConflictException($"Message {m.Key} was changed by another writer.");
                }
            }
            foreach (var l in m.Locations)
            {
                Run(l.Until is null ? at : gone, l.FolderId, (long)l.Uid, m.Key);
            }
            var next = m.Version + 1;
            newVersions.Add(() => m.Version = next);
        }
    }

    private void WriteSessions(SqliteTransaction tx, IEnumerable<SessionObject> sessions, List<Action> newVersions)
    {
        using var insert = Command(tx, "INSERT INTO sessions(id, user, started, version, doc) VALUES ($id, $u, $s, 1, $doc)", "$id", "$u", "$s", "$doc");
        using var update = Command(tx, "UPDATE sessions SET user = $u, started = $s, version = version + 1, doc = $doc WHERE id = $id AND version = $v",
            "$u", "$s", "$doc", "$id", "$v");
        foreach (var s in sessions)
        {
            var doc = StoreJson.Write(s);
            var started = (s.LoginAt ?? s.LogoutAt)?.ToUnixTimeMilliseconds();
            var user = s.User?.ToLowerInvariant();
            if (s.Version == 0)
            {
                try
                {
                    Run(insert, s.Id, user, started, doc);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Session {s.Id} was created by another writer.", ex);
                }
            }
            else
            {
                update.Parameters[0].Value = (object?)user ?? DBNull.Value;
                update.Parameters[1].Value = (object?)started ?? DBNull.Value;
                update.Parameters[2].Value = doc;
                update.Parameters[3].Value = s.Id;
                update.Parameters[4].Value = s.Version;
                if (update.ExecuteNonQuery() != 1)
                {
                    throw new StoreConflictException($"Session {s.Id} was changed by another writer.");
                }
            }
            var next = s.Version + 1;
            newVersions.Add(() => s.Version = next);
        }
    }

    private void WriteChanges(SqliteTransaction tx, List<ChangeRecord> changes, Dictionary<string, long> sequences)
    {
        using var insert = Command(tx, """
            INSERT INTO changes(kind, object_id, aspect, key, from_value, to_value, folder_id, folder_name, uid, user, session, ip, service, at, event_seq, ordinal)
            VALUES ($kind, $oid, $aspect, $key, $from, $to, $fid, $fname, $uid, $user, $session, $ip, $service, $at, $seq, $ord)
            """, "$kind", "$oid", "$aspect", "$key", "$from", "$to", "$fid", "$fname", "$uid", "$user", "$session", "$ip", "$service", "$at", "$seq", "$ord");
        foreach (var c in changes)
        {
            if (!sequences.TryGetValue(c.EventId, out var seq))
            {
                throw new InvalidOperationException($"A change refers to event {c.EventId}, which is not in the same batch.");
            }
            Run(insert, (int)c.Kind, c.ObjectId, (int)c.Aspect, c.Key, c.From, c.To, c.FolderId, c.FolderName, c.Uid is { } u ? (long)u : null,
                c.Actor.User, c.Actor.SessionId, c.Actor.ClientIp, c.Actor.Service, c.At.ToUnixTimeMilliseconds(), seq, c.Ordinal);
        }
    }

    private void WriteUsers(SqliteTransaction tx, IEnumerable<UserObject> users)
    {
        using var insert = Command(tx, "INSERT OR IGNORE INTO users(login, first_seen) VALUES ($l, $t)", "$l", "$t");
        foreach (var u in users)
        {
            Run(insert, u.Login.ToLowerInvariant(), u.FirstSeen.ToUnixTimeMilliseconds());
        }
    }

    private void WritePeople(SqliteTransaction tx, IEnumerable<PersonSighting> people)
    {
        using var person = Command(tx, "INSERT INTO people(id, display_name) VALUES ($id, $n) ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name",
            "$id", "$n");
        using var name = Command(tx, """
            INSERT INTO person_names(name, person_id, first_seen, last_seen) VALUES ($n, $id, $t, $t)
            ON CONFLICT(name, person_id) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
            """, "$n", "$id", "$t");
        foreach (var p in people)
        {
            Run(person, p.PersonId, p.DisplayName);
            foreach (var n in p.Names.Select(n => n.ToLowerInvariant()).Distinct(StringComparer.Ordinal))
            {
                Run(name, n, p.PersonId, p.At.ToUnixTimeMilliseconds());
            }
        }
    }

    public async Task UpdateIdentityAsync(IReadOnlyList<IdentityUpdate> updates, IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken = default)
    {
        EnsureInitialized();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var tx = _writer.BeginTransaction();
            using (var update = Command(tx, "UPDATE events SET identity_status = $s, person_id = $p, identity = $i WHERE id = $id", "$s", "$p", "$i", "$id"))
            {
                foreach (var u in updates)
                {
                    Run(update, u.Identity.Status, u.Identity.PersonId, StoreJson.Write(u.Identity), u.EventId);
                }
            }
            WritePeople(tx, people);
            tx.Commit();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteQuarantine(SqliteTransaction tx, List<QuarantineItem> items)
    {
        using var insert = Command(tx, "INSERT OR IGNORE INTO quarantine(job_id, at, stage, reason, raw_sha256, raw) VALUES ($j, $a, $s, $r, $h, $raw)",
            "$j", "$a", "$s", "$r", "$h", "$raw");
        foreach (var q in items)
        {
            var sha = q.RawSha256.Length > 0 ? q.RawSha256 : Convert.ToHexStringLower(SHA256.HashData(q.Raw.Span));
            Run(insert, q.JobId, q.At.ToUnixTimeMilliseconds(), q.Stage, q.Reason, sha, q.Raw.ToArray());
        }
    }
}

/// <summary>The keyword terms an event is found by: <c>prefix:value</c>, lower-cased as the query parser normalises them.</summary>
internal static class EventTerms
{
    public const string Type = "e:";
    public const string User = "u:";
    public const string Folder = "f:";
    public const string MessageId = "m:";
    public const string MessageKey = "k:";
    public const string Session = "s:";
    public const string Ip = "i:";
    public const string Flag = "g:";

    public static string For(KeywordField field) => field switch
    {
        KeywordField.Event => Type,
        KeywordField.User => User,
        KeywordField.Folder => Folder,
        KeywordField.MessageId => MessageId,
        KeywordField.Session => Session,
        KeywordField.Ip => Ip,
        KeywordField.Flag => Flag,
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    public static string TypeTerm(Bonnie.Shared.Events.EventType type) => Type + type.ToString().ToLowerInvariant();

    public static void Collect(StoredEvent e, HashSet<string> terms)
    {
        terms.Add(TypeTerm(e.Type));
        Add(terms, User, e.User, KeywordField.User);
        Add(terms, Session, e.SessionId, KeywordField.Session);
        Add(terms, Ip, e.ClientIp, KeywordField.Ip);
        // Folders by id only; names are resolved to ids at query time (folder_aliases), so a rename costs nothing here.
        AddFolder(terms, e.FolderId);
        AddFolder(terms, e.OldFolderId);
        foreach (var m in e.MessageIds)
        {
            Add(terms, MessageId, m, KeywordField.MessageId);
        }
        foreach (var k in e.MessageKeys)
        {
            terms.Add(MessageKey + k);
        }
        foreach (var f in e.Flags)
        {
            Add(terms, Flag, f, KeywordField.Flag);
        }
    }

    private static void AddFolder(HashSet<string> terms, string? id)
    {
        if (id is not null)
        {
            terms.Add(Folder + id.ToLowerInvariant());
        }
    }

    private static void Add(HashSet<string> terms, string prefix, string? value, KeywordField field)
    {
        if (!string.IsNullOrEmpty(value))
        {
            terms.Add(prefix + QueryParser.NormalizeKeyword(field, value));
        }
    }
}

