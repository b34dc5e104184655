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
            case EventType.MailboxUnSubscribe when e.User is not null:
                folder.Subscribers.Remove(e.User);
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
                    folder.Metadata = new SortedDictionary<string, string>(entries, StringComparer.Ordinal);
                }
                break;
        }
    }

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
            context.MessageKeys.Add(message.Key);
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
        var id = HandlerSupport.FolderIdOf(e);
        if (id is null || e.Mailbox is null)
        {
            return;
        }
        context.FolderId = id;
        var folder = await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            folder = context.Work.CreateFolder(id, e.Mailbox.Name, context.At);
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
            folder.Name = e.Mailbox.Name;
        }
        folder.Owner = e.Mailbox.Owner;
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
        context.OldFolderName = e.OldMailbox?.Name;
        // 3.x keeps the unique id across a rename; 2.5 sends none, so find the folder by its old name.
        var id = e.MailboxId;
        FolderObject? folder = null;
        if (id is not null)
        {
            folder = await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false);
        }
        else if (e.OldMailbox is { } old)
        {
            folder = await context.Work.FindFolderByNameAsync(old.Name, cancellationToken).ConfigureAwait(false)
                ?? await context.Work.GetFolderAsync(HandlerSupport.NameKey(old.Name), cancellationToken).ConfigureAwait(false);
        }
        folder ??= context.Work.DiscoverFolder(id ?? HandlerSupport.NameKey(e.OldMailbox?.Name ?? e.Mailbox.Name), e.OldMailbox?.Name ?? e.Mailbox.Name, context.At);
        context.FolderId = folder.Id;
        context.OldFolderId = folder.Id;
        folder.Name = e.Mailbox.Name;
        folder.Owner = e.Mailbox.Owner;
        folder.UidValidity = e.Mailbox.UidValidity ?? folder.UidValidity;
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
        var folder = await context.Work.FindFolderByNameAsync(root, cancellationToken).ConfigureAwait(false)
            ?? await context.Work.GetFolderAsync(HandlerSupport.NameKey(root), cancellationToken).ConfigureAwait(false)
            ?? context.Work.DiscoverFolder(HandlerSupport.NameKey(root), root, context.At);
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
