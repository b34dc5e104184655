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
    /// <summary>Why a handler left the event out of the objects' histories (it is stored all the same), or null.</summary>
    public string? NotApplied { get; set; }
    public string? FolderId { get; set; }
    public string? OldFolderId { get; set; }
    public string? OldFolderName { get; set; }
    /// <summary>The event's folder was unknown to Bonnie before this event.</summary>
    public bool FolderDiscovered { get; set; }

    /// <summary>Set by the processor before the handlers run, for MessageNew/MessageAppend.</summary>
    public PayloadStatus PayloadStatus { get; init; }
    public string? PayloadSha256 { get; init; }
    /// <summary>The server's INTERNALDATE of the delivered message, when the payload's source read it.</summary>
    public DateTimeOffset? PayloadInternalDate { get; init; }
    /// <summary>
    /// For a move or copy: bytes read where it took a message that had none (gone from where it was delivered before
    /// they were read), by the UID there. Set by the processor (StoreJobProcessor.FollowMovedMessagesAsync).
    /// </summary>
    public IReadOnlyDictionary<uint, MovedPayload> PayloadsWhereMoved { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<uint, MovedPayload>.Empty;
    /// <summary>Set by the processor for a folder's MailboxModseq when its METADATA was read (see StoreJobProcessor).</summary>
    public SortedDictionary<string, string>? FolderMetadata { get; init; }

    public DateTimeOffset At => Event.Timestamp;

    // At most this many subjects and senders are carried by one event (an expunge of thousands names as many messages).
    private const int MessageTextLimit = 10;
    private readonly List<string> _subjects = [];
    private readonly List<string> _senders = [];

    /// <summary>The subjects of the messages this event touched (as their arrival told them), the first ten.</summary>
    public IReadOnlyList<string> MessageSubjects => _subjects;

    /// <summary>The senders of the messages this event touched, the first ten.</summary>
    public IReadOnlyList<string> MessageSenders => _senders;

    /// <summary>
    /// The event touched <paramref name="message"/>: its key goes into the event, and its subject and sender with it,
    /// so that <c>subject:invoice event:MessageExpunge</c> finds who deleted the invoice (a review found text matched
    /// only the deliveries, which alone carry an envelope).
    /// </summary>
    public void SeeMessage(MessageObject message)
    {
        MessageKeys.Add(message.Key);
        if (message.Subject is { Length: > 0 } subject && _subjects.Count < MessageTextLimit && !_subjects.Contains(subject))
        {
            _subjects.Add(subject);
        }
        if (message.From is { Length: > 0 } from && _senders.Count < MessageTextLimit && !_senders.Contains(from, StringComparer.OrdinalIgnoreCase))
        {
            _senders.Add(from);
        }
    }
}

/// <summary>What several handlers need: folder identity from an event, flag spelling.</summary>
internal static class HandlerSupport
{
    /// <summary>An address as events keep it in their from and to: <c>Name &lt;address&gt;</c>, or the address alone.</summary>
    public static string AddressText(string? name, string address) => name is { Length: > 0 } n ? $"{n} <{address}>" : address;

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

    /// <summary>The key of a message known by nothing but its place (no GUID, no Message-ID): folder, UIDVALIDITY and UID.</summary>
    public static string LocationKey(string folderId, uint? uidValidity, uint uid)
        => $"loc:{folderId}/{uidValidity?.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{uid.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>A Message-ID Bonnie can tell a message by: Cyrus sends <c>NIL</c> in the midset for a message without one.</summary>
    public static string? UsableMessageId(string? messageId)
        => string.IsNullOrWhiteSpace(messageId) || string.Equals(messageId, "NIL", StringComparison.OrdinalIgnoreCase) ? null : messageId;

    /// <summary>The folder an event names, for an event no handler resolved: Cyrus's unique id, else its name key.</summary>
    public static string? FolderIdOf(CyrusEvent e)
        => e.MailboxId ?? (e.Mailbox is { } m ? NameKey(m.Name) : null);

    /// <summary>
    /// The key of a folder that Cyrus names but gives no unique id (2.5, or a 3.x copy's source): its name, lower-cased.
    /// </summary>
    public static string NameKey(string name) => "name:" + name.ToLowerInvariant();

    /// <summary>
    /// The folder now called <paramref name="name"/>, for events that give no unique id: found by its current name (it
    /// may have been renamed to it, its key still the old name), else by its name key while it still has that name.
    /// <paramref name="accept"/>, when given, must hold for the folder found either way.
    /// </summary>
    public static async Task<FolderObject?> FolderNamedAsync(EventContext context, string name, CancellationToken cancellationToken,
        Func<FolderObject, bool>? accept = null)
    {
        var folder = await context.Work.FindFolderByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (folder is not null && (accept?.Invoke(folder) ?? true))
        {
            return folder;
        }
        var keyed = await context.Work.GetFolderAsync(NameKey(name), cancellationToken).ConfigureAwait(false);
        return keyed is { Exists: true } && string.Equals(keyed.Name, name, StringComparison.OrdinalIgnoreCase) && (accept?.Invoke(keyed) ?? true)
            ? keyed
            : null;
    }

    /// <summary>
    /// A key for a folder without a unique id that is new to Bonnie: its name key, unless another folder has it (one
    /// renamed away from the name, or deleted): then the name key and the moment, which a replay of the event repeats.
    /// </summary>
    public static async Task<string> NewNameKeyAsync(EventContext context, string name, CancellationToken cancellationToken)
    {
        var key = NameKey(name);
        return await context.Work.GetFolderAsync(key, cancellationToken).ConfigureAwait(false) is null
            ? key
            : key + ";" + context.At.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The event's folder, discovered (not created: nothing changes) when first seen; null when the event names none.</summary>
    public static async Task<FolderObject?> FolderOfAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (e.Mailbox is null)
        {
            return null;
        }
        var folder = e.MailboxId is { } id
            ? await context.Work.GetFolderAsync(id, cancellationToken).ConfigureAwait(false)
            : await FolderNamedAsync(context, e.Mailbox.Name, cancellationToken).ConfigureAwait(false);
        // A MailboxModseq comes before the event it belongs to and reports the ACL as that event left it: learned from
        // it, an AclChange processed next would find its own grant already there and record nothing.
        IReadOnlyList<AclEntry> acl = e.Type == EventType.MailboxModseq ? [] : e.Acl;
        if (folder is null)
        {
            // Its ACL as the event reports it is learned below: the state when first seen, not a change.
            context.FolderDiscovered = true;
            folder = await FirstSeenAsync(context, e.Mailbox.Name, e.Mailbox.UidValidity,
                key => context.Work.DiscoverFolder(key, e.Mailbox.Name, context.At), cancellationToken).ConfigureAwait(false);
        }
        context.FolderId = folder.Id;
        folder.Owner ??= e.Mailbox.Owner;
        if (folder.Acl.Count == 0 && acl.Count > 0)
        {
            // Never reported before (first seen through an event without vnd.cmu.mailboxACL): what the event says
            // is the ACL as it stood, except the entry an AclChange is about, which is the change.
            context.Work.Learn(folder, f =>
            {
                foreach (var entry in acl)
                {
                    if (!IsTheAclChange(e, entry.Identifier))
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

    private static bool IsTheAclChange(CyrusEvent e, string identifier)
        => e.Type == EventType.AclChange && string.Equals(identifier, e.AclSubject, StringComparison.Ordinal);

    /// <summary>
    /// A folder Bonnie has not seen before, made by <paramref name="make"/> under its key: Cyrus's unique id, or (2.5)
    /// a name key no other folder has. With an id, it takes over the stand-in Bonnie knew it by, if any.
    /// </summary>
    public static async Task<FolderObject> FirstSeenAsync(EventContext context, string name, uint? uidValidity, Func<string, FolderObject> make,
        CancellationToken cancellationToken)
    {
        if (context.Event.MailboxId is not { } id)
        {
            return make(await NewNameKeyAsync(context, name, cancellationToken).ConfigureAwait(false));
        }
        // Looked up before the folder with the id is tracked, which has the same name.
        var standIn = await StandInAsync(context, name, uidValidity, cancellationToken).ConfigureAwait(false);
        var folder = make(id);
        await AdoptAsync(context, standIn, folder, cancellationToken).ConfigureAwait(false);
        return folder;
    }

    /// <summary>
    /// The stand-in for a folder Bonnie knew by name only (Cyrus 3.x names a copy's or move's source by URI, without
    /// its id): the folder now called <paramref name="name"/> if it is one, not yet taken over, and of the same
    /// UIDVALIDITY when both are known (a folder created later under the name is another folder).
    /// </summary>
    private static Task<FolderObject?> StandInAsync(EventContext context, string name, uint? uidValidity, CancellationToken cancellationToken)
        => FolderNamedAsync(context, name, cancellationToken, f => f is { Exists: true, SameAs: null } && f.Id.StartsWith("name:", StringComparison.Ordinal)
            && string.Equals(f.Name, name, StringComparison.Ordinal) && (f.UidValidity is null || uidValidity is null || f.UidValidity == uidValidity));

    /// <summary>
    /// The folder now seen with its unique id is the one Bonnie knew by name only: the messages known to be in the
    /// stand-in are in the real folder, and the stand-in is no folder of its own (it points to the real one).
    /// Knowledge, not change: nothing is recorded for either.
    /// </summary>
    private static async Task AdoptAsync(EventContext context, FolderObject? standIn, FolderObject real, CancellationToken cancellationToken)
    {
        if (standIn is null || ReferenceEquals(standIn, real))
        {
            return;
        }
        foreach (var message in await context.Work.FindMessagesInFolderAsync(standIn.Id, cancellationToken).ConfigureAwait(false))
        {
            context.Work.Learn(message, m => m.Locations = m.Locations.ConvertAll(l => l.FolderId == standIn.Id ? l.Clone(real.Id) : l));
        }
        context.Work.Learn(standIn, f =>
        {
            f.Exists = false;
            f.SameAs = real.Id;
        });
        context.Work.Learn(real, f =>
        {
            f.Subscribers.UnionWith(standIn.Subscribers);
            foreach (var (subject, rights) in standIn.Acl)
            {
                f.Acl.TryAdd(subject, rights);
            }
        });
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
            folder = await FolderNamedAsync(context, old.Name, cancellationToken).ConfigureAwait(false)
                ?? context.Work.DiscoverFolder(await NewNameKeyAsync(context, old.Name, cancellationToken).ConfigureAwait(false), old.Name, context.At,
                    f => f.UidValidity = old.UidValidity);
        }
        if (folder is not null)
        {
            context.OldFolderId = folder.Id;
            context.OldFolderName = e.OldMailbox?.Name ?? folder.Name;
        }
        return folder;
    }
}

/// <summary>A message's bytes, read where a move or copy took it (<see cref="EventContext.PayloadsWhereMoved"/>).</summary>
public sealed record MovedPayload(PayloadStatus Status, string Sha256, DateTimeOffset? InternalDate);
