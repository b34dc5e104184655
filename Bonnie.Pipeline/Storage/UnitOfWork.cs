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
internal sealed class UnitOfWork(IObjectLookups store)
{
    private readonly Dictionary<string, Tracked<FolderObject>> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tracked<MessageObject>> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tracked<SessionObject>> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, UserObject> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<object> _touched = new(ReferenceEqualityComparer.Instance);
    private readonly List<object> _touchedInOrder = [];
    // Where tracked messages are and ever were: hints, verified on use, so a batch of thousands of events does not scan
    // every tracked object on each lookup. Kept up as locations are added (AddLocation), not only at the end of an
    // event: one event naming 40,000 UIDs scanned everything it had touched for each of them, for minutes.
    private readonly Dictionary<(string FolderId, uint Uid), MessageObject> _messageAt = [];
    private readonly Dictionary<(string FolderId, uint Uid), MessageObject> _messageOnceAt = [];
    private readonly Dictionary<string, FolderObject> _folderByName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ChangeRecord> _changes = [];
    // Ids the store did not have when asked in this batch: most events of a session whose login came before Bonnie
    // ask for it, and every delivery asks for its new message, so a miss is remembered rather than asked again.
    // An object created in the batch is tracked, and tracked objects are looked up first.
    private readonly HashSet<string> _absentFolders = new(StringComparer.Ordinal);
    private readonly HashSet<string> _absentMessages = new(StringComparer.Ordinal);
    private readonly HashSet<string> _absentSessions = new(StringComparer.Ordinal);

    private sealed class Tracked<T>(T current, T? before, bool loaded)
        where T : class
    {
        public T Current { get; } = current;
        /// <summary>State at the end of the previous event; null when the object did not exist before.</summary>
        public T? Before { get; set; } = before;
        /// <summary>As read from the store (null when not read from it), to tell whether it must be written back.</summary>
        public T? Original { get; } = loaded ? before : null;
        public bool Dirty { get; set; } = !loaded;
    }

    // ---- folders

    public async Task<FolderObject?> GetFolderAsync(string id, CancellationToken cancellationToken)
    {
        if (_folders.TryGetValue(id, out var t))
        {
            return Touch(t.Current);
        }
        if (_absentFolders.Contains(id))
        {
            return null;
        }
        var loaded = await store.GetFolderAsync(id, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            _absentFolders.Add(id);
            return null;
        }
        return Touch(TrackLoaded(loaded));
    }

    public async Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken)
    {
        if (_folderByName.TryGetValue(name, out var hinted) && hinted.Exists && string.Equals(hinted.Name, name, StringComparison.OrdinalIgnoreCase))
        {
            return Touch(hinted);
        }
        foreach (var o in _touched)
        {
            if (o is FolderObject { Exists: true } f && string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return f;
            }
        }
        var loaded = await store.FindFolderByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            return null;
        }
        // The stored name may be stale: this batch may have renamed or deleted the folder already.
        if (_folders.TryGetValue(loaded.Id, out var tracked))
        {
            return tracked.Current.Exists && string.Equals(tracked.Current.Name, name, StringComparison.OrdinalIgnoreCase) ? Touch(tracked.Current) : null;
        }
        return Touch(TrackLoaded(loaded));
    }

    /// <summary>The existing folders below <paramref name="name"/>, as this batch left them (renamed or created in it too).</summary>
    public async Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken)
    {
        foreach (var f in await store.FindFoldersBelowAsync(name, cancellationToken).ConfigureAwait(false))
        {
            if (!_folders.ContainsKey(f.Id))
            {
                TrackLoaded(f);
            }
        }
        var found = new List<FolderObject>();
        foreach (var t in _folders.Values)
        {
            if (t.Current.Exists && FolderNames.IsBelow(t.Current.Name, name))
            {
                found.Add(Touch(t.Current));
            }
        }
        return found;
    }

    /// <summary>A folder that comes into being now: its existence and initial ACL are recorded as changes.</summary>
    public FolderObject CreateFolder(string id, string name, DateTimeOffset at)
    {
        var f = new FolderObject { Id = id, Name = name, FirstSeen = at };
        _folders[id] = new Tracked<FolderObject>(f, null, loaded: false);
        return Touch(f);
    }

    /// <summary>A folder first seen through another event: it already existed, so nothing about it is a change yet.</summary>
    public FolderObject DiscoverFolder(string id, string name, DateTimeOffset at, Action<FolderObject>? describe = null)
    {
        var f = new FolderObject { Id = id, Name = name, FirstSeen = at };
        describe?.Invoke(f);
        _folders[id] = new Tracked<FolderObject>(f, f.Clone(), loaded: false);
        return Touch(f);
    }

    /// <summary>
    /// Records what an event tells about a folder's state that was simply unknown before (its ACL when first
    /// reported): applied to the state before the event too, so it is knowledge, not a change.
    /// </summary>
    public void Learn(FolderObject folder, Action<FolderObject> learn) => Learn(_folders, folder.Id, folder, learn, f => f.Clone());

    private static void Learn<T>(Dictionary<string, Tracked<T>> tracked, string id, T current, Action<T> learn, Func<T, T> clone)
        where T : class
    {
        learn(current);
        if (tracked.TryGetValue(id, out var t))
        {
            // Before may be the very object Original refers to: the learned state must still be written.
            t.Dirty = true;
            if (t.Before is not null)
            {
                t.Before = clone(t.Before);
                learn(t.Before);
            }
        }
    }

    private FolderObject TrackLoaded(FolderObject f)
    {
        _folders[f.Id] = new Tracked<FolderObject>(f, f.Clone(), loaded: true);
        Index(f);
        return f;
    }

    private void Index(FolderObject f) => _folderByName[f.Name] = f;

    private void Index(MessageObject m)
    {
        foreach (var l in m.Locations)
        {
            Index(m, l);
        }
    }

    private void Index(MessageObject m, MessageLocation l)
    {
        if (l.Until is null)
        {
            _messageAt[(l.FolderId, l.Uid)] = m;
        }
        _messageOnceAt[(l.FolderId, l.Uid)] = m;
    }

    /// <summary>
    /// A place the message is now at, added and indexed at once, so lookups by place find it in this batch: a handler
    /// that added a location and forgot to say so would leave the lookup to the store, which does not have it yet.
    /// </summary>
    public void AddLocation(MessageObject message, MessageLocation location)
    {
        message.Locations.Add(location);
        Index(message, location);
    }

    // ---- messages

    // A sighting that turned out to be another message (MessageObject.SameAs) stands for that message: a handler
    // looking it up by its key or a place it once had gets the message it is, as this batch knows it.
    private Task<MessageObject?> FollowAsync(MessageObject? m, CancellationToken cancellationToken)
        => MessageHistory.FollowAsync(m, key => GetOwnMessageAsync(key, cancellationToken));

    public async Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken)
        => await FollowAsync(await GetOwnMessageAsync(key, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    private async Task<MessageObject?> GetOwnMessageAsync(string key, CancellationToken cancellationToken)
    {
        if (_messages.TryGetValue(key, out var t))
        {
            return Touch(t.Current);
        }
        if (_absentMessages.Contains(key))
        {
            return null;
        }
        var loaded = await store.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            _absentMessages.Add(key);
            return null;
        }
        return Touch(TrackLoaded(loaded));
    }

    public async Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken)
    {
        if (_messageAt.TryGetValue((folderId, uid), out var hinted) && hinted.CurrentAt(folderId, uid) is not null)
        {
            return Touch(hinted);
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

    /// <summary>The message that is or once was at the location (see <see cref="IBonnieStore.FindMessageOnceAtAsync"/>).</summary>
    public async Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken)
    {
        if (_messageOnceAt.TryGetValue((folderId, uid), out var hinted) && hinted.Locations.Exists(l => l.IsAt(folderId, uid)))
        {
            return Touch(hinted);
        }
        var loaded = await store.FindMessageOnceAtAsync(folderId, uid, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            return null;
        }
        // Ended places of a merged sighting still name the sighting in the store.
        return await FollowAsync(Touch(_messages.TryGetValue(loaded.Key, out var tracked) ? tracked.Current : TrackLoaded(loaded)), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>Every message in the folder now, as this batch left them (tracked ones first).</summary>
    public async Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken)
    {
        var stored = await store.FindMessagesInFolderAsync(folderId, cancellationToken).ConfigureAwait(false);
        var result = new List<MessageObject>();
        foreach (var m in stored)
        {
            if (!_messages.ContainsKey(m.Key))
            {
                TrackLoaded(m);
            }
        }
        foreach (var t in _messages.Values)
        {
            if (t.Current.Locations.Exists(l => l.Until is null && string.Equals(l.FolderId, folderId, StringComparison.Ordinal)))
            {
                result.Add(Touch(t.Current));
            }
        }
        return result;
    }

    /// <summary>A message that did not exist before (its arrival is recorded as changes).</summary>
    public MessageObject CreateMessage(string key, DateTimeOffset at)
    {
        var m = new MessageObject { Key = key, FirstSeen = at };
        _messages[key] = new Tracked<MessageObject>(m, null, loaded: false);
        return Touch(m);
    }

    /// <summary>A message first seen through an event that presumes it (flags, expunge...): nothing is a change yet.</summary>
    public MessageObject DiscoverMessage(string key, DateTimeOffset at, Action<MessageObject> describe)
    {
        var m = new MessageObject { Key = key, FirstSeen = at };
        describe(m);
        _messages[key] = new Tracked<MessageObject>(m, m.Clone(), loaded: false);
        Index(m);
        return Touch(m);
    }

    /// <summary>Like <see cref="Learn(FolderObject, Action{FolderObject})"/>, for a message: knowledge, not a change.</summary>
    public void Learn(MessageObject message, Action<MessageObject> learn)
    {
        Learn(_messages, message.Key, message, learn, m => m.Clone());
        Index(message);
    }

    private MessageObject TrackLoaded(MessageObject m)
    {
        _messages[m.Key] = new Tracked<MessageObject>(m, m.Clone(), loaded: true);
        Index(m);
        return m;
    }

    // ---- sessions and users

    public async Task<SessionObject?> GetSessionAsync(string id, CancellationToken cancellationToken)
    {
        if (_sessions.TryGetValue(id, out var t))
        {
            return t.Current;
        }
        if (_absentSessions.Contains(id))
        {
            return null;
        }
        var loaded = await store.GetSessionAsync(id, cancellationToken).ConfigureAwait(false);
        if (loaded is null)
        {
            _absentSessions.Add(id);
            return null;
        }
        _sessions[id] = new Tracked<SessionObject>(loaded, loaded.Clone(), loaded: true);
        return loaded;
    }

    public SessionObject CreateSession(string id)
    {
        var s = new SessionObject { Id = id };
        _sessions[id] = new Tracked<SessionObject>(s, null, loaded: false);
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
        if (_touched.Add(o))
        {
            _touchedInOrder.Add(o);
        }
        return o;
    }

    // ---- change recording

    /// <summary>Records what the event changed on every object it touched, then makes that the new "before".</summary>
    public void EndEvent(string eventId, DateTimeOffset at, Actor actor)
    {
        var ordinal = 0;
        void Add(ChangeRecord c) => _changes.Add(c with { Ordinal = ordinal++ });
        // Folders before messages, each in the order the event touched them, so ordinals are stable.
        foreach (var o in _touchedInOrder)
        {
            if (o is FolderObject f && _folders.TryGetValue(f.Id, out var t))
            {
                var before = _changes.Count;
                ChangeDiff.Folder(t.Before, t.Current, eventId, at, actor, Add);
                t.Dirty |= _changes.Count > before;
                t.Before = t.Current.Clone();
                // A rename changes the name a folder is found by in this batch.
                Index(t.Current);
            }
        }
        foreach (var o in _touchedInOrder)
        {
            if (o is MessageObject m && _messages.TryGetValue(m.Key, out var t))
            {
                var before = _changes.Count;
                ChangeDiff.Message(t.Before, t.Current, eventId, at, actor, FolderNameNow, Add);
                t.Dirty |= _changes.Count > before;
                t.Before = t.Current.Clone();
                // Places set in bulk (merged sightings, a stand-in taken over) are indexed here, not as they are added.
                Index(t.Current);
            }
        }
        _touchedInOrder.Clear();
        _touched.Clear();
    }

    // The event touched the folders of the messages it changed, so their names are at hand as the event left them.
    private string? FolderNameNow(MessageLocation location)
        => _folders.TryGetValue(location.FolderId, out var folder) ? folder.Current.Name : location.FolderName;

    /// <summary>Forgets the changes of an event that failed half-way, so the batch can continue without it.</summary>
    public void Clear()
    {
        _folders.Clear();
        _messages.Clear();
        _sessions.Clear();
        _users.Clear();
        _touched.Clear();
        _touchedInOrder.Clear();
        _changes.Clear();
        _messageAt.Clear();
        _messageOnceAt.Clear();
        _folderByName.Clear();
        _absentFolders.Clear();
        _absentMessages.Clear();
        _absentSessions.Clear();
    }

    /// <summary>The change records of the events ended so far, handed over (a streamed batch writes them early).</summary>
    public List<ChangeRecord> TakeChanges()
    {
        var taken = new List<ChangeRecord>(_changes);
        _changes.Clear();
        return taken;
    }

    public StoreBatch ToBatch()
    {
        var batch = new StoreBatch();
        batch.Changes.AddRange(_changes);
        foreach (var t in _folders.Values)
        {
            if (t.Dirty || StoreJson.Write(t.Current) != StoreJson.Write(t.Original!))
            {
                batch.Folders[t.Current.Id] = t.Current;
            }
        }
        foreach (var t in _messages.Values)
        {
            if (t.Dirty || StoreJson.Write(t.Current) != StoreJson.Write(t.Original!))
            {
                batch.Messages[t.Current.Key] = t.Current;
            }
        }
        foreach (var t in _sessions.Values)
        {
            if (t.Dirty || StoreJson.Write(t.Current) != StoreJson.Write(t.Original!))
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
