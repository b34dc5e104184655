using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage;

/// <summary>The differences between two states of an object, as change records (see <see cref="ChangeAspect"/>).</summary>
internal static class ChangeDiff
{
    public const string Present = "present";
    public const string Absent = "absent";
    public const string Set = "set";
    public const string Unset = "unset";

    public static void Folder(FolderObject? before, FolderObject after, string eventId, DateTimeOffset at, Actor actor, Action<ChangeRecord> add)
    {
        ChangeRecord C(ChangeAspect aspect, string? key, string? from, string? to) => new()
        {
            Kind = ObjectKind.Folder, ObjectId = after.Id, Aspect = aspect, Key = key, From = from, To = to,
            FolderId = after.Id, FolderName = after.Name, Actor = actor, At = at, EventId = eventId,
        };
        var existedBefore = before?.Exists ?? false;
        if (existedBefore != after.Exists)
        {
            add(C(ChangeAspect.Existence, null, existedBefore ? Present : Absent, after.Exists ? Present : Absent));
        }
        if (before is not null && !string.Equals(before.Name, after.Name, StringComparison.Ordinal))
        {
            add(C(ChangeAspect.Name, null, before.Name, after.Name));
        }
        // Most events touch a folder without changing its ACL, subscribers, quota or METADATA: compare before sorting.
        void Entries(ChangeAspect aspect, SortedDictionary<string, string>? beforeEntries, SortedDictionary<string, string> afterEntries)
        {
            beforeEntries ??= new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (Same(beforeEntries, afterEntries))
            {
                return;
            }
            foreach (var key in beforeEntries.Keys.Union(afterEntries.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                beforeEntries.TryGetValue(key, out var from);
                afterEntries.TryGetValue(key, out var to);
                if (!string.Equals(from, to, StringComparison.Ordinal))
                {
                    add(C(aspect, key, from, to));
                }
            }
        }
        Entries(ChangeAspect.Acl, before?.Acl, after.Acl);
        var beforeSubs = before?.Subscribers ?? [];
        if (!(beforeSubs.Count == after.Subscribers.Count && after.Subscribers.SetEquals(beforeSubs)))
        {
            foreach (var user in after.Subscribers.Except(beforeSubs, StringComparer.OrdinalIgnoreCase))
            {
                add(C(ChangeAspect.Subscription, user, "unsubscribed", "subscribed"));
            }
            foreach (var user in beforeSubs.Except(after.Subscribers, StringComparer.OrdinalIgnoreCase))
            {
                add(C(ChangeAspect.Subscription, user, "subscribed", "unsubscribed"));
            }
        }
        var beforeQuota = before?.Quota ?? new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var resource in Same(beforeQuota, after.Quota) ? Enumerable.Empty<string>() : beforeQuota.Keys.Union(after.Quota.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            long? from = beforeQuota.TryGetValue(resource, out var f) ? f : null;
            long? to = after.Quota.TryGetValue(resource, out var t) ? t : null;
            if (from != to)
            {
                add(C(ChangeAspect.Quota, resource, Text(from), Text(to)));
            }
        }
        if (!string.Equals(before?.QuotaState, after.QuotaState, StringComparison.Ordinal))
        {
            add(C(ChangeAspect.Quota, "state", before?.QuotaState, after.QuotaState));
        }
        Entries(ChangeAspect.Metadata, before?.Metadata, after.Metadata);
    }

    private static bool Same<TValue>(SortedDictionary<string, TValue> a, SortedDictionary<string, TValue> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }
        foreach (var (key, value) in a)
        {
            if (!b.TryGetValue(key, out var other) || !EqualityComparer<TValue>.Default.Equals(value, other))
            {
                return false;
            }
        }
        return true;
    }

    private static string? Text(long? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <param name="folderNameNow">
    /// The name of a location's folder when the change happens: a location keeps the name it had when the message
    /// arrived, and a flag set after a rename happened in the folder as it was called then.
    /// </param>
    public static void Message(MessageObject? before, MessageObject after, string eventId, DateTimeOffset at, Actor actor, Func<MessageLocation, string?> folderNameNow,
        Action<ChangeRecord> add)
    {
        ChangeRecord C(ChangeAspect aspect, string? key, string? from, string? to, MessageLocation? where) => new()
        {
            Kind = ObjectKind.Message, ObjectId = after.Key, Aspect = aspect, Key = key, From = from, To = to,
            FolderId = where?.FolderId, FolderName = where is null ? null : folderNameNow(where), Uid = where?.Uid, Actor = actor, At = at, EventId = eventId,
        };
        var existedBefore = before?.Exists ?? false;
        if (!existedBefore && after.Exists)
        {
            add(C(ChangeAspect.Existence, null, Absent, Present, null));
        }

        var beforeCurrent = before?.Locations.Where(l => l.Until is null).ToList() ?? [];
        var afterCurrent = after.Locations.Where(l => l.Until is null).ToList();
        var removed = beforeCurrent.Where(b => after.CurrentAt(b.FolderId, b.Uid) is null).ToList();
        var added = afterCurrent.Where(a => before?.CurrentAt(a.FolderId, a.Uid) is null).ToList();

        // A move ends one location and starts another in the same event: one change, From → To.
        var movedTo = added.Where(a => a.Origin == LocationOrigin.Moved).ToList();
        foreach (var gone in removed)
        {
            var ended = after.Locations.Find(l => l.FolderId == gone.FolderId && l.Uid == gone.Uid && l.Since == gone.Since);
            var reason = ended?.EndReason;
            if (reason == LocationOrigin.Moved && movedTo.Count > 0)
            {
                var to = movedTo[0];
                movedTo.RemoveAt(0);
                added.Remove(to);
                add(C(ChangeAspect.Location, LocationOrigin.Moved, gone.Address, to.Address, to));
                FlagChanges(gone.Flags, to.Flags, to);
            }
            else
            {
                add(C(ChangeAspect.Location, reason, gone.Address, null, gone));
            }
        }
        // A move processed after its own expunge: the source had ended as expunged, the move says it left by moving.
        var lateSources = new HashSet<MessageLocation>(ReferenceEqualityComparer.Instance);
        foreach (var to in movedTo)
        {
            var source = after.Locations.Find(l => l.Until is not null && l.EndReason == LocationOrigin.Moved && !lateSources.Contains(l)
                && before?.Locations.Find(b => b.FolderId == l.FolderId && b.Uid == l.Uid && b.Since == l.Since) is { EndReason: not LocationOrigin.Moved });
            if (source is not null)
            {
                lateSources.Add(source);
                added.Remove(to);
                add(C(ChangeAspect.Location, LocationOrigin.Moved, source.Address, to.Address, to));
                FlagChanges(source.Flags, to.Flags, to);
            }
        }
        foreach (var a in added)
        {
            add(C(ChangeAspect.Location, a.Origin, null, a.Address, a));
            FlagChanges(null, a.Flags, a);
        }
        // An arrival learnt after the message had left the place (its move or expunge processed first): the place was
        // left already, and the arrival is still a change of the message's history.
        foreach (var a in after.Locations)
        {
            if (a.Until is not null && a.Origin is LocationOrigin.Delivered or LocationOrigin.Appended
                && before?.Locations.Exists(b => b.IsAt(a.FolderId, a.Uid) && b.Since == a.Since && b.Origin == a.Origin) != true)
            {
                add(C(ChangeAspect.Location, a.Origin, null, a.Address, a));
            }
        }
        foreach (var a in afterCurrent)
        {
            if (before?.CurrentAt(a.FolderId, a.Uid) is { } b)
            {
                if (b.Origin == LocationOrigin.Seen && a.Origin is LocationOrigin.Delivered or LocationOrigin.Appended)
                {
                    // The place a message was only seen at turned out to be where it arrived (its delivery processed after a
                    // later event about it): the arrival is a change; the flags learnt there before are not new.
                    add(C(ChangeAspect.Location, a.Origin, null, a.Address, a));
                }
                FlagChanges(b.Flags, a.Flags, a);
            }
        }
        // A flag changed at a place the message has left since (the event happened while it was there; its move or
        // expunge out of it was processed first): part of that place's history.
        foreach (var a in after.Locations)
        {
            if (a.Until is not null
                && before?.Locations.Find(b => b.Until is not null && b.IsAt(a.FolderId, a.Uid) && b.Since == a.Since) is { } b)
            {
                FlagChanges(b.Flags, a.Flags, a);
            }
        }
        if (existedBefore && !after.Exists)
        {
            add(C(ChangeAspect.Existence, null, Present, Absent, null));
        }

        void FlagChanges(SortedSet<string>? from, SortedSet<string> to, MessageLocation where)
        {
            foreach (var flag in to)
            {
                if (from is null || !from.Contains(flag))
                {
                    add(C(ChangeAspect.Flag, flag, Unset, Set, where));
                }
            }
            if (from is not null)
            {
                foreach (var flag in from)
                {
                    if (!to.Contains(flag))
                    {
                        add(C(ChangeAspect.Flag, flag, Set, Unset, where));
                    }
                }
            }
        }
    }
}
