using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    // Lookups wait for the write lock: they share the writer's connection (a pooled reader would cost more than the
    // lookup), and must never see a batch that is half written.

    public Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpFolder(folderId), cancellationToken);

    public Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpFolderByName(name), cancellationToken);

    public Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpMessage(key), cancellationToken);

    public Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpMessageAt(folderId, uid), cancellationToken);

    public Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpMessageOnceAt(folderId, uid), cancellationToken);

    public Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => WithWriterAsync<IReadOnlyList<MessageObject>>(_ => LookUpMessagesInFolder(folderId), cancellationToken);

    public Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
        => WithWriterAsync(_ => LookUpSession(sessionId), cancellationToken);

    // ---- the lookups themselves: on the writer's connection, by whoever holds the write lock

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
        var cmd = Native("SELECT m.doc, m.version FROM message_at a JOIN messages m ON m.key = a.key WHERE a.folder_id = ?1 ORDER BY a.uid");
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
        var cmd = Native(sql);
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
    /// holds may then be stale. <c>PRAGMA data_version</c> moves only for other connections' commits.
    /// Call under the write lock, before asking the cache.
    /// </summary>
    private void ForgetIfChangedElsewhere()
    {
        var version = Native("PRAGMA data_version");
        try
        {
            version.Read();
            var now = version.ColumnInt64(0);
            if (now != _dataVersion)
            {
                _cache.Clear();
                _dataVersion = now;
            }
        }
        finally
        {
            version.Reset();
        }
    }
}
