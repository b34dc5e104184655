using System.Globalization;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// The embedded store: SQLite in WAL mode (one writer connection, one connection for the handlers' lookups, pooled
/// read-only readers for searches), FTS5 for full text,
/// payloads in a <see cref="PayloadDirectory"/>. Events are keyed by a time-ordered sequence
/// (<c>timestamp_ms * 4096 + n</c>), so row order, the full-text index's order and paging all follow event time.
/// </summary>
internal sealed partial class EmbeddedStore : IBonnieStore, IAsyncDisposable, IDisposable
{
    internal const long SequencePerMillisecond = 4096;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly NativeStatements _native;
    // The handlers' lookups read committed state on a connection of their own, so that they need not wait for the
    // writer: a batch's events are written while the handlers still work on its later events (BatchStream). What a
    // batch changed but has not committed is in its unit of work, which answers before the store is asked.
    private readonly SqliteConnection _lookup;
    // Guards the lookup connection, its statements, the object cache and its data version; also held across the
    // writer's COMMIT and the cache update after it, so no lookup sees a commit the cache does not know yet.
    private readonly SemaphoreSlim _lookupGate = new(1, 1);
    private readonly NativeStatements _lookupStatements;
    private readonly ILogger<EmbeddedStore> _logger;
    private readonly Lock _initGate = new();
    private bool _initialized;
    private int _disposed;
    private RawCodec _raw = null!;

    public EmbeddedStore(string directory, int cacheSizeMegabytes, ILogger<EmbeddedStore> logger)
    {
        Directory.CreateDirectory(directory);
        DatabasePath = Path.Combine(directory, "bonnie.db");
        _logger = logger;
        _writer = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
        _lookup = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        _native = new NativeStatements(_writer);
        _lookupStatements = new NativeStatements(_lookup);
        CacheSizeMegabytes = cacheSizeMegabytes;
    }

    public string DatabasePath { get; }
    private int CacheSizeMegabytes { get; }

    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        EnsureInitialized();
        return Task.CompletedTask;
    }

    private void Initialize()
    {
        _writer.Open();
        // 8 KB pages for a new store (an existing one keeps the size it was made with): 1,000,000 events at 7,445
        // events/s and 1.65 GB against 6,992 and 1.73 GB with 4 KB pages (bench store, same hour). Half as many pages
        // in each B-tree means fewer page writes for the rows of a batch that land side by side. Only takes effect
        // before the first table exists, so before WAL mode is set.
        Exec(_writer, "PRAGMA page_size=8192");
        Exec(_writer, "PRAGMA journal_mode=WAL");
        // FULL: a commit returns only once the WAL is fsynced. The worker reports a job DONE to the broker right after
        // its commit, and the broker never hands a DONE job out again; under NORMAL a power cut would take back every
        // commit since the last checkpoint (up to 256 MB of WAL, tens of thousands of events) that the broker already
        // counts as stored. Measured cost: none beyond noise (store bench, 100,000 events in batches of 5,000:
        // 10,327-11,517 events/s against 10,319-10,595; pipeline bench, 50,000 events, 32 slots, 13-15 events per
        // transaction: 3,169-3,377 against 3,161-3,175).
        Exec(_writer, "PRAGMA synchronous=FULL");
        Exec(_writer, $"PRAGMA cache_size=-{CacheSizeMegabytes * 1024}");
        Exec(_writer, "PRAGMA temp_store=MEMORY");
        Exec(_writer, "PRAGMA busy_timeout=10000");
        // Checkpoint every 256 MB of WAL rather than every 4 MB: far fewer fsyncs of the database file under ingest,
        // and each batch rewrites the same pages of the random-key indexes, which a checkpoint then copies once for
        // many batches. 300,000 events: 10,713 events/s against 8,355-9,304 at 64 MB in the same hour (bench store).
        // The WAL file stays that large on disk; after a crash, opening the store reads it once. Counted in pages.
        var pageSize = Convert.ToInt64(PragmaValue(_writer, "PRAGMA page_size"), CultureInfo.InvariantCulture);
        Exec(_writer, $"PRAGMA wal_autocheckpoint={256L * 1024 * 1024 / pageSize}");
        Schema.Migrate(_writer);
        _raw = RawCodec.Open(_writer);
        _lookup.Open();
        // Its own page cache, as large as the writer's (Bonnie:Store:CacheSizeMegabytes is per connection).
        Exec(_lookup, $"PRAGMA cache_size=-{CacheSizeMegabytes * 1024}");
        Exec(_lookup, "PRAGMA busy_timeout=10000");
        _logger.LogInformation("Embedded store at {Path}, schema version {Version}", DatabasePath, Schema.CurrentVersion);
    }

    /// <summary>A PRAGMA's value on the writer's connection, where it is per connection (tests).</summary>
    internal object? WriterPragma(string name)
    {
        EnsureInitialized();
        _writeLock.Wait();
        try
        {
            return PragmaValue(_writer, "PRAGMA " + name);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private static object? PragmaValue(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        EnsureInitialized();
        var c = new SqliteConnection(_readConnectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        return c;
    }

    // Whoever comes first (the start-up service, a worker, a search) creates or migrates the schema.
    private void EnsureInitialized()
    {
        if (Volatile.Read(ref _initialized))
        {
            return;
        }
        lock (_initGate)
        {
            if (!_initialized)
            {
                Initialize();
                Volatile.Write(ref _initialized, true);
            }
        }
    }

    private async Task<T> WithWriterAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        EnsureInitialized();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return work(_writer);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // On the lookup connection: what is committed is what this asks, and a batch being streamed holds the writer's
    // lock for its whole run, which a worker asking about retried deliveries must not wait for.
    public Task<IReadOnlySet<string>> FindProcessedJobsAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default)
        => Look<IReadOnlySet<string>>(() =>
        {
            var found = new HashSet<string>(StringComparer.Ordinal);
            var done = LookupStatement("SELECT 1 FROM events WHERE id = ?1 UNION ALL SELECT 1 FROM quarantine WHERE job_id = ?1 AND stage = 'parse' LIMIT 1");
            foreach (var id in jobIds)
            {
                done.Bind(1, id);
                try
                {
                    if (done.Read())
                    {
                        found.Add(id);
                    }
                }
                finally
                {
                    done.Reset();
                }
            }
            return found;
        }, cancellationToken);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        // A batch being written (a worker stopping past its grace) finishes or rolls back before its connection goes:
        // closed under its thread, it would fail with errors that hide why it stopped. Bounded: stopping goes on.
        var idle = _writeLock.Wait(TimeSpan.FromSeconds(30));
        if (!idle)
        {
            _logger.LogWarning("The store is closed while a batch is still being written; that batch is rolled back and its jobs come again");
        }
        // Likewise a lookup under way (a history page) ends before the lookup connection goes.
        var noLookup = _lookupGate.Wait(TimeSpan.FromSeconds(30));
        try
        {
            _native.Dispose();
            _lookupStatements.Dispose();
            _writer.Dispose();
            _lookup.Dispose();
            // Null when the store was never initialised.
            _raw?.Dispose();
        }
        finally
        {
            // The locks are not disposed: a batch stream still running releases the write lock when it ends.
            if (noLookup)
            {
                _lookupGate.Release();
            }
            if (idle)
            {
                _writeLock.Release();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
