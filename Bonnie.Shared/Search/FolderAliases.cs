using Bonnie.Shared.Storage;

namespace Bonnie.Shared.Search;

/// <summary>
/// The names a folder is searched by (<c>folder:</c>), lower-cased: its admin form, the path its owner sees, the
/// last segment, and its unique id. Every store indexes the same aliases, so <c>folder:Archive</c> means the same
/// on SQLite and on Elasticsearch.
/// </summary>
public static class FolderAliases
{
    public static IReadOnlySet<string> Of(string? id, string name)
    {
        var set = new HashSet<string>(StringComparer.Ordinal) { name.ToLowerInvariant() };
        if (!string.IsNullOrEmpty(id))
        {
            set.Add(id.ToLowerInvariant());
        }
        var at = name.LastIndexOf('@');
        var bare = at > 0 ? name[..at] : name;
        string owned;
        if (bare.StartsWith("user/", StringComparison.OrdinalIgnoreCase))
        {
            var rest = bare[5..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            owned = slash < 0 ? "INBOX" : "INBOX/" + rest[(slash + 1)..];
        }
        else
        {
            owned = bare;
        }
        set.Add(owned.ToLowerInvariant());
        if (owned.StartsWith("INBOX/", StringComparison.Ordinal))
        {
            // Under Cyrus's alternate namespace (altnamespace, the default of 3.x) the owner sees INBOX/Projects/Contracts
            // as Projects/Contracts.
            set.Add(owned[6..].ToLowerInvariant());
        }
        var last = owned.LastIndexOf('/');
        set.Add((last >= 0 ? owned[(last + 1)..] : owned).ToLowerInvariant());
        return set;
    }

    /// <summary>
    /// A folder Bonnie first knew by name only (a copy or move out of it came before any event with its unique id) holds
    /// the events of that time under its stand-in's id. The real folder's id finds them too: <c>folder:&lt;id&gt;</c>
    /// and the folder page's "its events" missed the copy that named it (found by a review).
    /// </summary>
    public static IEnumerable<(string Alias, string FolderId)> OfStandIns(IEnumerable<FolderObject> folders)
        => folders.Where(f => f.SameAs is not null).Select(f => (f.SameAs!.ToLowerInvariant(), f.Id));
}
