using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Worker.Handlers;

/// <summary>
/// Messages: arrival (new, append), copy, move, expunge, expire, trash, read and flags. A message keeps one
/// identity and one history across folders: a move changes its location, a copy adds one.
/// </summary>
internal sealed class MessageHandler : IEventHandler
{
    public IReadOnlySet<EventType> EventTypes { get; } = new HashSet<EventType>
    {
        EventType.MessageNew, EventType.MessageAppend, EventType.MessageCopy, EventType.MessageMove, EventType.MessageExpunge,
        EventType.MessageExpire, EventType.MessageTrash, EventType.MessageRead, EventType.FlagsSet, EventType.FlagsClear,
    };

    /// <summary>
    /// The most UIDs one event's messages are followed for. Cyrus names what an event touched; a broken or hostile
    /// notification names <c>1:4294967295</c>, which held up every mailbox's events while the worker walked it (and the
    /// pairing of a copy's UIDs would not fit in memory). Beyond this the event is kept in the trail as it came, and its
    /// messages' histories do not record it (said in the log, <see cref="EventContext.NotApplied"/>, and on the event's page).
    /// </summary>
    internal const long MaxUidsPerEvent = 100_000;

    public async Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        var folder = await HandlerSupport.FolderOfAsync(context, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            return;
        }
        if (Math.Max(e.UidSet?.Count ?? 0, e.OldUidSet?.Count ?? 0) is var named and > MaxUidsPerEvent)
        {
            // After the folder is known, so the event is still found by folder: like every other.
            context.NotApplied = $"it names {named:N0} UIDs, more than the {MaxUidsPerEvent:N0} Bonnie follows per event; its messages' histories do not record it";
            return;
        }
        switch (e.Type)
        {
            case EventType.MessageNew:
            case EventType.MessageAppend:
                await ArriveAsync(context, folder, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.MessageCopy:
            case EventType.MessageMove:
                await CopyOrMoveAsync(context, folder, move: e.Type == EventType.MessageMove, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.MessageExpunge:
            case EventType.MessageExpire:
                await RemoveAsync(context, folder, e.Type == EventType.MessageExpire ? LocationOrigin.Expired : LocationOrigin.Expunged, cancellationToken)
                    .ConfigureAwait(false);
                break;
            case EventType.MessageTrash:
                await FlagAsync(context, folder, ["\\Deleted"], set: true, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.MessageRead:
                await FlagAsync(context, folder, ["\\Seen"], set: true, cancellationToken).ConfigureAwait(false);
                break;
            case EventType.FlagsSet:
            case EventType.FlagsClear:
                await FlagAsync(context, folder, e.Flags, e.Type == EventType.FlagsSet, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private static async Task ArriveAsync(EventContext context, FolderObject folder, CancellationToken cancellationToken)
    {
        var e = context.Event;
        var uid = e.Mailbox?.Uid ?? e.UidSet?.Uids.FirstOrDefault();
        if (uid is not { } u || u == 0)
        {
            return;
        }
        var envelope = context.Event.Envelope;
        var messageId = HandlerSupport.UsableMessageId(e.MessageIds.Count > 0 ? e.MessageIds[0] : null) ?? HandlerSupport.UsableMessageId(envelope?.MessageId);
        var key = e.EmailId
            ?? (messageId is not null ? $"mid:{messageId}:{e.MessageSize?.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : HandlerSupport.LocationKey(folder.Id, folder.UidValidity, u));
        var underKey = await context.Work.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
        // The email id may name only a pointer to the sighting an earlier delivery of this GUID joined (below).
        var message = await MessageHistory.FollowAsync(underKey, k => context.Work.GetMessageAsync(k, cancellationToken)).ConfigureAwait(false);
        var seen = await SightingHereAsync(context, folder, u, messageId, cancellationToken).ConfigureAwait(false);
        if (message is null && seen is null)
        {
            // A sighting of this Message-ID here would be the one found at this place: only without one is it asked for.
            message = await JoinedASightingAsync(context, messageId, cancellationToken).ConfigureAwait(false);
        }
        if (message is null && seen is not null)
        {
            message = seen;
        }
        else if (message is not null && seen is not null && !string.Equals(seen.Key, message.Key, StringComparison.Ordinal))
        {
            MergeSighting(context, message, seen, folder, u);
        }
        message ??= context.Work.CreateMessage(key, context.At);
        if (underKey is null && e.EmailId is { } emailId && !string.Equals(message.Key, emailId, StringComparison.Ordinal))
        {
            // The delivery joined a message known until now by its Message-ID (events about it came first), whose key it
            // keeps. Its GUID, the id Cyrus and every IMAP client give it, must still find it: a pointer under the email id
            // (no place, no change; read through MessageHistory.ResolveAsync), as a merged sighting points to its message.
            var target = message.Key;
            context.Work.DiscoverMessage(emailId, context.At, m =>
            {
                m.SameAs = target;
                m.EmailId = emailId;
            });
        }
        context.SeeMessage(message);
        message.EmailId ??= e.EmailId;
        message.MessageId ??= messageId;
        message.Size ??= e.MessageSize;
        message.Subject ??= envelope?.Subject;
        message.From ??= envelope is { From.Count: > 0 } ? envelope.From[0].Address : null;
        message.InternalDate ??= context.PayloadInternalDate;
        if (context.PayloadStatus != PayloadStatus.None && message.PayloadStatus is PayloadStatus.None or PayloadStatus.Missing)
        {
            message.PayloadStatus = context.PayloadStatus;
            message.PayloadSha256 = context.PayloadSha256;
        }
        if ((message.CurrentAt(folder.Id, u) ?? SeenThereAndLeftAfter(context, message, folder.Id, u)) is { } here)
        {
            if (here.Origin == LocationOrigin.Seen)
            {
                // A later event found the message at this very place before its arrival was processed (a copy or a move out
                // of the folder handled first, from another lane, or a delivery postponed): the place it was only seen at
                // is where it arrived, still there or left as it was left. The arrival is recorded (ChangeDiff), and the
                // flags learnt there since stay with the ones it arrived with: a flag set before the delivery was
                // processed was lost (a review).
                here.Origin = e.Type == EventType.MessageNew ? LocationOrigin.Delivered : LocationOrigin.Appended;
                here.Since = context.At < here.Since ? context.At : here.Since;
                here.Flags.UnionWith(e.Flags.Select(HandlerSupport.NormalizeFlag));
            }
            return;
        }
        var location = new MessageLocation
        {
            FolderId = folder.Id,
            Uid = u,
            FolderName = folder.Name,
            Origin = e.Type == EventType.MessageNew ? LocationOrigin.Delivered : LocationOrigin.Appended,
            Since = context.At,
        };
        foreach (var flag in e.Flags)
        {
            location.Flags.Add(HandlerSupport.NormalizeFlag(flag));
        }
        context.Work.AddLocation(message, location);
    }

    /// <summary>
    /// The message an earlier delivery of the same GUID joined (a sighting at its place, see ArriveAsync): it kept the
    /// key of the sighting it joined, so it is not found by its email id. A sighting learns an email id only from a
    /// delivery that joined it, so a sighting of this Message-ID that carries this email id is that message (one
    /// message delivered to several mailboxes by one LMTP transaction has one GUID).
    /// </summary>
    private static async Task<MessageObject?> JoinedASightingAsync(EventContext context, string? messageId, CancellationToken cancellationToken)
    {
        if (context.Event.EmailId is not { } emailId || messageId is null)
        {
            return null;
        }
        var sighting = await context.Work.GetMessageAsync("mid:" + messageId, cancellationToken).ConfigureAwait(false);
        return string.Equals(sighting?.EmailId, emailId, StringComparison.Ordinal) ? sighting : null;
    }

    /// <summary>
    /// A sighting at this place of a message that turns out to be one already known by its GUID (events about it were
    /// processed before its delivery: a postponed delivery, or a copy out of the place in another lane, while the same
    /// GUID had been delivered to another mailbox). The sighting's places join the message, as knowledge, and the
    /// sighting points to it; its history is read as part of the message's (<see cref="MessageObject.MergedFrom"/>).
    /// Without this, two messages claimed the place and the copy's history was not the delivery's.
    /// </summary>
    private static void MergeSighting(EventContext context, MessageObject message, MessageObject seen, FolderObject folder, uint uid)
    {
        // Not a place the message is already known to have had. The place of this arrival comes too, with what was learnt
        // there: the arrival turns it into the place it arrived at (ArriveAsync).
        var places = seen.Locations
            .Where(l => !message.Locations.Exists(k => k.IsAt(l.FolderId, l.Uid) && (k.Until is null) == (l.Until is null)))
            .ToList();
        var sightingKey = seen.Key;
        var messageKey = message.Key;
        context.Work.Learn(seen, s =>
        {
            s.Locations.Clear();
            s.SameAs = messageKey;
        });
        context.Work.Learn(message, m =>
        {
            m.Locations.AddRange(places.Select(l => l.Clone()));
            if (!m.MergedFrom.Contains(sightingKey))
            {
                m.MergedFrom.Add(sightingKey);
            }
        });
    }

    /// <summary>A message only seen at this place (no arrival there), and of this message as far as can be told.</summary>
    private static async Task<MessageObject?> SightingHereAsync(EventContext context, FolderObject folder, uint uid, string? messageId, CancellationToken cancellationToken)
    {
        // A message delivered there before (the folder's UIDs started again) or one with another Message-ID or GUID is
        // another message.
        var e = context.Event;
        // Once at, not only at: a move or expunge out of the place may have been processed before this arrival too (the
        // move in the lane of its target folder, the delivery postponed for its payload); the message seen there has
        // left it, and is still the one that arrives now. The same one look-up as for a message still there.
        var seen = await context.Work.FindMessageOnceAtAsync(folder.Id, uid, cancellationToken).ConfigureAwait(false);
        if (seen is null
            || (seen.CurrentAt(folder.Id, uid) ?? LastAt(seen, folder.Id, uid)) is not { Origin: LocationOrigin.Seen } sighting
            // A place left before this message arrived was another message's (the folder's UIDs started again under the
            // same id): only one left after the arrival is this one's.
            || (sighting.Until is { } leftAt && context.At > leftAt + ClockSlack)
            || (seen.MessageId is not null && messageId is not null && !string.Equals(seen.MessageId, messageId, StringComparison.Ordinal))
            || (seen.EmailId is not null && e.EmailId is not null && !string.Equals(seen.EmailId, e.EmailId, StringComparison.Ordinal)))
        {
            return null;
        }
        return seen;
    }

    /// <summary>
    /// How much later than the move or expunge that took a message from a place its arrival there may be stamped: the
    /// same server stamps both, so only the rounding of its clock.
    /// </summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The place the message was only seen at and has left already (its move or expunge was processed before this
    /// arrival), when it left after the arrival: one left before was another message's (the folder's UIDs started again).
    /// </summary>
    private static MessageLocation? SeenThereAndLeftAfter(EventContext context, MessageObject message, string folderId, uint uid)
        => LeftAfter(context, message, folderId, uid) is { Origin: LocationOrigin.Seen } left ? left : null;

    /// <summary>
    /// The message's place here if it left it after this event happened (its move or expunge processed first); a place
    /// left before the event was another message's (the folder's UIDs started again).
    /// </summary>
    private static MessageLocation? LeftAfter(EventContext context, MessageObject message, string folderId, uint uid)
        => LastAt(message, folderId, uid) is { Until: { } until } left && context.At <= until + ClockSlack ? left : null;

    private static async Task CopyOrMoveAsync(EventContext context, FolderObject target, bool move, CancellationToken cancellationToken)
    {
        var e = context.Event;
        var source = await HandlerSupport.OldFolderOfAsync(context, cancellationToken).ConfigureAwait(false);
        var newUids = e.UidSet?.Uids.ToList() ?? [];
        var oldUids = e.OldUidSet?.Uids.ToList() ?? [];
        for (var i = 0; i < newUids.Count; i++)
        {
            var messageId = MessageIdAt(e, i, newUids.Count);
            MessageObject? message = null;
            MessageLocation? from = null;
            if (source is not null && i < oldUids.Count)
            {
                message = await context.Work.FindMessageAtAsync(source.Id, oldUids[i], cancellationToken).ConfigureAwait(false)
                    ?? await LeftAlreadyAsync(context, source, oldUids[i], move, cancellationToken).ConfigureAwait(false)
                    ?? await DiscoverAsync(context, source, oldUids[i], messageId, HandlerSupport.LocationKey(source.Id, source.UidValidity, oldUids[i]), cancellationToken)
                        .ConfigureAwait(false);
                from = message.CurrentAt(source.Id, oldUids[i]) ?? LastAt(message, source.Id, oldUids[i]);
            }
            else
            {
                // No source place: without a Message-ID either, the message is known by where it lands.
                message = await DiscoverAsync(context, null, 0, messageId, HandlerSupport.LocationKey(target.Id, target.UidValidity, newUids[i]), cancellationToken)
                    .ConfigureAwait(false);
            }
            context.SeeMessage(message);
            if (message.PayloadStatus == PayloadStatus.Missing && context.PayloadsWhereMoved.TryGetValue(newUids[i], out var bytes))
            {
                // Its delivery found it gone (moved at once); read where this event took it.
                message.PayloadStatus = bytes.Status;
                message.PayloadSha256 = bytes.Sha256;
                message.InternalDate ??= bytes.InternalDate;
            }
            if (message.CurrentAt(target.Id, newUids[i]) is not null)
            {
                continue;
            }
            var to = new MessageLocation
            {
                FolderId = target.Id,
                Uid = newUids[i],
                FolderName = target.Name,
                Origin = move ? LocationOrigin.Moved : LocationOrigin.Copied,
                Since = context.At,
            };
            if (from is not null)
            {
                // COPY and MOVE keep the flags (RFC 3501, RFC 6851).
                to.Flags.UnionWith(from.Flags);
                if (move)
                {
                    // When the MOVE's own expunge came first, the source location ended then; it ended by this move.
                    from.Until ??= context.At;
                    from.EndReason = LocationOrigin.Moved;
                }
            }
            context.Work.AddLocation(message, to);
        }
    }

    // An expunge of more messages than this does not look for those that left before it (a look-up each).
    private const int MaxLeftLookedUp = 1_000;

    private static async Task RemoveAsync(EventContext context, FolderObject folder, string reason, CancellationToken cancellationToken)
    {
        var e = context.Event;
        var lookForLeft = (e.UidSet?.Count ?? 0) <= MaxLeftLookedUp;
        foreach (var uid in e.UidSet?.Uids ?? [])
        {
            // Not found: never seen, or already moved away (a MOVE sends an expunge of its source too).
            var message = await context.Work.FindMessageAtAsync(folder.Id, uid, cancellationToken).ConfigureAwait(false);
            if (message?.CurrentAt(folder.Id, uid) is not { } location)
            {
                // The expunge of a MOVE's source changes nothing, but it is an event about the message that left: its
                // history lists it, as a search by its Message-ID finds it (a live review found one and not the other).
                if ((message ?? (lookForLeft ? await context.Work.FindMessageOnceAtAsync(folder.Id, uid, cancellationToken).ConfigureAwait(false) : null)) is { } left)
                {
                    context.SeeMessage(left);
                }
                continue;
            }
            context.SeeMessage(message);
            location.Until = context.At;
            location.EndReason = reason;
        }
    }

    private static async Task FlagAsync(EventContext context, FolderObject folder, IReadOnlyList<string> flags, bool set, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (!SeenIsTheFoldersOwn(context, folder))
        {
            // Cyrus keeps \Seen per user: the owner's in the folder, anyone else's in their own seen state (unless the
            // folder shares it). bob reading alice's folder does not make her mail read; a review found it recorded so.
            flags = flags.Where(f => !f.Equals("\\Seen", StringComparison.OrdinalIgnoreCase)).ToList();
        }
        var uids = e.UidSet?.Uids.ToList() ?? [];
        for (var i = 0; i < uids.Count; i++)
        {
            var message = await context.Work.FindMessageAtAsync(folder.Id, uids[i], cancellationToken).ConfigureAwait(false);
            MessageLocation? location;
            if (message is null && await LeftAfterAsync(context, folder, uids[i], cancellationToken).ConfigureAwait(false) is { } left)
            {
                // The flag changed while the message was here, and its move or expunge out of here was processed first (the
                // move in its target's lane, a shared folder's or another account's, with this lane behind): the change is
                // part of the place's history. Found as a new sighting here, the message was present in this folder again
                // beside the one it had moved to (a review).
                (message, location) = left;
            }
            else
            {
                message ??= await DiscoverAsync(context, folder, uids[i], MessageIdAt(e, i, uids.Count), HandlerSupport.LocationKey(folder.Id, folder.UidValidity, uids[i]),
                    cancellationToken).ConfigureAwait(false);
                location = message.CurrentAt(folder.Id, uids[i]);
            }
            context.SeeMessage(message);
            if (location is null)
            {
                continue;
            }
            if (!set && location.Origin == LocationOrigin.Seen && (uids.Count == 1 || flags.Count == 1))
            {
                // Cyrus reports a clear only for the messages that had the flag; at a place Bonnie only saw the message
                // (its flags there never reported), it had it until now: knowledge, so the clear is recorded as one. With
                // several messages and several flags, which message lost which is not told, and nothing is assumed.
                var had = flags.Select(HandlerSupport.NormalizeFlag).Where(f => !location.Flags.Contains(f)).ToList();
                var folderId = folder.Id;
                var uid = uids[i];
                context.Work.Learn(message, m => m.CurrentAt(folderId, uid)?.Flags.UnionWith(had));
            }
            foreach (var flag in flags)
            {
                var f = HandlerSupport.NormalizeFlag(flag);
                if (set)
                {
                    location.Flags.Add(f);
                }
                else
                {
                    location.Flags.Remove(f);
                }
            }
        }
    }

    /// <summary>
    /// Whether the event's user changes the folder's own \Seen: its owner (a shared folder has none: per user only),
    /// anyone on a folder that shares it (Cyrus' <c>sharedseen</c>), or a user the event does not name (as before).
    /// </summary>
    private static bool SeenIsTheFoldersOwn(EventContext context, FolderObject folder)
        => context.Actor.User is not { } user
            || (folder.Owner is { } owner && string.Equals(owner, user, StringComparison.OrdinalIgnoreCase))
            || (folder.Metadata.TryGetValue(SharedSeen, out var shared) && string.Equals(shared.Trim(), "true", StringComparison.OrdinalIgnoreCase));

    private const string SharedSeen = "/shared/vendor/cmu/cyrus-imapd/sharedseen";

    /// <summary>
    /// The message that was at the source of a copy or move but has left it already: Cyrus sends a MOVE's expunge
    /// of the source right after the MOVE, and the two may be processed the other way round. A UID is never given
    /// twice in a folder, so the message once at that UID is the one moved or copied.
    /// </summary>
    private static async Task<MessageObject?> LeftAlreadyAsync(EventContext context, FolderObject source, uint uid, bool move, CancellationToken cancellationToken)
    {
        var message = await context.Work.FindMessageOnceAtAsync(source.Id, uid, cancellationToken).ConfigureAwait(false);
        if (message is null || (move && LastAt(message, source.Id, uid) is not { EndReason: LocationOrigin.Expunged or LocationOrigin.Moved }))
        {
            return move ? null : message;
        }
        return message;
    }

    /// <summary>
    /// The message that was at this place when the event happened and has left it since (its move or expunge processed
    /// first), with that place. One that left before the event was another message's (the folder's UIDs started again).
    /// </summary>
    private static async Task<(MessageObject Message, MessageLocation Place)?> LeftAfterAsync(EventContext context, FolderObject folder, uint uid,
        CancellationToken cancellationToken)
    {
        var message = await context.Work.FindMessageOnceAtAsync(folder.Id, uid, cancellationToken).ConfigureAwait(false);
        return message is not null && LeftAfter(context, message, folder.Id, uid) is { } place ? (message, place) : null;
    }

    private static MessageLocation? LastAt(MessageObject message, string folderId, uint uid)
        => message.Locations.FindLast(l => l.IsAt(folderId, uid));

    private static string? MessageIdAt(CyrusEvent e, int index, int count)
        => HandlerSupport.UsableMessageId(e.MessageIds.Count == count ? e.MessageIds[index] : e.MessageIds.Count == 1 && count == 1 ? e.MessageIds[0] : null);

    /// <summary>A message this store never saw arrive, found at a location by a later event.</summary>
    /// <param name="keyWithoutMessageId">Its key when it has no usable Message-ID: where it was found (<see cref="HandlerSupport.LocationKey"/>).</param>
    private static async Task<MessageObject> DiscoverAsync(EventContext context, FolderObject? folder, uint uid, string? messageId, string keyWithoutMessageId,
        CancellationToken cancellationToken)
    {
        var key = messageId is not null ? "mid:" + messageId : keyWithoutMessageId;
        var known = await context.Work.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
        if (known is not null)
        {
            if (folder is not null && known.CurrentAt(folder.Id, uid) is null)
            {
                context.Work.AddLocation(known, new MessageLocation { FolderId = folder.Id, Uid = uid, FolderName = folder.Name, Origin = LocationOrigin.Seen, Since = context.At });
            }
            return known;
        }
        return context.Work.DiscoverMessage(key, context.At, m =>
        {
            m.MessageId = messageId;
            if (folder is not null)
            {
                m.Locations.Add(new MessageLocation { FolderId = folder.Id, Uid = uid, FolderName = folder.Name, Origin = LocationOrigin.Seen, Since = context.At });
            }
        });
    }
}
