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
        var last = owned.LastIndexOf('/');
        set.Add((last >= 0 ? owned[(last + 1)..] : owned).ToLowerInvariant());
        return set;
    }
}
