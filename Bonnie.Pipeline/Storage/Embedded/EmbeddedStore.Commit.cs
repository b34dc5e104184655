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
            var sequences = new Dictionary<string, long>(batch.Events.Count, StringComparer.Ordinal);
            var termRows = new List<(string Term, long Seq)>(batch.Events.Count * 8);
            WriteEvents(batch.Events, PrepareAll(batch.Events, onEveryCore: true), sequences, termRows);
            WriteTerms(termRows);
            WriteChanges(batch.Changes, sequences);
            WriteObjectsAndCommit(tx, batch, batch.Changes);
        }
        catch
        {
            // Rolled back: what the cache learned since may not be what the database holds; start afresh.
            ForgetCache();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>What a batch writes after its events and change records: the objects as the batch left them, then COMMIT.</summary>
    private void WriteObjectsAndCommit(SqliteTransaction tx, StoreBatch batch, IEnumerable<ChangeRecord> changes)
    {
        var newVersions = new List<Action>();
        WriteFolders(batch.Folders.Values, newVersions);
        WriteFolderAliases(batch.Folders.Values, changes);
        WriteMessages(batch.Messages.Values.OrderBy(m => m.Key, StringComparer.Ordinal), newVersions);
        WriteSessions(batch.Sessions.Values.OrderBy(s => s.Id, StringComparer.Ordinal), newVersions);
        WriteUsers(tx, batch.Users.Values);
        WritePeople(tx, batch.People);
        WriteQuarantine(tx, batch.Quarantine);
        // Versions and cache move only once the commit stands.
        CommitWriter(tx, newVersions);
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

    // The writer's hot statements stay prepared for the life of the connection (see NativeStatement).
    private NativeStatement Native(string sql) => _native[sql];

    private const string InsertEvent = """
        INSERT INTO events(seq, id, type, name, ts, received, user, service, session, ip, folder_id, folder, folder_path,
            old_folder_id, old_folder, uids, mids, keys, sender, recipients, flags, subject, size, payload_status, payload_sha256, raw_sha256, raw,
            identity_status, person_id, identity, raw_codec, arrival)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27,
            ?28, ?29, ?30, ?31, ?32)
        """;

    /// <summary>
    /// What an event's rows need that takes no database: the compressed notification, the joined columns, the terms,
    /// the full text. Worked out before the single-threaded inserts, on every core for a batch committed whole, or on
    /// the handlers' thread for a streamed one (which would otherwise wait for the writer).
    /// </summary>
    internal readonly record struct PreparedEvent(
        ReadOnlyMemory<byte> Raw, long Codec, string Type, string? MessageIds, string? MessageKeys, string? From, string? To, string? Flags,
        string? Identity, string[] Terms, bool FullText, string? FullTextSubject, string FullTextFrom, string FullTextTo, string? FullTextBody);

    [ThreadStatic]
    private static HashSet<string>? t_terms;

    internal PreparedEvent Prepare(StoredEvent e)
    {
        var (raw, codec) = _raw.Encode(e.Raw);
        // One set per thread, cleared per event: a new one per event was a million allocations per million events.
        var terms = t_terms ??= new HashSet<string>(StringComparer.Ordinal);
        terms.Clear();
        EventTerms.Collect(e, terms);
        var fullText = e.Subject is not null || e.From.Count > 0 || e.To.Count > 0 || e.BodyText is not null;
        return new PreparedEvent(raw, codec, e.Type.ToString(), Join(e.MessageIds), Join(e.MessageKeys), Join(e.From), Join(e.To), Join(e.Flags),
            e.Identity is null ? null : StoreJson.Write(e.Identity), [.. terms], fullText,
            // The text as its words are indexed: Chinese and Japanese characters each a word (UnspacedScripts), and letters
            // without a plain spelling also under it (FoldedLetters: Łódź also as Lodz).
            Indexed(e.Subject), fullText ? Indexed(string.Join(' ', e.From))! : "", fullText ? Indexed(string.Join(' ', e.To))! : "", Indexed(e.BodyText));
    }

    private static string? Indexed(string? text) => UnspacedScripts.Spaced(FoldedLetters.WithFoldedCopy(text));

    /// <summary>Prepares the events on every core, or (<paramref name="onEveryCore"/> false) on the calling thread.</summary>
    internal PreparedEvent[] PrepareAll(List<StoredEvent> events, bool onEveryCore)
    {
        var prepared = new PreparedEvent[events.Count];
        if (onEveryCore)
        {
            Parallel.For(0, events.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => prepared[i] = Prepare(events[i]));
        }
        else
        {
            // A plain loop: Parallel.For with one degree still pays for its partitioner and delegates per chunk.
            for (var i = 0; i < events.Count; i++)
            {
                prepared[i] = Prepare(events[i]);
            }
        }
        return prepared;
    }

    /// <summary>
    /// Inserts the events and their full text, and adds each event's sequence by job id to <paramref name="sequences"/>
    /// and its term rows to <paramref name="termRows"/> (written by <see cref="WriteTerms"/>, sorted).
    /// </summary>
    private void WriteEvents(List<StoredEvent> events, PreparedEvent[] prepared, Dictionary<string, long> sequences, List<(string Term, long Seq)> termRows)
    {
        if (events.Count == 0)
        {
            return;
        }
        var insert = Native(InsertEvent);
        // Read in the writing transaction (the write lock is held, so no other writer of the store, in this process or
        // another, gives out the same numbers); it sees this transaction's own rows, so each chunk of a streamed batch
        // goes on from the last.
        var arrival = Native($"SELECT max({Arrival}) FROM events").ReadInt64() ?? 0;
        var fts = Native("INSERT INTO events_fts(rowid, subject, sender, recipients, body) VALUES (?1, ?2, ?3, ?4, ?5)");
        var fields = Native("INSERT INTO fields_fts(rowid, subject, sender, recipients) VALUES (?1, ?2, ?3, ?4)");
        string? lastTextType = null;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            var p = prepared[i];
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
                    insert.Bind(1, seq).Bind(2, e.Id).Bind(3, p.Type).Bind(4, e.Name).Bind(5, ms)
                        .Bind(6, e.ReceivedAt.ToUnixTimeMilliseconds()).Bind(7, e.User).Bind(8, e.Service).Bind(9, e.SessionId).Bind(10, e.ClientIp)
                        .Bind(11, e.FolderId).Bind(12, e.FolderName).Bind(13, e.FolderPath).Bind(14, e.OldFolderId).Bind(15, e.OldFolderName)
                        .Bind(16, e.Uids).Bind(17, p.MessageIds).Bind(18, p.MessageKeys).Bind(19, p.From).Bind(20, p.To)
                        .Bind(21, p.Flags).Bind(22, e.Subject).Bind(23, e.Size).Bind(24, (long)e.PayloadStatus).Bind(25, e.PayloadSha256)
                        .Bind(26, e.RawSha256).Bind(27, p.Raw.Span).Bind(28, e.Identity?.Status).Bind(29, e.Identity?.PersonId)
                        .Bind(30, p.Identity).Bind(31, p.Codec).Bind(32, arrival + 1)
                        .Execute();
                    arrival++;
                    break;
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19 && ex.Message.Contains("events.id", StringComparison.Ordinal))
                {
                    throw new StoreConflictException($"The event of job {e.Id} is already stored; nothing of this batch was written.", ex);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19 && ex.Message.Contains("events.seq", StringComparison.Ordinal))
                {
                    seq = NextFreeSequence(lo, hi);
                    hi = seq + SequencePerMillisecond;
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    // Any other constraint (the feed's position, say, taken by a writer that does not give them) is not
                    // a clash of times that another sequence would solve: retrying would spin under the write lock.
                    throw new StoreConflictException($"The event of job {e.Id} could not be stored ({ex.Message}); nothing of this batch was written.", ex);
                }
            }
            sequences[e.Id] = seq;
            foreach (var t in p.Terms)
            {
                termRows.Add((t, seq));
            }
            if (p.FullText)
            {
                fts.Bind(1, seq).Bind(2, p.FullTextSubject).Bind(3, p.FullTextFrom).Bind(4, p.FullTextTo).Bind(5, p.FullTextBody).Execute();
                if (e.Subject is not null || e.From.Count > 0 || e.To.Count > 0)
                {
                    fields.Bind(1, seq).Bind(2, p.FullTextSubject).Bind(3, p.FullTextFrom).Bind(4, p.FullTextTo).Execute();
                }
                // In the same transaction as the text itself; written when the type differs from the last event with
                // text, which in practice is a few times per batch (deliveries), not per event.
                if (!string.Equals(lastTextType, p.Type, StringComparison.Ordinal))
                {
                    Native("INSERT OR IGNORE INTO text_types(type) VALUES (?1)").Bind(1, p.Type).Execute();
                    lastTextType = p.Type;
                }
            }
        }
    }

    /// <summary>An event's place in the order events were stored in (<see cref="Schema"/>, the feed).</summary>
    internal const string Arrival = "coalesce(arrival, seq)";

    private long NextFreeSequence(long lo, long hi)
    {
        return Native("SELECT max(seq) FROM events WHERE seq >= ?1 AND seq < ?2").Bind(1, lo).Bind(2, hi).ReadInt64() + 1 ?? lo;
    }

    // The term index is a B-tree keyed by (term, seq): rows inserted in event order land all over it, touching a
    // different page for nearly every row. Sorted, each term's rows of the batch go to the same (usually last) page.
    private void WriteTerms(List<(string Term, long Seq)> rows)
    {
        rows.Sort(static (a, b) =>
        {
            var c = string.CompareOrdinal(a.Term, b.Term);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        });
        var insert = Native("INSERT OR IGNORE INTO event_terms(term, seq) VALUES (?1, ?2)");
        foreach (var (term, seq) in rows)
        {
            insert.Bind(1, term).Bind(2, seq).Execute();
        }
    }

    private static string? Join(IReadOnlyList<string> values) => values.Count == 0 ? null : string.Join('\n', values);

    private void WriteFolders(IEnumerable<FolderObject> folders, List<Action> newVersions)
    {
        var insert = Native("INSERT INTO folders(id, name_lower, present, version, doc) VALUES (?1, ?2, ?3, 1, ?4)");
        var update = Native("UPDATE folders SET name_lower = ?1, present = ?2, version = version + 1, doc = ?3 WHERE id = ?4 AND version = ?5");
        foreach (var f in folders)
        {
            var doc = StoreJson.Write(f);
            if (f.Version == 0)
            {
                try
                {
                    insert.Bind(1, f.Id).Bind(2, f.Name.ToLowerInvariant()).Bind(3, f.Exists ? 1 : 0).Bind(4, doc).Execute();
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Folder {f.Id} was created by another writer.", ex);
                }
            }
            else if (update.Bind(1, f.Name.ToLowerInvariant()).Bind(2, f.Exists ? 1 : 0).Bind(3, doc).Bind(4, f.Id).Bind(5, f.Version).Execute() != 1)
            {
                throw new StoreConflictException($"Folder {f.Id} was changed by another writer.");
            }
            var next = f.Version + 1;
            newVersions.Add(() =>
            {
                f.Version = next;
                _cache.Put(f);
            });
        }
    }

    // Every name a folder ever had finds it (folder:Archive, folder:INBOX/Archive, folder:user/alice/Archive@example.org):
    // its current name and both sides of each rename in the batch.
    internal static bool IsRename(ChangeRecord c) => c.Kind == ObjectKind.Folder && c.Aspect == ChangeAspect.Name;

    private void WriteFolderAliases(IEnumerable<FolderObject> folders, IEnumerable<ChangeRecord> changes)
    {
        var alias = Native("INSERT OR IGNORE INTO folder_aliases(alias, folder_id) VALUES (?1, ?2)");
        var names = folders.Select(f => (f.Id, (string?)f.Name))
            .Concat(changes.Where(IsRename)
                .SelectMany(c => new[] { (c.ObjectId, c.From), (c.ObjectId, c.To) }))
            .Where(n => n.Item2 is not null)
            .Distinct();
        foreach (var (id, name) in names)
        {
            foreach (var a in FolderAliases.Of(id, name!))
            {
                alias.Bind(1, a).Bind(2, id).Execute();
            }
        }
        foreach (var (a, id) in FolderAliases.OfStandIns(folders))
        {
            alias.Bind(1, a).Bind(2, id).Execute();
        }
    }

    private void WriteMessages(IEnumerable<MessageObject> messages, List<Action> newVersions)
    {
        var insert = Native("INSERT INTO messages(key, version, doc) VALUES (?1, 1, ?2)");
        var update = Native("UPDATE messages SET version = version + 1, doc = ?1 WHERE key = ?2 AND version = ?3");
        var at = Native("INSERT OR REPLACE INTO message_at(folder_id, uid, key) VALUES (?1, ?2, ?3)");
        // A location that ended keeps its row: a UID is never given twice in a folder, and a late event (a MOVE
        // processed after its own expunge) must still find the message that was there.
        var gone = Native("INSERT OR IGNORE INTO message_at(folder_id, uid, key) VALUES (?1, ?2, ?3)");
        foreach (var m in messages)
        {
            var doc = StoreJson.Write(m);
            if (m.Version == 0)
            {
                try
                {
                    insert.Bind(1, m.Key).Bind(2, doc).Execute();
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Message {m.Key} was created by another writer.", ex);
                }
            }
            else if (update.Bind(1, doc).Bind(2, m.Key).Bind(3, m.Version).Execute() != 1)
            {
                throw new StoreConflictException($"Message {m.Key} was changed by another writer.");
            }
            foreach (var l in m.Locations)
            {
                (l.Until is null ? at : gone).Bind(1, l.FolderId).Bind(2, (long)l.Uid).Bind(3, m.Key).Execute();
            }
            var next = m.Version + 1;
            newVersions.Add(() =>
            {
                m.Version = next;
                _cache.Put(m);
            });
        }
    }

    private void WriteSessions(IEnumerable<SessionObject> sessions, List<Action> newVersions)
    {
        var insert = Native("INSERT INTO sessions(id, user, started, version, doc) VALUES (?1, ?2, ?3, 1, ?4)");
        var update = Native("UPDATE sessions SET user = ?1, started = ?2, version = version + 1, doc = ?3 WHERE id = ?4 AND version = ?5");
        foreach (var s in sessions)
        {
            var doc = StoreJson.Write(s);
            var started = (s.LoginAt ?? s.LogoutAt)?.ToUnixTimeMilliseconds();
            var user = s.User?.ToLowerInvariant();
            if (s.Version == 0)
            {
                try
                {
                    insert.Bind(1, s.Id).Bind(2, user).Bind(3, started).Bind(4, doc).Execute();
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
                {
                    throw new StoreConflictException($"Session {s.Id} was created by another writer.", ex);
                }
            }
            else if (update.Bind(1, user).Bind(2, started).Bind(3, doc).Bind(4, s.Id).Bind(5, s.Version).Execute() != 1)
            {
                throw new StoreConflictException($"Session {s.Id} was changed by another writer.");
            }
            var next = s.Version + 1;
            newVersions.Add(() =>
            {
                s.Version = next;
                _cache.Put(s);
            });
        }
    }

    private void WriteChanges(List<ChangeRecord> changes, Dictionary<string, long> sequences)
    {
        var insert = Native("""
            INSERT INTO changes(kind, object_id, aspect, key, from_value, to_value, folder_id, folder_name, uid, user, session, ip, service, at, event_seq, ordinal)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
            """);
        foreach (var c in changes)
        {
            if (!sequences.TryGetValue(c.EventId, out var seq))
            {
                throw new InvalidOperationException($"A change refers to event {c.EventId}, which is not in the same batch.");
            }
            insert.Bind(1, (long)c.Kind).Bind(2, c.ObjectId).Bind(3, (long)c.Aspect).Bind(4, c.Key).Bind(5, c.From).Bind(6, c.To)
                .Bind(7, c.FolderId).Bind(8, c.FolderName).Bind(9, c.Uid is { } u ? (long)u : null)
                .Bind(10, c.Actor.User).Bind(11, c.Actor.SessionId).Bind(12, c.Actor.ClientIp).Bind(13, c.Actor.Service)
                .Bind(14, c.At.ToUnixTimeMilliseconds()).Bind(15, seq).Bind(16, (long)c.Ordinal)
                .Execute();
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
            using (var term = Command(tx, "INSERT OR IGNORE INTO event_terms(term, seq) SELECT $t, seq FROM events WHERE id = $id", "$t", "$id"))
            using (var again = Command(tx, $"UPDATE events SET arrival = (SELECT max({Arrival}) FROM events) + 1 WHERE id = $id", "$id"))
            {
                foreach (var u in updates)
                {
                    Run(update, u.Identity.Status, u.Identity.PersonId, StoreJson.Write(u.Identity), u.EventId);
                    // Only pending events are re-resolved, so an event gains its person once and never changes it.
                    if (u.Identity.PersonId is { Length: > 0 } person)
                    {
                        Run(term, EventTerms.Person + person.ToLowerInvariant(), u.EventId);
                        // It now matches user: under every name of its person: it comes again in the feed, where a
                        // follower of user:alice, who passed it while it was pending, finds it (found by a review).
                        Run(again, u.EventId);
                    }
                }
            }
            WritePeople(tx, people);
            CommitWriter(tx, null);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void WriteQuarantine(SqliteTransaction tx, List<QuarantineItem> items)
    {
        // A processing failure replaces an earlier failure's reason and time (the one an officer acts on is the last);
        // an unreadable notification's record, and any record at all for the broker's, stand (QuarantineStages).
        using var insert = Command(tx, """
            INSERT INTO quarantine(job_id, at, stage, reason, raw_sha256, raw) VALUES ($j, $a, $s, $r, $h, $raw)
            ON CONFLICT(job_id) DO UPDATE SET at = excluded.at, stage = excluded.stage, reason = excluded.reason
            WHERE excluded.stage = 'failed' AND quarantine.stage <> 'parse'
            """,
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
    /// <summary>The person the event's user resolved to (rename-proof id): <c>user:</c> finds them under every name.</summary>
    public const string Person = "p:";

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
        if (e.Identity?.PersonId is { Length: > 0 } person)
        {
            terms.Add(Person + person.ToLowerInvariant());
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

