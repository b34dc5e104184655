namespace Bonnie.Shared.Storage;

/// <summary>
/// The folder hierarchy in admin form: <c>user/alice/Projects/Acme@example.org</c> is a child of
/// <c>user/alice/Projects@example.org</c> (the domain stays at the end). Cyrus renames and deletes whole subtrees
/// while notifying only the folder it was asked about, so the handlers must find the rest themselves.
/// </summary>
public static class FolderNames
{
    /// <summary>
    /// What every name below <paramref name="name"/> starts with, lower-cased: for a case-insensitive index to narrow
    /// on; <see cref="IsBelow"/> decides (the domain too).
    /// </summary>
    public static string BelowPrefix(string name) => Split(name.ToLowerInvariant()).Local + "/";

    /// <summary>
    /// Whether <paramref name="name"/> is below <paramref name="ancestor"/> (not the folder itself). Folder names are
    /// case-sensitive in Cyrus (<c>Work</c> and <c>work</c> are two folders); domains are not.
    /// </summary>
    public static bool IsBelow(string name, string ancestor)
    {
        var (local, domain) = Split(name);
        var (ancestorLocal, ancestorDomain) = Split(ancestor);
        return string.Equals(domain, ancestorDomain, StringComparison.OrdinalIgnoreCase)
            && local.Length > ancestorLocal.Length + 1 && local[ancestorLocal.Length] == '/'
            && local.StartsWith(ancestorLocal, StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether Cyrus renames the folders below along with a rename from <paramref name="from"/> to <paramref name="to"/>:
    /// not for a rename into its own subtree or onto an ancestor's name, and not for <c>RENAME INBOX</c> within the
    /// user (the INBOX's messages move to the new folder; the folders below INBOX stay, RFC 3501 6.3.5). An
    /// administrator's rename of a user (<c>user/alice</c> to <c>user/alicia</c>) takes every folder with it.
    /// </summary>
    public static bool RenameTakesChildren(string from, string to)
        => !IsBelow(to, from) && !IsBelow(from, to) && !(IsUserInbox(from) && IsBelow(to, from));

    /// <summary>The name <paramref name="name"/> has once its ancestor <paramref name="from"/> is called <paramref name="to"/>.</summary>
    public static string Rebase(string name, string from, string to)
    {
        var (oldLocal, _) = Split(from);
        var (local, _) = Split(name);
        var (newLocal, newDomain) = Split(to);
        return newLocal + local[oldLocal.Length..] + newDomain;
    }

    /// <summary>
    /// The ancestors whose rename would have turned <paramref name="from"/> into <paramref name="current"/>, deepest
    /// first (<c>user/alice/Projects</c> and <c>user/alicia/Projects</c>: <c>user/alice</c> renamed to
    /// <c>user/alicia</c>); none when only a rename of the folder itself explains it.
    /// </summary>
    public static IEnumerable<(string From, string To)> AncestorsRenamed(string from, string current)
    {
        var (fromLocal, fromDomain) = Split(from);
        var (currentLocal, currentDomain) = Split(current);
        var f = fromLocal.Split('/');
        var c = currentLocal.Split('/');
        for (var common = 1; common < f.Length && common < c.Length && string.Equals(f[^common], c[^common], StringComparison.Ordinal); common++)
        {
            yield return (string.Join('/', f[..^common]) + fromDomain, string.Join('/', c[..^common]) + currentDomain);
        }
    }

    /// <summary>A user's INBOX (<c>user/alice@example.org</c>): deleting it deletes the whole user, every folder below.</summary>
    public static bool IsUserInbox(string name)
    {
        var (local, _) = Split(name);
        return local.StartsWith("user/", StringComparison.OrdinalIgnoreCase) && local.Length > 5 && local.IndexOf('/', 5) < 0;
    }

    private static (string Local, string Domain) Split(string name)
    {
        // The domain is what follows the last '@', unless a '/' follows it (then the '@' is part of a folder's name).
        var at = name.LastIndexOf('@');
        return at >= 0 && name.IndexOf('/', at) < 0 ? (name[..at], name[at..]) : (name, "");
    }
}
