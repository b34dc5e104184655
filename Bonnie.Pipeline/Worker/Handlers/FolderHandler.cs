using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Worker.Handlers;

/// <summary>Folders: create, delete, rename, subscriptions, ACL entries, quota, and the modseq Cyrus reports.</summary>
internal sealed class FolderHandler : IEventHandler
{
    public IReadOnlySet<EventType> EventTypes { get; } = new HashSet<EventType>
    {
        EventType.MailboxCreate, EventType.MailboxDelete, EventType.MailboxRename, EventType.MailboxSubscribe, EventType.MailboxUnSubscribe,
        EventType.AclChange, EventType.QuotaChange, EventType.QuotaExceed, EventType.QuotaWithin, EventType.MailboxModseq,
    };

    public async Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        switch (e.Type)
        {
            case EventType.MailboxCreate:
                await CreateAsync(context, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.MailboxRename:
                await RenameAsync(context, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.QuotaChange:
            case EventType.QuotaExceed:
            case EventType.QuotaWithin:
                await QuotaAsync(context, cancellationToken).ConfigureAwait(false);
                break;
            default:
                {
                    var folder = await HandlerSupport.FolderOfAsync(context, cancellationToken).ConfigureAwait(false);
                    if (folder is not null)
                    {
                        Apply(context, folder);
                        if (e.Type == EventType.MailboxDelete)
                        {
                            await EndMessagesAsync(context, folder, cancellationToken).ConfigureAwait(false);
                            if (FolderNames.IsUserInbox(folder.Name))
                            {
                                await DeleteUserFoldersAsync(context, folder, cancellationToken).ConfigureAwait(false);
                            }
                        }
                    }
                    break;
                }
        }
    }

    private static void Apply(EventContext context, FolderObject folder)
    {
        var e = context.Event;
        switch (e.Type)
        {
            case EventType.MailboxDelete:
                folder.Exists = false;
                break;
            case EventType.MailboxSubscribe when e.User is not null:
                folder.Subscribers.Add(e.User);
                break;
            case EventType.MailboxUnSubscribe when e.User is { } user:
                if (context.FolderDiscovered)
                {
                    // First seen through this event: the user being unsubscribed was subscribed until now.
                    context.Work.Learn(folder, f => f.Subscribers.Add(user));
                }
                folder.Subscribers.Remove(user);
                break;
            case EventType.AclChange:
                ApplyAcl(e, folder);
                break;
            case EventType.MailboxModseq:
                // Arrives before the event it belongs to: keep the highest modseq, change nothing else.
                if (e.Modseq is { } modseq && (folder.Modseq is null || modseq > folder.Modseq))
                {
                    folder.Modseq = modseq;
                }
                // The folder's METADATA as the server has it now (read for this event): the diff records each entry set,
                // changed or removed since Bonnie last read it.
                if (context.FolderMetadata is { } entries)
                {
                    if (folder.Metadata.Count == 0)
                    {
                        // The first read of the folder: Cyrus's own settings of it (partition, sharedseen, duplicatedeliver,
                        // pop3newuidl...) were there before, not set by the session of this event; recorded as changes,
                        // they showed up as if it had set them (found by a live review). Other entries (/shared/comment)
                        // are recorded as changes, as before. Cyrus reports its settings for every folder, so a folder read
                        // before is never without them. Known limit: when the event that causes the first read is itself an
                        // administrator setting one of Cyrus's own entries, that setting is taken as what was there too.
                        context.Work.Learn(folder, f => f.Metadata = new SortedDictionary<string, string>(
                            entries.Where(x => x.Key.StartsWith(CyrusOwnMetadata, StringComparison.Ordinal)).ToDictionary(), StringComparer.Ordinal));
                    }
                    folder.Metadata = new SortedDictionary<string, string>(entries, StringComparer.Ordinal);
                }
                break;
        }
    }

    private const string CyrusOwnMetadata = "/shared/vendor/cmu/cyrus-imapd/";

    // Cyrus sends no expunge for the messages of a deleted folder: they leave with it, each recorded as such.
    private static async Task EndMessagesAsync(EventContext context, FolderObject folder, CancellationToken cancellationToken)
    {
        foreach (var message in await context.Work.FindMessagesInFolderAsync(folder.Id, cancellationToken).ConfigureAwait(false))
        {
            foreach (var location in message.Locations)
            {
                if (location.Until is null && location.FolderId == folder.Id)
                {
                    location.Until = context.At;
                    location.EndReason = LocationOrigin.FolderDeleted;
                }
            }
            context.SeeMessage(message);
        }
    }

    // Deleting a user's INBOX deletes the user: every folder below goes with it, and Cyrus notifies the INBOX only.
    private static async Task DeleteUserFoldersAsync(EventContext context, FolderObject inbox, CancellationToken cancellationToken)
    {
        foreach (var child in await context.Work.FindFoldersBelowAsync(inbox.Name, cancellationToken).ConfigureAwait(false))
        {
            child.Exists = false;
            await EndMessagesAsync(context, child, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void ApplyAcl(CyrusEvent e, FolderObject folder)
    {
        if (e.Acl.Count > 0)
        {
            // vnd.cmu.mailboxACL is the whole ACL after the change: the diff yields each grant and revoke.
            folder.Acl.Clear();
            foreach (var entry in e.Acl)
            {
                folder.Acl[entry.Identifier] = entry.Rights;
            }
        }
        else if (e.AclSubject is { } subject)
        {
            if (string.IsNullOrEmpty(e.AclRights))
            {
                folder.Acl.Remove(subject);
            }
            else
            {
                folder.Acl[subject] = e.AclRights;
            }
        }
    }

    private static async Task CreateAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (e.Mailbox is null)
        {
            return;
        }
        // 3.x names the new folder by its unique id. 2.5 gives none: a folder of that name that exists is the one
        // created (its create reported late), else it is new, under a key no other folder has.
        var folder = e.MailboxId is { } id
            ? await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false)
            : await HandlerSupport.FolderNamedAsync(context, e.Mailbox.Name, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            folder = await HandlerSupport.FirstSeenAsync(context, e.Mailbox.Name, e.Mailbox.UidValidity,
                key => context.Work.CreateFolder(key, e.Mailbox.Name, context.At), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (folder.Exists)
            {
                // Known already, though Cyrus reports its creation only now: an event of it (a MailboxModseq, which
                // Cyrus may send first) arrived before and taught its ACL. Before this event it did not exist and had
                // no ACL, so its existence and its first grants are recorded here, as if the create had come first.
                var known = e.Acl.Count == 0 ? new Dictionary<string, string>(folder.Acl, StringComparer.Ordinal) : null;
                context.Work.Learn(folder, f =>
                {
                    f.Exists = false;
                    f.Acl.Clear();
                });
                foreach (var (subject, rights) in known ?? [])
                {
                    folder.Acl[subject] = rights;
                }
            }
            folder.Exists = true;
        }
        context.FolderId = folder.Id;
        if (!(folder.NameSince > context.At))
        {
            // Unless a rename after the creation was processed first (another lane), the folder is called as created.
            folder.Name = e.Mailbox.Name;
            folder.Owner = e.Mailbox.Owner;
            folder.NameSince = context.At;
        }
        folder.UidValidity = e.Mailbox.UidValidity ?? folder.UidValidity;
        foreach (var entry in e.Acl)
        {
            folder.Acl[entry.Identifier] = entry.Rights;
        }
    }

    private static async Task RenameAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (e.Mailbox is null)
        {
            return;
        }
        var oldName = e.OldMailbox?.Name ?? e.Mailbox.Name;
        context.OldFolderName = e.OldMailbox?.Name;
        // 3.x keeps the unique id across a rename; 2.5 sends none, so find the folder by its old name, or by the new
        // one when the rename of a parent renamed it already.
        FolderObject? folder;
        if (e.MailboxId is { } id)
        {
            folder = await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            folder = await HandlerSupport.FolderNamedAsync(context, oldName, cancellationToken).ConfigureAwait(false)
                ?? await HandlerSupport.FolderNamedAsync(context, e.Mailbox.Name, cancellationToken).ConfigureAwait(false);
        }
        if (folder is null)
        {
            // First seen now: under its old name it may have been known by name only (a copy out of it came first).
            folder = await HandlerSupport.FirstSeenAsync(context, oldName, e.Mailbox.UidValidity, key => context.Work.DiscoverFolder(key, oldName, context.At, f =>
            {
                f.UidValidity = e.Mailbox.UidValidity;
                f.Owner = e.OldMailbox?.Owner;
            }), cancellationToken).ConfigureAwait(false);
        }
        context.FolderId = folder.Id;
        context.OldFolderId = folder.Id;
        if (folder.NameSince is null && string.Equals(folder.Name, e.Mailbox.Name, StringComparison.Ordinal)
            && !string.Equals(oldName, e.Mailbox.Name, StringComparison.Ordinal))
        {
            // Known so far only under the name this rename gave it, from a later event processed first (its deletion,
            // in another lane): before this rename it had the old name. Without this its old name found nothing and its
            // history had no rename.
            context.Work.Learn(folder, f => f.Name = oldName);
        }
        var renamedFrom = folder.Name;
        var oldOwner = folder.Owner;
        // A later rename processed first (it came through another lane: an administrator's rename of a user waits in
        // the new user's lane) gave the folder the name it has: this one still happened, before it.
        var afterALaterRename = folder.NameSince is { } since && since > context.At;
        // Folders below that got their names after this moment were not below the folder when it was renamed.
        var belowSince = afterALaterRename ? folder.NameSince : context.At;
        if (!afterALaterRename)
        {
            folder.Name = e.Mailbox.Name;
            folder.Owner = e.Mailbox.Owner;
            folder.NameSince = context.At;
        }
        else if (await LaterAncestorRenameAsync(context, folder, oldName, cancellationToken).ConfigureAwait(false) is { } ancestor)
        {
            if (FolderNames.IsBelow(e.Mailbox.Name, ancestor.From))
            {
                // Renamed within the ancestor's subtree: it lands under the ancestor's new name, with its owner.
                folder.Name = FolderNames.Rebase(e.Mailbox.Name, ancestor.From, ancestor.To);
            }
            else
            {
                // Taken out of that subtree first: the ancestor's rename did not take it along.
                folder.Name = e.Mailbox.Name;
                folder.Owner = e.Mailbox.Owner;
            }
        }
        // Otherwise the later rename was of the folder itself: its name stands.
        folder.UidValidity = e.Mailbox.UidValidity ?? folder.UidValidity;
        if (!string.Equals(renamedFrom, folder.Name, StringComparison.Ordinal) && FolderNames.RenameTakesChildren(renamedFrom, folder.Name))
        {
            // Cyrus renames the folders below with it and notifies only this one ("don't notify implied rename"):
            // each is renamed here, recorded on its own history as caused by this event.
            foreach (var child in await context.Work.FindFoldersBelowAsync(renamedFrom, cancellationToken).ConfigureAwait(false))
            {
                // A folder that got its name after this rename happened (a later rename processed first) was not below
                // this one then; after a later ancestor's rename, those it took along with this one were.
                if (ReferenceEquals(child, folder) || child.NameSince > belowSince)
                {
                    continue;
                }
                child.Name = FolderNames.Rebase(child.Name, renamedFrom, folder.Name);
                child.NameSince = child.NameSince > context.At ? child.NameSince : context.At;
                if (string.Equals(child.Owner, oldOwner, StringComparison.OrdinalIgnoreCase))
                {
                    child.Owner = folder.Owner;
                }
            }
        }
    }

    /// <summary>
    /// The ancestor rename that gave <paramref name="folder"/> its current name, when one did: an ancestor's rename
    /// explains the change from <paramref name="oldName"/>, and that ancestor got its name at the same moment.
    /// </summary>
    private static async Task<(string From, string To)?> LaterAncestorRenameAsync(EventContext context, FolderObject folder, string oldName,
        CancellationToken cancellationToken)
    {
        foreach (var ancestor in FolderNames.AncestorsRenamed(oldName, folder.Name))
        {
            var renamed = await context.Work.FindFolderByNameAsync(ancestor.To, cancellationToken).ConfigureAwait(false);
            if (renamed is not null && renamed.NameSince == folder.NameSince)
            {
                return ancestor;
            }
        }
        return null;
    }

    private static async Task QuotaAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (e.Mailbox is null)
        {
            return;
        }
        // Quota events name the quota root, not a mailbox id: find the folder by its name.
        var root = e.Mailbox.Name;
        var folder = await HandlerSupport.FolderNamedAsync(context, root, cancellationToken).ConfigureAwait(false)
            ?? context.Work.DiscoverFolder(await HandlerSupport.NewNameKeyAsync(context, root, cancellationToken).ConfigureAwait(false), root, context.At);
        context.FolderId = folder.Id;
        folder.Owner ??= e.Mailbox.Owner;
        Set(folder, "storage-limit", e.DiskQuota);
        Set(folder, "storage-used", e.DiskUsed);
        Set(folder, "messages-limit", e.MaxMessages);
        Set(folder, "messages-used", e.Messages);
        folder.QuotaState = e.Type switch
        {
            EventType.QuotaExceed => "exceeded",
            EventType.QuotaWithin => "within",
            _ => folder.QuotaState,
        };
    }

    private static void Set(FolderObject folder, string resource, long? value)
    {
        if (value is { } v)
        {
            folder.Quota[resource] = v;
        }
    }
}
