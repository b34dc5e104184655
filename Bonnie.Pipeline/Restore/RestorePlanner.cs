using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Restore;

/// <summary>
/// Turns a request into the list of messages to put back, from the store alone: which messages lived in a folder
/// at the chosen moment comes from their location history, found through the events that touched the folder.
/// </summary>
internal sealed class RestorePlanner(IBonnieStore store, IPayloadStore payloads, TimeProvider time)
{
    private const int PageSize = EventSearch.MaxLimit;

    public async Task<RestorePlan> PlanAsync(RestoreRequest request, CancellationToken cancellationToken = default)
    {
        if (request.TargetFolder is { } targetFolder)
        {
            CyrusMailboxName.ValidateTarget(targetFolder);
        }
        var items = new List<RestoreItem>();
        var skips = new List<RestoreSkip>();
        DateTimeOffset? at = request.At;
        switch (request.Scope)
        {
            case RestoreScope.Messages:
                if (request.MessageKeys.Count == 0)
                {
                    throw new RestoreSourceException("Select at least one message to restore.");
                }
                foreach (var key in request.MessageKeys.Distinct(StringComparer.Ordinal))
                {
                    await PlanMessageAsync(key, request, items, skips, cancellationToken).ConfigureAwait(false);
                }
                break;
            case RestoreScope.Folder:
                if (string.IsNullOrWhiteSpace(request.FolderId))
                {
                    throw new RestoreSourceException("Give the folder's id (Cyrus's mailbox id, as the folder's history shows it) to restore a folder.");
                }
                var folder = await store.GetFolderAsync(request.FolderId, cancellationToken).ConfigureAwait(false)
                    ?? throw new RestoreSourceException($"No folder with id '{request.FolderId}' is recorded.", notFound: true);
                at = request.At ?? await DefaultMomentAsync(folder, cancellationToken).ConfigureAwait(false);
                await PlanFolderAsync(folder, at.Value, request.TargetFolder ?? folder.Name, items, skips, cancellationToken).ConfigureAwait(false);
                break;
            case RestoreScope.Mailbox:
                var owner = request.Mailbox?.Trim();
                if (string.IsNullOrEmpty(owner))
                {
                    throw new RestoreSourceException("Name the mailbox's owner (alice@example.org) to restore a mailbox.");
                }
                var folders = await FoldersOfAsync(owner, cancellationToken).ConfigureAwait(false);
                if (folders.Count == 0)
                {
                    throw new RestoreSourceException($"No folder of '{owner}' is recorded.", notFound: true);
                }
                // Without a moment each folder has its own (now, or just before it was deleted): the plan's At stays null.
                var perFolder = new List<List<RestoreItem>>();
                foreach (var f in folders)
                {
                    var moment = request.At ?? await DefaultMomentAsync(f, cancellationToken).ConfigureAwait(false);
                    var target = request.TargetFolder is null ? f.Name : CyrusMailboxName.Beneath(request.TargetFolder, f.Name);
                    var own = new List<RestoreItem>();
                    await PlanFolderAsync(f, moment, target, own, skips, cancellationToken).ConfigureAwait(false);
                    perFolder.Add(own);
                }
                items.AddRange(OneFolderPerTarget(perFolder));
                break;
            default:
                throw new RestoreSourceException($"Unknown restore scope {request.Scope}.");
        }
        foreach (var item in items)
        {
            // Fails early, before anything is sent, for folders Bonnie cannot restore into.
            CyrusMailboxName.ToOwnerView(item.TargetFolder);
        }
        items.Sort((a, b) => string.CompareOrdinal(a.TargetFolder, b.TargetFolder) is var c and not 0 ? c : a.InternalDate.CompareTo(b.InternalDate));
        return new RestorePlan(at, items, skips);
    }

    private async Task PlanMessageAsync(string key, RestoreRequest request, List<RestoreItem> items, List<RestoreSkip> skips, CancellationToken cancellationToken)
    {
        var message = await MessageHistory.ResolveAsync(store, key, cancellationToken).ConfigureAwait(false);
        if (message is null)
        {
            skips.Add(new RestoreSkip(key, "no such message is recorded"));
            return;
        }
        // Without a moment: where it was last lost (expunged, expired, its folder deleted; a move is not a loss), so that a
        // copy still present in another mailbox does not hide the one to give back (a review restored alice's message
        // to bob's INBOX, where it already was); where it lives now when it was never lost.
        var location = request.At is { } when
            ? message.Locations.Where(l => LivedAt(l, when)).MaxBy(l => l.Since)
            : message.Locations.Where(l => l.Until is not null && l.EndReason is not LocationOrigin.Moved).MaxBy(l => l.Until)
              ?? message.Locations.MaxBy(l => l.Since);
        if (location is null)
        {
            skips.Add(new RestoreSkip(key, request.At is null ? "the message was never seen in a folder" : $"the message was in no folder at {request.At:u}"));
            return;
        }
        var source = (await store.GetFolderAsync(location.FolderId, cancellationToken).ConfigureAwait(false))?.Name ?? location.FolderName;
        var target = request.TargetFolder ?? source;
        if (target is null)
        {
            skips.Add(new RestoreSkip(key, "the folder the message lived in has no recorded name"));
            return;
        }
        await AddAsync(message, location, source, target, items, skips, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Folders restored into one target (a folder deleted, then another made under its name, or restored, which Cyrus
    /// gives a new id): a message both held is one message there, not two. Per message, the most copies any one of them
    /// held; before, a review saw a mailbox restore put a restored folder's messages in a second time.
    /// </summary>
    private static IEnumerable<RestoreItem> OneFolderPerTarget(List<List<RestoreItem>> perFolder)
    {
        var kept = new Dictionary<(string Target, string Sha), List<RestoreItem>>();
        foreach (var own in perFolder)
        {
            foreach (var copies in own.GroupBy(i => (i.TargetFolder, i.PayloadSha256)))
            {
                var list = copies.ToList();
                if (!kept.TryGetValue(copies.Key, out var most) || list.Count > most.Count)
                {
                    kept[copies.Key] = list;
                }
            }
        }
        return kept.Values.SelectMany(l => l);
    }

    private async Task PlanFolderAsync(FolderObject folder, DateTimeOffset at, string target, List<RestoreItem> items, List<RestoreSkip> skips, CancellationToken cancellationToken)
    {
        var keys = await KeysOfEventsAsync(new KeywordNode(KeywordField.Folder, folder.Id.ToLowerInvariant(), false), at.AddMilliseconds(1), cancellationToken)
            .ConfigureAwait(false);
        // The messages its events name (a merged sighting's key and its message's are one message), and what the folder
        // holds as recorded now: mail the backfill found is there without any event naming it (a review found a
        // backfilled folder's restore empty).
        var messages = new Dictionary<string, MessageObject>(StringComparer.Ordinal);
        await foreach (var m in MessageHistory.ResolveEachAsync(store, keys, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            messages[m.Key] = m;
        }
        foreach (var m in await store.FindMessagesInFolderAsync(folder.Id, cancellationToken).ConfigureAwait(false))
        {
            messages.TryAdd(m.Key, m);
        }
        foreach (var message in messages.Values)
        {
            foreach (var location in message.Locations.Where(l => string.Equals(l.FolderId, folder.Id, StringComparison.Ordinal) && LivedAt(l, at)))
            {
                await AddAsync(message, location, folder.Name, target, items, skips, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <param name="source">The admin name of the folder it is restored from (null when none was recorded).</param>
    private async Task AddAsync(MessageObject message, MessageLocation location, string? source, string target, List<RestoreItem> items, List<RestoreSkip> skips,
        CancellationToken cancellationToken)
    {
        if (KeptBytesOf(message) is not { } sha || !await payloads.ExistsAsync(sha, cancellationToken).ConfigureAwait(false))
        {
            skips.Add(new RestoreSkip(message.Key, "its bytes were never kept, so it cannot be restored byte-exact"));
            return;
        }
        // The server's own INTERNALDATE when a source read it; else, as Cyrus keeps a message's internal date through
        // copies and moves, its first recorded arrival.
        var internalDate = message.InternalDate ?? FirstArrival(message);
        // \Deleted would have the next EXPUNGE take it away again; \Recent is the server's to set.
        var flags = location.Flags.Where(f => !f.Equals("\\Deleted", StringComparison.OrdinalIgnoreCase) && !f.Equals("\\Recent", StringComparison.OrdinalIgnoreCase))
            .ToList();
        items.Add(new RestoreItem(message.Key, sha, message.Size ?? 0, target, flags, internalDate, message.Subject,
            source is null ? null : CyrusMailboxName.OwnerOf(source)));
    }

    /// <summary>
    /// The SHA-256 of the bytes the message's record says were kept, or null: a restore puts back only those, and only
    /// when the payload store still has them. The message page says "cannot be restored" by the same rule.
    /// </summary>
    internal static string? KeptBytesOf(MessageObject message) =>
        message.PayloadStatus == PayloadStatus.Missing ? null : message.PayloadSha256;

    private static DateTimeOffset FirstArrival(MessageObject message)
    {
        var first = message.Locations.Count == 0 ? message.FirstSeen : message.Locations.Min(l => l.Since);
        return message.FirstSeen != default && message.FirstSeen < first ? message.FirstSeen : first;
    }

    private static bool LivedAt(MessageLocation l, DateTimeOffset at) => l.Since <= at && (l.Until is null || l.Until > at);

    /// <summary>A folder that exists: now. A deleted one: the moment before its deletion, when it was last whole.</summary>
    private async Task<DateTimeOffset> DefaultMomentAsync(FolderObject folder, CancellationToken cancellationToken)
    {
        if (folder.Exists)
        {
            return time.GetUtcNow();
        }
        var changes = await store.GetChangesAsync(ObjectKind.Folder, folder.Id, cancellationToken).ConfigureAwait(false);
        var deleted = changes.LastOrDefault(c => c.Aspect == ChangeAspect.Existence && c.To == "absent");
        return deleted is null ? time.GetUtcNow() : deleted.At.AddMilliseconds(-1);
    }

    /// <summary>Message keys of every event matching <paramref name="node"/> before <paramref name="until"/>, oldest first.</summary>
    private async Task<IReadOnlyList<string>> KeysOfEventsAsync(QueryNode node, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var e in EventsAsync(node, until, cancellationToken).ConfigureAwait(false))
        {
            foreach (var k in e.MessageKeys)
            {
                if (seen.Add(k))
                {
                    keys.Add(k);
                }
            }
        }
        return keys;
    }

    private async IAsyncEnumerable<StoredEvent> EventsAsync(QueryNode node, DateTimeOffset? until,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        QueryNode root = until is { } u ? new AndNode([node, new TimeRangeNode(null, u)]) : node;
        var query = new ParsedQuery(root, SortOrder.OldestFirst, "");
        string? cursor = null;
        do
        {
            var page = await store.SearchEventsAsync(new EventSearch { Query = query, Limit = PageSize, Cursor = cursor }, cancellationToken).ConfigureAwait(false);
            foreach (var e in page.Items)
            {
                yield return e;
            }
            cursor = page.Next;
        }
        while (cursor is not null);
    }

    /// <summary>Every recorded folder of <paramref name="owner"/>, deleted ones included.</summary>
    private async Task<IReadOnlyList<FolderObject>> FoldersOfAsync(string owner, CancellationToken cancellationToken)
    {
        var inbox = CyrusMailboxName.FromOwnerView(owner, "INBOX").ToLowerInvariant();
        var at = owner.LastIndexOf('@');
        var prefix = "user/" + (at > 0 ? owner[..at] : owner).ToLowerInvariant() + "/";
        var node = new OrNode([new KeywordNode(KeywordField.Folder, inbox, false), new KeywordNode(KeywordField.Folder, prefix, true)]);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var folders = new List<FolderObject>();
        await foreach (var e in EventsAsync(node, null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var id in new[] { e.FolderId, e.OldFolderId })
            {
                if (id is not null && ids.Add(id)
                    && await store.GetFolderAsync(id, cancellationToken).ConfigureAwait(false) is { } folder
                    && string.Equals(folder.Owner ?? CyrusMailboxName.OwnerOf(folder.Name), owner, StringComparison.OrdinalIgnoreCase))
                {
                    folders.Add(folder);
                }
            }
        }
        // And the folders recorded now under the owner's INBOX: the backfill records folders without any event.
        var inboxName = CyrusMailboxName.FromOwnerView(owner, "INBOX");
        var current = new List<FolderObject>();
        if (await store.FindFolderByNameAsync(inboxName, cancellationToken).ConfigureAwait(false) is { } inboxFolder)
        {
            current.Add(inboxFolder);
        }
        current.AddRange(await store.FindFoldersBelowAsync(inboxName, cancellationToken).ConfigureAwait(false));
        folders.AddRange(current.Where(f => ids.Add(f.Id)
            && string.Equals(f.Owner ?? CyrusMailboxName.OwnerOf(f.Name), owner, StringComparison.OrdinalIgnoreCase)));
        return folders;
    }
}
