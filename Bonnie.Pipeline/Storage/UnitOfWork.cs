using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage;

/// <summary>
/// Change recording: handlers load and change objects through this unit of work; at the end of each event
/// <see cref="EndEvent"/> compares every object the event touched with its state before, and turns each
/// difference into a <see cref="ChangeRecord"/> attributed to that event. Handlers never write change records.
/// One unit of work spans a batch of jobs: later events see earlier events' changes (identity map), and
/// <see cref="ToBatch"/> hands the store everything to write in one transaction.
/// </summary>
internal sealed class UnitOfWork(IBonnieStore store)
{
    private readonly Dictionary<string, Tracked<FolderObject>> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tracked<MessageObject>> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tracked<SessionObject>> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UserObject> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<object> _touched = new(ReferenceEqualityComparer.Instance);
    private readonly List<ChangeRecord> _changes = [];

    private sealed class Tracked<T>(T current, T? before, string? loadedJson)
        where T : class
    {
        public T Current { get; } = current;
        /// <summary>State at the end of the previous event; null when the object did not exist before.</summary>
        public T? Before { get; set; } = before;
        public string? LoadedJson { get; } = loadedJson;
    }

    // ---- folders

    public async Task<FolderObject?> GetFolderAsync(string id, CancellationToken cancellationToken)
    {
        if (_folders.TryGetValue(id, out var t))
        {
            return Touch(t.Current);
        }
        var loaded = await store.GetFolderAsync(id, cancellationToken).ConfigureAwait(false);
        return loaded is null ? null : Touch(TrackLoaded(loaded));
    }

    public async Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken)
    {
        foreach (var t in _folders.Values)
        {
            if (t.Current.Exists && string.Equals(t.Current.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return Touch(t.Current);
            }
        }
        var loaded = await store.FindFolderByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            return null;
        }
        // The stored name may be stale: this batch may have renamed or deleted the folder already.
        return _folders.ContainsKey(loaded.Id) ? null : Touch(TrackLoaded(loaded));
    }

    /// <summary>A folder that comes into being now: its existence and initial ACL are recorded as changes.</summary>
    public FolderObject CreateFolder(string id, string name, DateTimeOffset at)
    {
        var f = new FolderObject { Id = id, Name = name, FirstSeen = at };
        _folders[id] = new Tracked<FolderObject>(f, null, null);
        return Touch(f);
    }

    /// <summary>A folder first seen through another event: it already existed, so nothing about it is a change yet.</summary>
    public FolderObject DiscoverFolder(string id, string name, DateTimeOffset at, Action<FolderObject>? describe = null)
    {
        var f = new FolderObject { Id = id, Name = name, FirstSeen = at };
        describe?.Invoke(f);
        _folders[id] = new Tracked<FolderObject>(f, f.Clone(), null);
        return Touch(f);
    }

    /// <summary>
    /// Records what an event tells about a folder's state that was simply unknown before (its ACL when first
    /// reported): applied to the state before the event too, so it is knowledge, not a change.
    /// </summary>
    public void Learn(FolderObject folder, Action<FolderObject> learn)
    {
        learn(folder);
        if (_folders.TryGetValue(folder.Id, out var t) && t.Before is not null)
        {
            learn(t.Before);
        }
    }

    private FolderObject TrackLoaded(FolderObject f)
    {
        _folders[f.Id] = new Tracked<FolderObject>(f, f.Clone(), StoreJson.Write(f));
        return f;
    }

    // ---- messages

    public async Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken)
    {
        if (_messages.TryGetValue(key, out var t))
        {
            return Touch(t.Current);
        }
        var loaded = await store.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
        return loaded is null ? null : Touch(TrackLoaded(loaded));
    }

    public async Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken)
    {
        foreach (var t in _messages.Values)
        {
            if (t.Current.CurrentAt(folderId, uid) is not null)
            {
                return Touch(t.Current);
            }
        }
        var loaded = await store.FindMessageAtAsync(folderId, uid, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            return null;
        }
        if (_messages.TryGetValue(loaded.Key, out var tracked))
        {
            // Tracked and not found above: this batch moved or expunged it from there.
            return tracked.Current.CurrentAt(folderId, uid) is null ? null : Touch(tracked.Current);
        }
        return Touch(TrackLoaded(loaded));
    }

    /// <summary>A message that did not exist before (its arrival is recorded as changes).</summary>
    public MessageObject CreateMessage(string key, DateTimeOffset at)
    {
        var m = new MessageObject { Key = key, FirstSeen = at };
        _messages[key] = new Tracked<MessageObject>(m, null, null);
        return Touch(m);
    }

    /// <summary>A message first seen through an event that presumes it (flags, expunge...): nothing is a change yet.</summary>
    public MessageObject DiscoverMessage(string key, DateTimeOffset at, Action<MessageObject> describe)
    {
        var m = new MessageObject { Key = key, FirstSeen = at };
        describe(m);
        _messages[key] = new Tracked<MessageObject>(m, m.Clone(), null);
        return Touch(m);
    }

    private MessageObject TrackLoaded(MessageObject m)
    {
        _messages[m.Key] = new Tracked<MessageObject>(m, m.Clone(), StoreJson.Write(m));
        return m;
    }

    // ---- sessions and users

    public async Task<SessionObject?> GetSessionAsync(string id, CancellationToken cancellationToken)
    {
        if (_sessions.TryGetValue(id, out var t))
        {
            return t.Current;
        }
        var loaded = await store.GetSessionAsync(id, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            return null;
        }
        _sessions[id] = new Tracked<SessionObject>(loaded, loaded.Clone(), StoreJson.Write(loaded));
        return loaded;
    }

    public SessionObject CreateSession(string id)
    {
        var s = new SessionObject { Id = id };
        _sessions[id] = new Tracked<SessionObject>(s, null, null);
        return s;
    }

    public void SeeUser(string? login, DateTimeOffset at)
    {
        if (!string.IsNullOrEmpty(login) && !_users.ContainsKey(login))
        {
            _users[login] = new UserObject(login, at);
        }
    }

    private T Touch<T>(T o)
        where T : class
    {
        _touched.Add(o);
        return o;
    }

    // ---- change recording

    /// <summary>Records what the event changed on every object it touched, then makes that the new "before".</summary>
    public void EndEvent(string eventId, DateTimeOffset at, Actor actor)
    {
        var ordinal = 0;
        void Add(ChangeRecord c) => _changes.Add(c with { Ordinal = ordinal++ });
        foreach (var t in _folders.Values)
        {
            if (_touched.Contains(t.Current))
            {
                ChangeDiff.Folder(t.Before, t.Current, eventId, at, actor, Add);
                t.Before = t.Current.Clone();
            }
        }
        foreach (var t in _messages.Values)
        {
            if (_touched.Contains(t.Current))
            {
                ChangeDiff.Message(t.Before, t.Current, eventId, at, actor, Add);
                t.Before = t.Current.Clone();
            }
        }
        _touched.Clear();
    }

    /// <summary>Forgets the changes of an event that failed half-way, so the batch can continue without it.</summary>
    public void Clear()
    {
        _folders.Clear();
        _messages.Clear();
        _sessions.Clear();
        _users.Clear();
        _touched.Clear();
        _changes.Clear();
    }

    public StoreBatch ToBatch()
    {
        var batch = new StoreBatch();
        batch.Changes.AddRange(_changes);
        foreach (var t in _folders.Values)
        {
            if (t.LoadedJson is null || StoreJson.Write(t.Current) != t.LoadedJson)
            {
                batch.Folders[t.Current.Id] = t.Current;
            }
        }
        foreach (var t in _messages.Values)
        {
            if (t.LoadedJson is null || StoreJson.Write(t.Current) != t.LoadedJson)
            {
                batch.Messages[t.Current.Key] = t.Current;
            }
        }
        foreach (var t in _sessions.Values)
        {
            if (t.LoadedJson is null || StoreJson.Write(t.Current) != t.LoadedJson)
            {
                batch.Sessions[t.Current.Id] = t.Current;
            }
        }
        foreach (var u in _users.Values)
        {
            batch.Users[u.Login] = u;
        }
        return batch;
    }
}
