using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>Creates and migrates the embedded store's tables; each step runs once, recorded in <c>schema_version</c>.</summary>
internal static class Schema
{
    // Append only: a deployed database has run every step before its version.
    private static readonly string[] Steps =
    [
        """
        CREATE TABLE events(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            name TEXT NOT NULL,
            ts INTEGER NOT NULL,
            received INTEGER NOT NULL,
            user TEXT, service TEXT, session TEXT, ip TEXT,
            folder_id TEXT, folder TEXT, folder_path TEXT, old_folder_id TEXT, old_folder TEXT,
            uids TEXT, mids TEXT, keys TEXT, sender TEXT, recipients TEXT, flags TEXT, subject TEXT,
            size INTEGER, payload_status INTEGER NOT NULL, payload_sha256 TEXT,
            raw_sha256 TEXT NOT NULL, raw BLOB NOT NULL);
        CREATE TABLE event_terms(term TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(term, seq)) WITHOUT ROWID;
        CREATE VIRTUAL TABLE events_fts USING fts5(subject, sender, recipients, body, content='', tokenize='unicode61 remove_diacritics 2');
        CREATE TABLE folders(id TEXT PRIMARY KEY, name_lower TEXT NOT NULL, present INTEGER NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX folders_by_name ON folders(name_lower) WHERE present = 1;
        CREATE TABLE folder_aliases(alias TEXT NOT NULL, folder_id TEXT NOT NULL, PRIMARY KEY(alias, folder_id)) WITHOUT ROWID;
        CREATE TABLE messages(key TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE message_at(folder_id TEXT NOT NULL, uid INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY(folder_id, uid)) WITHOUT ROWID;
        CREATE TABLE changes(
            id INTEGER PRIMARY KEY,
            kind INTEGER NOT NULL, object_id TEXT NOT NULL, aspect INTEGER NOT NULL, key TEXT, from_value TEXT, to_value TEXT,
            folder_id TEXT, folder_name TEXT, uid INTEGER,
            user TEXT, session TEXT, ip TEXT, service TEXT,
            at INTEGER NOT NULL, event_seq INTEGER NOT NULL, ordinal INTEGER NOT NULL);
        CREATE INDEX changes_by_object ON changes(object_id, kind);
        CREATE TABLE sessions(id TEXT PRIMARY KEY, user TEXT, started INTEGER, version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
        CREATE INDEX sessions_by_user ON sessions(user, started);
        CREATE TABLE users(login TEXT PRIMARY KEY, first_seen INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE quarantine(
            seq INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL,
            raw_sha256 TEXT NOT NULL, raw BLOB NOT NULL);
        """,
        // Identity: each event's person snapshot (JSON), and every name each person carried.
        """
        ALTER TABLE events ADD COLUMN identity_status TEXT;
        ALTER TABLE events ADD COLUMN person_id TEXT;
        ALTER TABLE events ADD COLUMN identity TEXT;
        CREATE INDEX events_by_person ON events(person_id) WHERE person_id IS NOT NULL;
        CREATE INDEX events_pending ON events(seq) WHERE identity_status = 'pending';
        CREATE TABLE people(id TEXT PRIMARY KEY, display_name TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE person_names(
            name TEXT NOT NULL, person_id TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
            PRIMARY KEY(name, person_id)) WITHOUT ROWID;
        CREATE INDEX person_names_by_person ON person_names(person_id);
        """,
        // A term per event for its person, so user:<any name they carried> is walked from the term index.
        """
        INSERT OR IGNORE INTO event_terms(term, seq) SELECT 'p:' || lower(person_id), seq FROM events WHERE person_id IS NOT NULL;
        """,
        // Notifications compressed against a dictionary the store keeps (RawCodec); rows stored before stay as received.
        """
        CREATE TABLE raw_dictionaries(id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, bytes BLOB NOT NULL);
        ALTER TABLE events ADD COLUMN raw_codec INTEGER NOT NULL DEFAULT 0;
        """,
        // What searches filter and count each candidate event by (facets too), without reading its row (see
        // EmbeddedStore.Search). In sequence order, so ingest only ever appends to it.
        """
        CREATE INDEX events_narrow ON events(seq, type, ip, user, folder_id, old_folder_id, person_id, folder, ts);
        """,
        // Logins by client address, for "who signed in from this address or network": Logins only (a few percent of
        // the events), so ingest pays little for it; every event of a session carries the address too.
        """
        CREATE INDEX events_logins_by_address ON events(lower(ip)) WHERE type = 'Login';
        """,
        // The subject and addresses again, without the bodies: a subject:, from: or to: term reads its words' lists
        // here, not through every body that holds them (SqlQueryTranslator.FtsTable). Filled from the events' own
        // columns, which hold exactly what events_fts was given (addresses one per line instead of space-separated:
        // the same tokens). And the event types that ever carried text, so excluding a word skips the others.
        """
        CREATE VIRTUAL TABLE fields_fts USING fts5(subject, sender, recipients, content='', tokenize='unicode61 remove_diacritics 2');
        INSERT INTO fields_fts(rowid, subject, sender, recipients)
            SELECT seq, subject, sender, recipients FROM events WHERE subject IS NOT NULL OR sender IS NOT NULL OR recipients IS NOT NULL;
        CREATE TABLE text_types(type TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT INTO text_types
            SELECT DISTINCT type FROM events
            WHERE subject IS NOT NULL OR sender IS NOT NULL OR recipients IS NOT NULL OR payload_sha256 IS NOT NULL;
        """,
        // The order events were stored in (the feed, ReadFeedAsync): a number one higher than any before, given in the
        // writing transaction. Events stored before this step have none; their place is their sequence, which is below
        // every number given after it, so the index is built without rewriting a row.
        """
        ALTER TABLE events ADD COLUMN arrival INTEGER;
        CREATE UNIQUE INDEX events_arrival ON events(coalesce(arrival, seq));
        """,
        // Names folder: finds that the aliases of earlier versions left out (FolderAliases): the path the owner sees under
        // the alternate namespace (projects/contracts for inbox/projects/contracts), and a folder first known by name
        // only found by the real folder's id as well.
        """
        INSERT OR IGNORE INTO folder_aliases(alias, folder_id) SELECT substr(alias, 7), folder_id FROM folder_aliases WHERE alias LIKE 'inbox/%';
        INSERT OR IGNORE INTO folder_aliases(alias, folder_id)
            SELECT lower(json_extract(doc, '$.SameAs')), id FROM folders WHERE json_extract(doc, '$.SameAs') IS NOT NULL;
        """,
        // The flag a read or a trash sets, which Cyrus does not name (StoreJobProcessor.FlagsOf), on the events stored
        // before: flag:\Seen and flag:\Deleted find them, and their pages say so.
        """
        INSERT OR IGNORE INTO event_terms(term, seq) SELECT 'g:\seen', seq FROM events WHERE type = 'MessageRead';
        INSERT OR IGNORE INTO event_terms(term, seq) SELECT 'g:\deleted', seq FROM events WHERE type = 'MessageTrash';
        UPDATE events SET flags = '\Seen' WHERE type = 'MessageRead' AND flags IS NULL;
        UPDATE events SET flags = '\Deleted' WHERE type = 'MessageTrash' AND flags IS NULL;
        """,
    ];

    public static int CurrentVersion => Steps.Length;

    public static void Migrate(SqliteConnection connection) => Migrate(connection, Steps.Length);

    /// <summary>Migrates up to <paramref name="target"/> only: tests build the database an older Bonnie left.</summary>
    internal static void Migrate(SqliteConnection connection, int target)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL, applied INTEGER NOT NULL)";
            create.ExecuteNonQuery();
        }
        long version;
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
            version = (long)read.ExecuteScalar()!;
        }
        if (version > Steps.Length)
        {
            throw new InvalidOperationException(
                $"The store's schema is version {version}, newer than this Bonnie knows ({Steps.Length}). Upgrade Bonnie or point Bonnie:Store:Directory elsewhere.");
        }
        for (var step = (int)version; step < Math.Min(target, Steps.Length); step++)
        {
            using var tx = connection.BeginTransaction();
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Steps[step];
                cmd.ExecuteNonQuery();
            }
            using (var mark = connection.CreateCommand())
            {
                mark.Transaction = tx;
                mark.CommandText = "INSERT INTO schema_version(version, applied) VALUES ($v, unixepoch())";
                mark.Parameters.AddWithValue("$v", step + 1);
                mark.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }
}
