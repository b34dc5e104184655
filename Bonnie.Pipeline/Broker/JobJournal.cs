using System.Buffers.Binary;
using System.Collections.Concurrent;
using Bonnie.Pipeline.Worker;
using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Broker;

/// <summary>A job as the journal keeps it.</summary>
internal sealed record JournalJob(
    long Seq, string Id, string Lane, JobState State, int Attempts, long? NotBefore, long ReceivedAt, string? Reason);

/// <summary>One change to the journal; the writer thread applies many of them per transaction.</summary>
internal abstract record JournalWrite
{
    /// <summary>A new submission. After commit, <see cref="Seq"/> is set, or stays 0 when the id was already known.</summary>
    public sealed record Insert(string Id, string Lane, long ReceivedAt, ReadOnlyMemory<byte> Notification, object? Token) : JournalWrite
    {
        public long Seq { get; set; }
    }

    public sealed record SetState(string Id, JobState State, int Attempts, long? NotBefore, string? Reason) : JournalWrite;

    public sealed record SetCollected(string Id, IReadOnlyList<CollectedItem> Items) : JournalWrite;

    /// <summary>Deletes DONE jobs finished before <paramref name="OlderThan"/>; after commit, <see cref="Purged"/> says how many.</summary>
    public sealed record PurgeDone(long OlderThan) : JournalWrite
    {
        public long Purged { get; set; }
    }
}

/// <summary>
/// The broker's durable job queue: SQLite in WAL mode with <c>synchronous=FULL</c>, so a committed transaction
/// has been fsynced. One writer thread commits everything that arrived while the previous commit was being
/// fsynced (group commit): submissions are acknowledged only from <see cref="Committed"/>, after the fsync.
/// </summary>
internal sealed class JobJournal : IDisposable
{
    private readonly SqliteConnection _writer;
    private readonly SqliteConnection _reader;
    private readonly Lock _readerLock = new();
    private readonly BlockingCollection<JournalWrite> _writes = new();
    private readonly Thread _thread;
    private readonly int _maxBatch;
    private readonly Action<IReadOnlyList<JournalWrite>> _committed;
    private readonly Action<Exception> _failed;
    private readonly Action? _recovered;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Longest wait between two tries of a batch the journal could not write (a full disk, an I/O error).</summary>
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    private JobJournal(string path, int maxBatch, TimeProvider time, Action<IReadOnlyList<JournalWrite>> committed, Action<Exception> failed, Action? recovered)
    {
        _maxBatch = maxBatch;
        _time = time;
        _committed = committed;
        _failed = failed;
        _recovered = recovered;
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        _writer = new SqliteConnection(connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS jobs(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id BLOB NOT NULL UNIQUE,
                lane TEXT NOT NULL,
                state INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                not_before INTEGER,
                received_at INTEGER NOT NULL,
                finished_at INTEGER,
                reason TEXT,
                notification BLOB NOT NULL,
                collected BLOB);
            CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
            """);
        _reader = new SqliteConnection(connectionString);
        _reader.Open();
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "bonnie-journal-writer" };
    }

    public string Path { get; private init; } = "";

    /// <summary>
    /// Opens (creating) the journal in <paramref name="directory"/>. Callbacks run on the writer thread:
    /// <paramref name="failed"/> when a batch cannot be written, <paramref name="recovered"/> when it was, on a later try.
    /// </summary>
    public static JobJournal Open(
        string directory, int maxBatch, TimeProvider time, Action<IReadOnlyList<JournalWrite>> committed, Action<Exception> failed, Action? recovered = null)
    {
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.Combine(directory, "queue.db");
        return new JobJournal(path, maxBatch, time, committed, failed, recovered) { Path = path };
    }

    /// <summary>
    /// Tests only: caps the queue file at <paramref name="pages"/> pages (0: its size now), as a full disk does: SQLite
    /// answers SQLITE_FULL to a write that needs more. Null lifts the cap.
    /// </summary>
    internal void LimitSizeForTests(long? pages)
    {
        lock (_writer)
        {
            // Set on the writer's own connection (the limit is per connection), between two of its batches.
            // SQLite raises a cap below the file's size to that size, and takes 0 as a question: 1 means "as it is now".
            Execute(_writer, $"PRAGMA max_page_count = {Math.Max(1, pages ?? 1_073_741_823).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }
    }

    public void Start() => _thread.Start();

    public void Enqueue(JournalWrite write) => _writes.Add(write);

    /// <summary>Every job that is not finished, oldest first: what a restarted broker must still hand out.</summary>
    public List<JournalJob> LoadUnfinished()
    {
        using var command = _reader.CreateCommand();
        command.CommandText = """
            SELECT seq, id, lane, state, attempts, not_before, received_at, reason FROM jobs
            WHERE state NOT IN ($done, $failed) ORDER BY seq
            """;
        command.Parameters.AddWithValue("$done", (int)JobState.Done);
        command.Parameters.AddWithValue("$failed", (int)JobState.Failed);
        var jobs = new List<JournalJob>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            jobs.Add(ReadJob(reader));
        }
        return jobs;
    }

    public long Count(JobState state)
    {
        lock (_readerLock)
        {
            using var command = _reader.CreateCommand();
            command.CommandText = "SELECT count(*) FROM jobs WHERE state = $state";
            command.Parameters.AddWithValue("$state", (int)state);
            return (long)command.ExecuteScalar()!;
        }
    }

    /// <summary>The failed jobs, newest first, with their reasons: what an officer sees and may retry.</summary>
    public List<JournalJob> ListFailed(int limit)
    {
        lock (_readerLock)
        {
            using var command = _reader.CreateCommand();
            command.CommandText = """
                SELECT seq, id, lane, state, attempts, not_before, received_at, reason FROM jobs
                WHERE state = $failed ORDER BY seq DESC LIMIT $limit
                """;
            command.Parameters.AddWithValue("$failed", (int)JobState.Failed);
            command.Parameters.AddWithValue("$limit", limit);
            var jobs = new List<JournalJob>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                jobs.Add(ReadJob(reader));
            }
            return jobs;
        }
    }

    /// <summary>The notification and what the collector gave for one job; null when the id is unknown.</summary>
    public (byte[] Notification, IReadOnlyList<CollectedItem> Collected, JournalJob Job)? Read(string id)
    {
        lock (_readerLock)
        {
            using var command = _reader.CreateCommand();
            command.CommandText = """
                SELECT seq, id, lane, state, attempts, not_before, received_at, reason, notification, collected
                FROM jobs WHERE id = $id
                """;
            if (IdBytes(id) is not { } key)
            {
                return null;
            }
            command.Parameters.AddWithValue("$id", key);
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }
            var job = ReadJob(reader);
            var notification = (byte[])reader.GetValue(8);
            var collected = reader.IsDBNull(9) ? [] : CollectedCodec.Decode((byte[])reader.GetValue(9));
            return (notification, collected, job);
        }
    }

    private void WriteLoop()
    {
        try
        {
            foreach (var first in _writes.GetConsumingEnumerable())
            {
                // A new list each time: the broker's thread reads the committed batch while the next one fills.
                var batch = new List<JournalWrite> { first };
                while (batch.Count < _maxBatch && _writes.TryTake(out var next))
                {
                    batch.Add(next);
                }
                if (!ApplyUntilWritten(batch))
                {
                    return;
                }
                _committed(batch);
            }
        }
        catch (Exception exception)
        {
            // Whatever broke the writer, nothing in this batch was acknowledged; the broker stops acknowledging so
            // that dealers keep events in their spools, and says why.
            _failed(exception);
        }
    }

    /// <summary>
    /// Writes the batch, trying again while it cannot (a full disk, an I/O error) with a doubling wait: the broker stops
    /// acknowledging meanwhile (<see cref="_failed"/>), and starts again once the batch is written (<see cref="_recovered"/>).
    /// A review freed the disk and found the broker never acknowledging again until restarted. False when the journal
    /// is closed before the batch could be written (nothing of it was acknowledged).
    /// </summary>
    private bool ApplyUntilWritten(List<JournalWrite> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                lock (_writer)
                {
                    Apply(batch);
                }
                if (attempt > 1)
                {
                    _recovered?.Invoke();
                }
                return true;
            }
            catch (SqliteException exception) when (IsTransient(exception))
            {
                if (attempt == 1)
                {
                    _failed(exception);
                }
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxRetryDelay.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(attempt - 1, 16))));
                if (_stopping.Token.WaitHandle.WaitOne(delay))
                {
                    return false;
                }
            }
        }
    }

    // A full disk, an I/O error, a lock, a file made read-only: conditions that pass. A corrupt file or a broken
    // constraint does not; it stops the writer for good, as before, with its own reason in the log.
    private static bool IsTransient(SqliteException exception) => exception.SqliteErrorCode is
        5 /* BUSY */ or 6 /* LOCKED */ or 8 /* READONLY */ or 10 /* IOERR */ or 13 /* FULL */ or 14 /* CANTOPEN */;

    private void Apply(List<JournalWrite> batch)
    {
        using var transaction = _writer.BeginTransaction();
        using var insert = _writer.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO jobs(id, lane, state, attempts, received_at, notification)
            VALUES ($id, $lane, 0, 0, $received, $notification)
            ON CONFLICT(id) DO NOTHING RETURNING seq
            """;
        var insertId = insert.Parameters.Add("$id", SqliteType.Blob);
        var insertLane = insert.Parameters.Add("$lane", SqliteType.Text);
        var insertReceived = insert.Parameters.Add("$received", SqliteType.Integer);
        var insertNotification = insert.Parameters.Add("$notification", SqliteType.Blob);

        using var update = _writer.CreateCommand();
        update.Transaction = transaction;
        update.CommandText = """
            UPDATE jobs SET state = $state, attempts = $attempts, not_before = $notBefore, reason = $reason,
                finished_at = CASE WHEN $state IN (4, 5) THEN $now ELSE NULL END
            WHERE id = $id
            """;
        var updateState = update.Parameters.Add("$state", SqliteType.Integer);
        var updateAttempts = update.Parameters.Add("$attempts", SqliteType.Integer);
        var updateNotBefore = update.Parameters.Add("$notBefore", SqliteType.Integer);
        var updateReason = update.Parameters.Add("$reason", SqliteType.Text);
        var updateNow = update.Parameters.Add("$now", SqliteType.Integer);
        var updateId = update.Parameters.Add("$id", SqliteType.Blob);

        foreach (var write in batch)
        {
            switch (write)
            {
                case JournalWrite.Insert i:
                    insertId.Value = Convert.FromHexString(i.Id);
                    insertLane.Value = i.Lane;
                    insertReceived.Value = i.ReceivedAt;
                    insertNotification.Value = i.Notification.ToArray();
                    var seq = insert.ExecuteScalar();
                    i.Seq = seq is long s ? s : 0;
                    break;
                case JournalWrite.SetState u:
                    updateState.Value = (int)u.State;
                    updateAttempts.Value = u.Attempts;
                    updateNotBefore.Value = (object?)u.NotBefore ?? DBNull.Value;
                    updateReason.Value = (object?)u.Reason ?? DBNull.Value;
                    updateNow.Value = _time.GetUtcNow().ToUnixTimeMilliseconds();
                    updateId.Value = Convert.FromHexString(u.Id);
                    update.ExecuteNonQuery();
                    break;
                case JournalWrite.SetCollected c:
                    using (var collected = _writer.CreateCommand())
                    {
                        collected.Transaction = transaction;
                        collected.CommandText = "UPDATE jobs SET collected = $data WHERE id = $id";
                        collected.Parameters.AddWithValue("$data", CollectedCodec.Encode(c.Items));
                        collected.Parameters.AddWithValue("$id", Convert.FromHexString(c.Id));
                        collected.ExecuteNonQuery();
                    }
                    break;
                case JournalWrite.PurgeDone p:
                    using (var purge = _writer.CreateCommand())
                    {
                        purge.Transaction = transaction;
                        purge.CommandText = "DELETE FROM jobs WHERE state = $done AND finished_at < $before";
                        purge.Parameters.AddWithValue("$done", (int)JobState.Done);
                        purge.Parameters.AddWithValue("$before", p.OlderThan);
                        p.Purged = purge.ExecuteNonQuery();
                    }
                    break;
            }
        }
        transaction.Commit();
    }

    private static JournalJob ReadJob(SqliteDataReader reader) => new(
        reader.GetInt64(0), Convert.ToHexStringLower((byte[])reader.GetValue(1)), reader.GetString(2), (JobState)reader.GetInt32(3),
        reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetString(7));

    /// <summary>The id as stored; null for text that is not a job id (an officer's typo must not throw).</summary>
    private static byte[]? IdBytes(string id)
    {
        try
        {
            return id.Length == 64 ? Convert.FromHexString(id) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _writes.CompleteAdding();
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
        _writes.Dispose();
        _writer.Dispose();
        _reader.Dispose();
        _stopping.Dispose();
    }
}

/// <summary>Length-prefixed encoding of collected items, so the broker stores them opaquely.</summary>
internal static class CollectedCodec
{
    public static byte[] Encode(IReadOnlyList<CollectedItem> items)
    {
        using var stream = new MemoryStream();
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, items.Count);
        stream.Write(length);
        foreach (var item in items)
        {
            WriteBlock(stream, System.Text.Encoding.UTF8.GetBytes(item.Request));
            WriteBlock(stream, System.Text.Encoding.UTF8.GetBytes(item.Error ?? ""));
            WriteBlock(stream, item.Data.Span);
        }
        return stream.ToArray();
    }

    public static IReadOnlyList<CollectedItem> Decode(byte[] data)
    {
        var span = data.AsSpan();
        var count = BinaryPrimitives.ReadInt32LittleEndian(span);
        var offset = 4;
        var items = new List<CollectedItem>(count);
        for (var i = 0; i < count; i++)
        {
            var request = System.Text.Encoding.UTF8.GetString(ReadBlock(data, ref offset));
            var error = System.Text.Encoding.UTF8.GetString(ReadBlock(data, ref offset));
            var payload = ReadBlock(data, ref offset).ToArray();
            items.Add(new CollectedItem(request, payload, error.Length == 0 ? null : error));
        }
        return items;
    }

    private static void WriteBlock(Stream stream, ReadOnlySpan<byte> block)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, block.Length);
        stream.Write(length);
        stream.Write(block);
    }

    private static ReadOnlySpan<byte> ReadBlock(byte[] data, ref int offset)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
        offset += 4;
        var block = data.AsSpan(offset, length);
        offset += length;
        return block;
    }
}
