using System.Globalization;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Folders;

/// <summary>A message in a folder at a moment: its UID there, since when, and what it is.</summary>
internal sealed record FolderContentRow(uint Uid, string MessageKey, DateTimeOffset Since, string? Subject, string? From);

/// <summary>A folder's history read from its change records, and its contents at any moment replayed from the messages' location changes.</summary>
internal static class FolderHistory
{
    /// <summary>How many of the folder's events are read to find the messages it ever held.</summary>
    public const int EventLimit = 10_000;

    public static IReadOnlyList<ChangeRecord> Names(IReadOnlyList<ChangeRecord> changes) =>
        changes.Where(c => c.Aspect == ChangeAspect.Name).ToList();

    public static IReadOnlyList<ChangeRecord> Acl(IReadOnlyList<ChangeRecord> changes) =>
        changes.Where(c => c.Aspect == ChangeAspect.Acl).ToList();

    public static IReadOnlyList<ChangeRecord> Metadata(IReadOnlyList<ChangeRecord> changes) =>
        changes.Where(c => c.Aspect == ChangeAspect.Metadata).ToList();

    /// <summary>
    /// The ACL as it stood at <paramref name="at"/>: identifier to rights. Worked back from the ACL now, undoing each
    /// change made after the moment (newest first; each change's "from" is the one before's "to"), because the ACL a
    /// folder had when Bonnie first saw it is its state, not a change, and has no change records to replay. Before the
    /// folder was first seen nothing is known: empty.
    /// </summary>
    public static IReadOnlyDictionary<string, string> AclAt(IReadOnlyDictionary<string, string> now, IReadOnlyList<ChangeRecord> changes,
        DateTimeOffset at, DateTimeOffset firstSeen)
    {
        var acl = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (at < firstSeen)
        {
            return acl;
        }
        foreach (var (identifier, rights) in now)
        {
            acl[identifier] = rights;
        }
        for (var i = changes.Count - 1; i >= 0; i--)
        {
            var c = changes[i];
            if (c.Aspect != ChangeAspect.Acl || c.Key is null || c.At <= at)
            {
                continue;
            }
            if (c.From is null)
            {
                acl.Remove(c.Key);
            }
            else
            {
                acl[c.Key] = c.From;
            }
        }
        return acl;
    }

    /// <summary>
    /// The messages in folder <paramref name="folderId"/> at <paramref name="at"/>: every message an event of the folder
    /// touched, with its location changes replayed up to that moment.
    /// </summary>
    public static async Task<IReadOnlyList<FolderContentRow>> ContentsAtAsync(IBonnieStore store, string folderId, DateTimeOffset at,
        CancellationToken cancellationToken = default)
    {
        var events = await store.GetEventsForObjectAsync(ObjectKind.Folder, folderId, EventLimit, cancellationToken);
        var keys = events.Where(e => e.Timestamp <= at).SelectMany(e => e.MessageKeys).Distinct(StringComparer.Ordinal).ToList();
        var prefix = folderId + "/";
        var rows = new List<FolderContentRow>();
        // A sighting's key stands for the message it turned out to be, whose history includes the sighting's.
        await foreach (var message in MessageHistory.ResolveEachAsync(store, keys, cancellationToken: cancellationToken))
        {
            var key = message.Key;
            var changes = await MessageHistory.ChangesAsync(store, message, cancellationToken);
            var present = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var c in changes.Where(c => c.Aspect == ChangeAspect.Location && c.At <= at))
            {
                if (c.From is not null)
                {
                    present.Remove(c.From);
                }
                if (c.To is not null)
                {
                    present[c.To] = c.At;
                }
            }
            var here = present.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (here.Count == 0)
            {
                continue;
            }
            foreach (var (address, since) in here)
            {
                var uid = uint.Parse(address.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture);
                rows.Add(new FolderContentRow(uid, key, since, message?.Subject, message?.From));
            }
        }
        return rows.OrderBy(r => r.Uid).ToList();
    }
}
