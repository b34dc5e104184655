namespace Bonnie.Shared.Storage;

/// <summary>
/// A message's whole history as officers read it: its own change records and events, and those of each sighting that
/// turned out to be this message (<see cref="MessageObject.MergedFrom"/>), in time order. Every reader of a message's
/// history (page, API, folder contents, evidence export) goes through here, so none shows half of it.
/// </summary>
public static class MessageHistory
{
    /// <summary>The message a key names: a merged sighting's key names the message it turned out to be.</summary>
    public static async Task<MessageObject?> ResolveAsync(IBonnieStore store, string key, CancellationToken cancellationToken = default)
        => await FollowAsync(await store.GetMessageAsync(key, cancellationToken).ConfigureAwait(false),
            k => store.GetMessageAsync(k, cancellationToken)).ConfigureAwait(false);

    // Folders whose current name is looked up for one message (a message in more folders than this is rare).
    private const int MaxFoldersNamed = 500;

    /// <summary>
    /// The name each folder the message has lived in has now, by folder id (folders Bonnie holds no record of are left
    /// out): a location keeps the name its folder had when the message came, and a renamed folder's old name was read
    /// as its current one (a live review).
    /// </summary>
    public static async Task<Dictionary<string, string>> FolderNamesNowAsync(IBonnieStore store, MessageObject message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(message);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var folderId in message.Locations.Select(l => l.FolderId).Distinct(StringComparer.Ordinal).Take(MaxFoldersNamed))
        {
            if (await store.GetFolderAsync(folderId, cancellationToken).ConfigureAwait(false) is { } folder)
            {
                names[folderId] = folder.Name;
            }
        }
        return names;
    }

    /// <summary>
    /// From a merged sighting to the message it turned out to be (<see cref="MessageObject.SameAs"/>), through
    /// <paramref name="get"/>: the store for readers, the unit of work for handlers. A few hops at most, against a cycle.
    /// </summary>
    public static async Task<MessageObject?> FollowAsync(MessageObject? message, Func<string, Task<MessageObject?>> get)
    {
        ArgumentNullException.ThrowIfNull(get);
        for (var hops = 0; message?.SameAs is { } other && hops < 4; hops++)
        {
            message = await get(other).ConfigureAwait(false) ?? message;
        }
        return message;
    }

    /// <summary>
    /// The messages <paramref name="keys"/> name, each once (a merged sighting's key and its message's key are one
    /// message), in the order first named; keys that name nothing go to <paramref name="notFound"/> when given.
    /// </summary>
    public static async IAsyncEnumerable<MessageObject> ResolveEachAsync(IBonnieStore store, IEnumerable<string> keys, List<string>? notFound = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var message = await ResolveAsync(store, key, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                notFound?.Add(key);
            }
            else if (seen.Add(message.Key))
            {
                yield return message;
            }
        }
    }

    public static async Task<IReadOnlyList<ChangeRecord>> ChangesAsync(IBonnieStore store, MessageObject message, CancellationToken cancellationToken = default)
    {
        var own = await store.GetChangesAsync(ObjectKind.Message, message.Key, cancellationToken).ConfigureAwait(false);
        if (message.MergedFrom.Count == 0)
        {
            return own;
        }
        // A sighting's records were all committed before it was merged; a stable sort by time keeps each list's own
        // order where times are equal.
        var all = new List<ChangeRecord>();
        foreach (var key in message.MergedFrom)
        {
            all.AddRange(await store.GetChangesAsync(ObjectKind.Message, key, cancellationToken).ConfigureAwait(false));
        }
        all.AddRange(own);
        return [.. all.OrderBy(c => c.At)];
    }

    public static async Task<IReadOnlyList<StoredEvent>> EventsAsync(IBonnieStore store, MessageObject message, int limit, CancellationToken cancellationToken = default)
    {
        var own = await store.GetEventsForObjectAsync(ObjectKind.Message, message.Key, limit, cancellationToken).ConfigureAwait(false);
        if (message.MergedFrom.Count == 0)
        {
            return own;
        }
        var all = new List<StoredEvent>(own);
        foreach (var key in message.MergedFrom)
        {
            all.AddRange(await store.GetEventsForObjectAsync(ObjectKind.Message, key, limit, cancellationToken).ConfigureAwait(false));
        }
        return [.. all.DistinctBy(e => e.Id).OrderBy(e => e.Timestamp).Take(limit)];
    }
}
