using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// The store's memory of the objects it read or committed lately, and of the ids it looked up and did not find.
/// Nearly every event asks for an object (the message a flag change is about, the session that knows the client
/// address); without this each is a B-tree lookup plus a JSON parse. Every write of this store goes through
/// <see cref="EmbeddedStore.CommitAsync"/>, which updates the cache after its transaction commits; writes by anyone
/// else (another process on the same store) are noticed through SQLite's data version before each lookup, and the
/// cache is then forgotten. Should it still be stale, the version checks of the next commit fail, the store clears
/// it and the worker recomputes its batch. Callers get copies: nothing they change leaks in here.
/// Used under the store's write lock only, like the writer's connection.
/// </summary>
internal sealed class ObjectCache(int capacity)
{
    private readonly Dictionary<string, FolderObject> _folders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MessageObject> _messages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SessionObject> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string FolderId, uint Uid), string> _messageAt = [];
    private readonly HashSet<string> _absentMessages = new(StringComparer.Ordinal);
    private readonly HashSet<string> _absentSessions = new(StringComparer.Ordinal);
    private readonly HashSet<(string FolderId, uint Uid)> _absentAt = [];

    public bool TryGetFolder(string id, out FolderObject? folder)
    {
        folder = _folders.TryGetValue(id, out var f) ? f.Clone() : null;
        return folder is not null;
    }

    public bool TryGetMessage(string key, out MessageObject? message)
    {
        if (_messages.TryGetValue(key, out var m))
        {
            message = m.Clone();
            return true;
        }
        message = null;
        return _absentMessages.Contains(key);
    }

    /// <summary>True when the answer is known: the message there now (a copy) or null when none is.</summary>
    public bool TryFindMessageAt(string folderId, uint uid, out MessageObject? message)
    {
        message = null;
        if (_absentAt.Contains((folderId, uid)))
        {
            return true;
        }
        if (_messageAt.TryGetValue((folderId, uid), out var key) && _messages.TryGetValue(key, out var m) && m.CurrentAt(folderId, uid) is not null)
        {
            message = m.Clone();
            return true;
        }
        return false;
    }

    public bool TryGetSession(string id, out SessionObject? session)
    {
        if (_sessions.TryGetValue(id, out var s))
        {
            session = s.Clone();
            return true;
        }
        session = null;
        return _absentSessions.Contains(id);
    }

    public void Put(FolderObject folder)
    {
        MakeRoom(_folders.Count);
        _folders[folder.Id] = folder.Clone();
    }

    public void Put(MessageObject message)
    {
        MakeRoom(_messages.Count);
        var copy = message.Clone();
        _messages[copy.Key] = copy;
        _absentMessages.Remove(copy.Key);
        foreach (var l in copy.Locations)
        {
            var at = (l.FolderId, l.Uid);
            if (l.Until is null)
            {
                _messageAt[at] = copy.Key;
                _absentAt.Remove(at);
            }
            else if (_messageAt.TryGetValue(at, out var k) && k == copy.Key)
            {
                _messageAt.Remove(at);
            }
        }
    }

    public void Put(SessionObject session)
    {
        MakeRoom(_sessions.Count);
        _sessions[session.Id] = session.Clone();
        _absentSessions.Remove(session.Id);
    }

    public void Absent(ObjectKind kind, string id)
    {
        MakeRoom(_absentMessages.Count + _absentSessions.Count);
        (kind == ObjectKind.Message ? _absentMessages : _absentSessions).Add(id);
    }

    public void AbsentAt(string folderId, uint uid)
    {
        MakeRoom(_absentAt.Count);
        _absentAt.Add((folderId, uid));
    }

    public void Clear()
    {
        _folders.Clear();
        _messages.Clear();
        _sessions.Clear();
        _messageAt.Clear();
        _absentMessages.Clear();
        _absentSessions.Clear();
        _absentAt.Clear();
    }

    // Forgetting everything at once keeps this simple and bounded; what is still hot comes back within a batch.
    private void MakeRoom(int count)
    {
        if (count >= capacity)
        {
            Clear();
        }
    }
}
