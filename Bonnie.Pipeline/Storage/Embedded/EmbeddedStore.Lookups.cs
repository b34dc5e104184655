using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    // Lookups read committed state on the lookup connection (a pooled reader would cost more than the lookup), one at a
    // time under the lookup gate. They never see a batch that is half written, and never wait for one being written.

    public Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => Look(() => LookUpFolder(folderId), cancellationToken);

    public Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default)
        => Look(() => LookUpFolderByName(name), cancellationToken);

    public Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken = default)
        => Look<IReadOnlyList<FolderObject>>(() => LookUpFoldersBelow(name), cancellationToken);

    public Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default)
        => Look(() => LookUpMessage(key), cancellationToken);

    public Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => Look(() => LookUpMessageAt(folderId, uid), cancellationToken);

    public Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => Look(() => LookUpMessageOnceAt(folderId, uid), cancellationToken);

    public Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => Look<IReadOnlyList<MessageObject>>(() => LookUpMessagesInFolder(folderId), cancellationToken);

    public Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
        => Look(() => LookUpSession(sessionId), cancellationToken);

    // Waited for asynchronously: the gate is held across the writer's COMMIT (an fsync, sometimes a checkpoint), and the
    // web host's history pages look objects up too; a blocking wait would park thread-pool threads for that long.
    private async Task<T> Look<T>(Func<T> lookUp, CancellationToken cancellationToken)
    {
        EnsureInitialized();
        await _lookupGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return lookUp();
        }
        finally
        {
            _lookupGate.Release();
        }
    }

    // The lookup connection's statements stay prepared for its life, like the writer's.
    private NativeStatement LookupStatement(string sql) => _lookupStatements[sql];

    // ---- the lookups themselves: on the lookup connection, under the lookup gate

    private const string MessageAtSql = "SELECT m.doc, m.version FROM message_at a JOIN messages m ON m.key = a.key WHERE a.folder_id = ?1 AND a.uid = ?2";

    // Objects read or written by this store, and ids it did not find (see ObjectCache).
    private readonly ObjectCache _cache = new(50_000);
    private long _dataVersion = -1;


    private FolderObject? LookUpFolder(string folderId)
    {
        ForgetIfChangedElsewhere();
        if (_cache.TryGetFolder(folderId, out var cached))
        {
            return cached;
        }
        var f = ReadDocument("SELECT doc, version FROM folders WHERE id = ?1", folderId, null, StoreJson.ReadFolder);
        if (f is not null)
        {
            _cache.Put(f);
        }
        return f;
    }

    private FolderObject? LookUpFolderByName(string name)
        => ReadDocument("SELECT doc, version FROM folders WHERE name_lower = ?1 AND present = 1", name.ToLowerInvariant(), null, StoreJson.ReadFolder);

    private List<FolderObject> LookUpFoldersBelow(string name)
    {
        // A range on the name index: every name that starts with "parent/" sorts before "parent0" ('0' follows '/').
        var prefix = FolderNames.BelowPrefix(name);
        var cmd = LookupStatement("SELECT doc, version FROM folders WHERE name_lower >= ?1 AND name_lower < ?2 AND present = 1");
        cmd.Bind(1, prefix);
        cmd.Bind(2, prefix[..^1] + "0");
        var found = new List<FolderObject>();
        try
        {
            while (cmd.Read())
            {
                var f = StoreJson.ReadFolder(cmd.ColumnText(0), cmd.ColumnInt64(1));
                if (FolderNames.IsBelow(f.Name, name))
                {
                    found.Add(f);
                }
            }
        }
        finally
        {
            cmd.Reset();
        }
        return found;
    }

    private MessageObject? LookUpMessage(string key)
    {
        ForgetIfChangedElsewhere();
        if (_cache.TryGetMessage(key, out var cached))
        {
            return cached;
        }
        var m = ReadDocument("SELECT doc, version FROM messages WHERE key = ?1", key, null, StoreJson.ReadMessage);
        if (m is null)
        {
            _cache.Absent(ObjectKind.Message, key);
        }
        else
        {
            _cache.Put(m);
        }
        return m;
    }

    private MessageObject? LookUpMessageAt(string folderId, uint uid)
    {
        ForgetIfChangedElsewhere();
        if (_cache.TryFindMessageAt(folderId, uid, out var cached))
        {
            return cached;
        }
        var m = ReadDocument(MessageAtSql, folderId, uid, StoreJson.ReadMessage);
        // message_at also keeps where messages were (FindMessageOnceAtAsync): only a message still there is "at" it.
        if (m?.CurrentAt(folderId, uid) is null)
        {
            _cache.AbsentAt(folderId, uid);
            return null;
        }
        _cache.Put(m);
        return m;
    }

    private MessageObject? LookUpMessageOnceAt(string folderId, uint uid) => ReadDocument(MessageAtSql, folderId, uid, StoreJson.ReadMessage);

    private List<MessageObject> LookUpMessagesInFolder(string folderId)
    {
        var cmd = LookupStatement("SELECT m.doc, m.version FROM message_at a JOIN messages m ON m.key = a.key WHERE a.folder_id = ?1 ORDER BY a.uid");
        var found = new Dictionary<string, MessageObject>(StringComparer.Ordinal);
        cmd.Bind(1, folderId);
        try
        {
            while (cmd.Read())
            {
                var m = StoreJson.ReadMessage(cmd.ColumnText(0), cmd.ColumnInt64(1));
                // message_at also keeps where messages were: only those still there count.
                if (m.Locations.Exists(l => l.Until is null && l.FolderId == folderId))
                {
                    found.TryAdd(m.Key, m);
                }
            }
        }
        finally
        {
            cmd.Reset();
        }
        return found.Values.ToList();
    }

    private SessionObject? LookUpSession(string sessionId)
    {
        ForgetIfChangedElsewhere();
        if (_cache.TryGetSession(sessionId, out var cached))
        {
            return cached;
        }
        var s = ReadDocument("SELECT doc, version FROM sessions WHERE id = ?1", sessionId, null, StoreJson.ReadSession);
        if (s is null)
        {
            _cache.Absent(ObjectKind.Session, sessionId);
        }
        else
        {
            _cache.Put(s);
        }
        return s;
    }

    private T? ReadDocument<T>(string sql, string value, uint? uid, Func<string, long, T> read)
        where T : class
    {
        var cmd = LookupStatement(sql);
        cmd.Bind(1, value);
        if (uid is { } u)
        {
            cmd.Bind(2, (long)u);
        }
        try
        {
            return cmd.Read() ? read(cmd.ColumnText(0), cmd.ColumnInt64(1)) : null;
        }
        finally
        {
            cmd.Reset();
        }
    }

    /// <summary>
    /// Forgets the cache when anything but this store's writer changed the database since the cache last looked:
    /// another process (a worker beside the web host) or connection may write the same store, and what the cache
    /// holds may then be stale. <c>PRAGMA data_version</c> moves for every commit of another connection, the writer's
    /// included; after each of its own commits the writer takes the new value as known (<see cref="CommitWriter"/>).
    /// Call under the lookup gate, before asking the cache.
    /// </summary>
    private void ForgetIfChangedElsewhere()
    {
        var now = LookupDataVersion();
        if (now != _dataVersion)
        {
            _cache.Clear();
            _dataVersion = now;
        }
    }

    private long LookupDataVersion() => LookupStatement("PRAGMA data_version").ReadInt64()!.Value;

    /// <summary>
    /// Commits the writer's transaction and then updates the cache, under the lookup gate: a lookup sees either
    /// neither or both. The lookup connection's data version moves for this commit too; whether anyone else committed
    /// as well, in the instant after it, the writer's own data version tells (it moves only for others' commits):
    /// read before the COMMIT and again after the lookup connection's, unchanged means the new value is this commit's
    /// alone. Once the COMMIT has returned the batch is stored: what goes wrong after it only costs the cache.
    /// </summary>
    private void CommitWriter(SqliteTransaction tx, List<Action>? newVersions)
    {
        _lookupGate.Wait();
        try
        {
            // Another connection committed since the last lookup (this transaction holds the write lock, so not since
            // it began writing): what the cache holds may be stale.
            if (LookupDataVersion() != _dataVersion)
            {
                _cache.Clear();
            }
            var othersBefore = WriterDataVersion();
            tx.Commit();
            try
            {
                AfterCommitForTests?.Invoke();
                var now = LookupDataVersion();
                foreach (var apply in newVersions ?? [])
                {
                    apply();
                }
                if (WriterDataVersion() != othersBefore)
                {
                    _cache.Clear();
                }
                _dataVersion = now;
            }
            catch (Exception ex)
            {
                _cache.Clear();
                _dataVersion = -1;
                LogCacheAfterCommitFailed(_logger, ex);
            }
        }
        finally
        {
            _lookupGate.Release();
        }
    }

    /// <summary>Runs right after a COMMIT, before the cache learns of it: tests put another process's commit there.</summary>
    internal Action? AfterCommitForTests { get; set; }

    private long WriterDataVersion() => Native("PRAGMA data_version").ReadInt64()!.Value;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store committed a batch but could not update its object cache; the cache is forgotten")]
    private static partial void LogCacheAfterCommitFailed(ILogger logger, Exception exception);

    private void ForgetCache()
    {
        _lookupGate.Wait();
        try
        {
            _cache.Clear();
        }
        finally
        {
            _lookupGate.Release();
        }
    }
}
