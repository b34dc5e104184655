namespace Bonnie.Shared.Storage;

/// <summary>
/// The folder hierarchy in admin form: <c>user/alice/Projects/Acme@example.org</c> is a child of
/// <c>user/alice/Projects@example.org</c> (the domain stays at the end). Cyrus renames and deletes whole subtrees
/// while notifying only the folder it was asked about, so the handlers must find the rest themselves.
/// </summary>
public static class FolderNames
{
    /// <summary>What every name below <paramref name="name"/> starts and ends with, lower-cased.</summary>
    public static (string Prefix, string Suffix) Below(string name)
    {
        var (local, domain) = Split(name.ToLowerInvariant());
        return (local + "/", domain);
    }

    /// <summary>Whether <paramref name="name"/> is below <paramref name="ancestor"/> (not the folder itself).</summary>
    public static bool IsBelow(string name, string ancestor)
    {
        var (prefix, suffix) = Below(ancestor);
        var lower = name.ToLowerInvariant();
        return lower.Length > prefix.Length + suffix.Length && lower.StartsWith(prefix, StringComparison.Ordinal)
            && lower.EndsWith(suffix, StringComparison.Ordinal) && Split(lower).Domain == suffix;
    }

    /// <summary>The name <paramref name="name"/> has once its ancestor <paramref name="from"/> is called <paramref name="to"/>.</summary>
    public static string Rebase(string name, string from, string to)
    {
        var (oldLocal, _) = Split(from);
        var (local, _) = Split(name);
        var (newLocal, newDomain) = Split(to);
        return newLocal + local[oldLocal.Length..] + newDomain;
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
