using Bonnie.Shared.Storage;

namespace Bonnie.Web.Messages;

/// <summary>What happened to a message, for the timeline: delivered, read, flagged, moved, copied, deleted, expunged...</summary>
internal sealed record TimelineEntry(
    DateTimeOffset At,
    string What,
    string Detail,
    string? FolderId,
    Actor Actor,
    string EventId,
    TimelineKind Kind);

internal enum TimelineKind
{
    Arrived,
    Read,
    Flagged,
    Moved,
    Copied,
    Deleted,
    Removed,
    Other,
}

/// <summary>Builds a message's timeline from its change records, plus events that touched it without changing it.</summary>
internal static class MessageTimeline
{
    public static IReadOnlyList<TimelineEntry> Build(MessageObject message, IReadOnlyList<ChangeRecord> changes, IReadOnlyList<StoredEvent> events)
    {
        var names = message.Locations
            .GroupBy(l => l.Address, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().FolderName ?? g.First().FolderId, StringComparer.Ordinal);
        string NameOf(string? address, string? fallback) =>
            address is not null && names.TryGetValue(address, out var n) ? n : fallback ?? address ?? "?";
        // The folder a move took the message out of, under the name it had at the move, as the event said it: the
        // location's own name is the one the folder had when the message came, and a folder renamed in between read
        // "moved from" its old name (a review).
        var sources = events.Where(e => e.OldFolderName is not null).GroupBy(e => e.Id, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().OldFolderName!, StringComparer.Ordinal);

        // Flags a message brings to a new location (delivered with \Seen, copied with its flags) belong to that arrival.
        var arrivals = changes
            .Where(c => c.Aspect == ChangeAspect.Location && c.To is not null)
            .Select(c => (c.EventId, Address: c.To!))
            .ToHashSet();
        var broughtFlags = changes
            .Where(c => c.Aspect == ChangeAspect.Flag && c.To == "set" && c.Uid is { } uid
                        && arrivals.Contains((c.EventId, c.FolderId + "/" + uid.ToString(System.Globalization.CultureInfo.InvariantCulture))))
            .ToList();
        var entries = new List<(TimelineEntry Entry, int Ordinal)>();
        foreach (var c in changes.Except(broughtFlags))
        {
            var entry = c.Aspect switch
            {
                ChangeAspect.Location => Location(c, NameOf, sources.GetValueOrDefault(c.EventId)),
                ChangeAspect.Flag => Flag(c),
                ChangeAspect.Existence when c.To == "absent" => new TimelineEntry(c.At, "Gone", "No longer in any folder", null, c.Actor, c.EventId, TimelineKind.Removed),
                _ => null,
            };
            if (entry is not null && c.Aspect == ChangeAspect.Location && c.To is { } to)
            {
                var flags = broughtFlags.Where(f => f.EventId == c.EventId && f.FolderId + "/" + f.Uid?.ToString(System.Globalization.CultureInfo.InvariantCulture) == to)
                    .Select(f => f.Key).ToList();
                if (flags.Count > 0)
                {
                    entry = entry with { Detail = entry.Detail + " with flags " + string.Join(" ", flags) };
                }
            }
            if (entry is not null)
            {
                entries.Add((entry, c.Ordinal));
            }
        }

        var explained = changes.Select(c => c.EventId).ToHashSet(StringComparer.Ordinal);
        foreach (var e in events.Where(e => !explained.Contains(e.Id)))
        {
            entries.Add((e.Type == Bonnie.Shared.Events.EventType.MessageFound
                // At the server's INTERNALDATE (its time), so it sorts before what events saw happen to it afterwards.
                // Nobody acted: the event's user is the mailbox's owner, and "by alice" would say she did (a review).
                ? new TimelineEntry(e.Timestamp, "Found by the backfill",
                    $"in {e.FolderName ?? e.FolderId} (UID {e.Uids}), there since this time; found {e.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture)} UTC",
                    e.FolderId, new Actor(null, null, null, e.Service), e.Id, TimelineKind.Arrived)
                : Unchanged(e), int.MaxValue));
        }
        return entries.OrderBy(x => x.Entry.At).ThenBy(x => x.Ordinal).Select(x => x.Entry).ToList();
    }

    /// <param name="sourceThen">The moved-from folder's name at the move, as its event gave it; null when not known.</param>
    /// <summary>
    /// An event about the message that changed nothing recorded, in words: the bare event names ("FlagsSet",
    /// "MessageExpunge") left a reader to open each to learn what it was (a review).
    /// </summary>
    private static TimelineEntry Unchanged(StoredEvent e)
    {
        var folder = e.FolderName ?? e.FolderId ?? "?";
        var flags = e.Flags.Count > 0 ? string.Join(" ", e.Flags) : null;
        var (what, detail) = e.Type switch
        {
            // \Seen is each user's own unless the folder shares it: another user's read changes nothing of the owner's.
            Bonnie.Shared.Events.EventType.MessageRead => ("Read", $"in {folder}; nothing changed (read already, or read by someone other than the folder's owner, whose \\Seen is their own)"),
            Bonnie.Shared.Events.EventType.MessageTrash => ("Marked \\Deleted", $"in {folder}; it was marked already"),
            Bonnie.Shared.Events.EventType.FlagsSet => ("Flags set", $"{flags ?? "(none named)"} in {folder}; nothing changed (already set, or another user's \\Seen)"),
            Bonnie.Shared.Events.EventType.FlagsClear => ("Flags cleared", $"{flags ?? "(none named)"} in {folder}; nothing changed (not set)"),
            Bonnie.Shared.Events.EventType.MessageExpunge => ("Expunge", $"in {folder}, after the message had left it (the expunge Cyrus sends of a move's source)"),
            Bonnie.Shared.Events.EventType.MessageExpire => ("Expiry", $"in {folder}, after the message had left it"),
            _ => (e.Name, folder),
        };
        return new TimelineEntry(e.Timestamp, what, detail, e.FolderId, new Actor(e.User, e.SessionId, e.ClientIp, e.Service), e.Id, TimelineKind.Other);
    }

    private static TimelineEntry Location(ChangeRecord c, Func<string?, string?, string> nameOf, string? sourceThen)
    {
        var to = c.FolderName ?? c.FolderId;
        return (c.Key, c.From, c.To) switch
        {
            (LocationOrigin.Moved, { } from, { } dest) =>
                new(c.At, "Moved", $"from {sourceThen ?? nameOf(from, null)} to {nameOf(dest, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Moved),
            (LocationOrigin.Copied, null, { } dest) =>
                new(c.At, "Copied", $"to {nameOf(dest, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Copied),
            (LocationOrigin.Delivered, null, { } dest) =>
                new(c.At, "Delivered", $"to {nameOf(dest, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Arrived),
            (LocationOrigin.Appended, null, { } dest) =>
                new(c.At, "Appended", $"to {nameOf(dest, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Arrived),
            (LocationOrigin.Seen, null, { } dest) =>
                new(c.At, "Found", $"in {nameOf(dest, to)} (its arrival was not seen)", c.FolderId, c.Actor, c.EventId, TimelineKind.Arrived),
            // The change's own folder name is the folder's at the removal (renamed since the message came, or not).
            (var why, { } from, null) =>
                new(c.At, Capitalize(why ?? "removed"), $"from {c.FolderName ?? nameOf(from, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Removed),
            (var how, _, var dest) =>
                new(c.At, Capitalize(how ?? "located"), $"at {nameOf(dest, to)}", c.FolderId, c.Actor, c.EventId, TimelineKind.Other),
        };
    }

    private static TimelineEntry Flag(ChangeRecord c)
    {
        var set = c.To == "set";
        var where = $"in {c.FolderName ?? c.FolderId}";
        return (c.Key?.ToLowerInvariant(), set) switch
        {
            ("\\seen", true) => new(c.At, "Read", where, c.FolderId, c.Actor, c.EventId, TimelineKind.Read),
            ("\\seen", false) => new(c.At, "Marked unread", where, c.FolderId, c.Actor, c.EventId, TimelineKind.Read),
            ("\\flagged", true) => new(c.At, "Flagged", where, c.FolderId, c.Actor, c.EventId, TimelineKind.Flagged),
            ("\\flagged", false) => new(c.At, "Unflagged", where, c.FolderId, c.Actor, c.EventId, TimelineKind.Flagged),
            // \Deleted marks a message for the next expunge; it is still there (a review read "Deleted" beside a message
            // still in its folder). Its removal is the expunge's own entry.
            ("\\deleted", true) => new(c.At, "Marked for deletion", $"\\Deleted set {where}; it stays until it is expunged", c.FolderId, c.Actor, c.EventId, TimelineKind.Deleted),
            ("\\deleted", false) => new(c.At, "Deletion mark cleared", $"\\Deleted cleared {where}", c.FolderId, c.Actor, c.EventId, TimelineKind.Deleted),
            _ => new(c.At, set ? "Flag set" : "Flag cleared", $"{c.Key} {where}", c.FolderId, c.Actor, c.EventId, TimelineKind.Flagged),
        };
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].Replace('-', ' ');
}
