using Bonnie.Pipeline.Storage;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Worker.Handlers;

/// <summary>
/// A handler plugin: declares the event types it wants and changes objects through the context's unit of work.
/// Registered as an enumerable service; the processor runs every handler that wants an event, in registration order.
/// </summary>
internal interface IEventHandler
{
    IReadOnlySet<EventType> EventTypes { get; }

    Task HandleAsync(EventContext context, CancellationToken cancellationToken);
}

/// <summary>One event being processed: the parsed notification, its unit of work and what handlers add to the stored event.</summary>
internal sealed class EventContext
{
    public required CyrusEvent Event { get; init; }
    public required string EventId { get; init; }
    public required UnitOfWork Work { get; init; }
    public required Actor Actor { get; init; }

    public List<string> MessageKeys { get; } = [];
    public string? FolderId { get; set; }
    public string? OldFolderId { get; set; }
    public string? OldFolderName { get; set; }

    /// <summary>Set by the processor before the handlers run, for MessageNew/MessageAppend.</summary>
    public PayloadStatus PayloadStatus { get; init; }
    public string? PayloadSha256 { get; init; }
    /// <summary>Set by the processor for a folder's MailboxModseq when its METADATA was read (see StoreJobProcessor).</summary>
    public SortedDictionary<string, string>? FolderMetadata { get; init; }

    public DateTimeOffset At => Event.Timestamp;
}

/// <summary>What several handlers need: folder identity from an event, flag spelling.</summary>
internal static class HandlerSupport
{
    private static readonly Dictionary<string, string> SystemFlags = new(StringComparer.OrdinalIgnoreCase)
    {
        ["\\seen"] = "\\Seen",
        ["\\answered"] = "\\Answered",
        ["\\flagged"] = "\\Flagged",
        ["\\deleted"] = "\\Deleted",
        ["\\draft"] = "\\Draft",
        ["\\recent"] = "\\Recent",
    };

    /// <summary>System flags in their RFC 3501 spelling (Cyrus sends <c>\seen</c> on APPEND, <c>\Seen</c> elsewhere); keywords as sent.</summary>
    public static string NormalizeFlag(string flag) => SystemFlags.TryGetValue(flag, out var canonical) ? canonical : flag;

    /// <summary>The folder's identity: Cyrus's unique id, or (2.5, which sends none) its name.</summary>
    public static string? FolderIdOf(CyrusEvent e)
        => e.MailboxId ?? (e.Mailbox is { } m ? NameKey(m.Name) : null);

    public static string NameKey(string name) => "name:" + name.ToLowerInvariant();

    /// <summary>The event's folder, discovered (not created: nothing changes) when first seen; null when the event names none.</summary>
    public static async Task<FolderObject?> FolderOfAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        var id = FolderIdOf(e);
        if (id is null || e.Mailbox is null)
        {
            return null;
        }
        context.FolderId = id;
        var folder = await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false)
            ?? context.Work.DiscoverFolder(id, e.Mailbox.Name, context.At, f =>
            {
                // The ACL the event reports is the folder's state when first seen, not a change.
                foreach (var entry in e.Acl)
                {
                    f.Acl[entry.Identifier] = entry.Rights;
                }
            });
        folder.Owner ??= e.Mailbox.Owner;
        if (folder.Acl.Count == 0 && e.Acl.Count > 0)
        {
            // Never reported before (first seen through an event without vnd.cmu.mailboxACL): what the event says
            // is the ACL as it stood, except the entry an AclChange is about, which is the change.
            context.Work.Learn(folder, f =>
            {
                foreach (var entry in e.Acl)
                {
                    if (e.Type != EventType.AclChange || !string.Equals(entry.Identifier, e.AclSubject, StringComparison.Ordinal))
                    {
                        f.Acl[entry.Identifier] = entry.Rights;
                    }
                }
            });
        }
        if (e.Mailbox.UidValidity is { } v)
        {
            folder.UidValidity = v;
        }
        return folder;
    }

    /// <summary>Copy, move, rename: the source folder, by id when the event gives one, else by its current name.</summary>
    public static async Task<FolderObject?> OldFolderOfAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        FolderObject? folder = null;
        if (e.OldMailboxId is { } oldId)
        {
            folder = await context.Work.GetFolderAsync(oldId, cancellationToken).ConfigureAwait(false);
            if (folder is null && e.OldMailbox is { } named)
            {
                folder = context.Work.DiscoverFolder(oldId, named.Name, context.At);
            }
        }
        else if (e.OldMailbox is { } old)
        {
            folder = await context.Work.FindFolderByNameAsync(old.Name, cancellationToken).ConfigureAwait(false)
                ?? await context.Work.GetFolderAsync(NameKey(old.Name), cancellationToken).ConfigureAwait(false)
                ?? context.Work.DiscoverFolder(NameKey(old.Name), old.Name, context.At);
        }
        if (folder is not null)
        {
            context.OldFolderId = folder.Id;
            context.OldFolderName = e.OldMailbox?.Name ?? folder.Name;
        }
        return folder;
    }
}
