namespace Bonnie.Pipeline.Restore;

/// <summary>
/// Cyrus mailbox names in the admin form the store keeps (<c>user/alice/Archive@example.org</c>, with
/// <c>unixhierarchysep: yes</c>) and as their owner sees them (<c>INBOX/Archive</c>), which is how a session
/// authorized as the owner names them.
/// </summary>
internal static class CyrusMailboxName
{
    private const string UserPrefix = "user/";

    /// <summary>The owning login (<c>alice@example.org</c>), or null for a shared folder.</summary>
    public static string? OwnerOf(string adminName)
    {
        var (path, domain) = Split(adminName);
        if (!path.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = path[UserPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var local = slash < 0 ? rest : rest[..slash];
        return local.Length == 0 ? null : domain is null ? local : local + "@" + domain;
    }

    /// <summary><c>user/alice/Archive@example.org</c> → <c>INBOX/Archive</c>; <c>user/alice@example.org</c> → <c>INBOX</c>.</summary>
    public static string ToOwnerView(string adminName)
    {
        var (path, _) = Split(adminName);
        if (OwnerOf(adminName) is null)
        {
            throw new RestoreSourceException($"'{adminName}' is a shared folder; Bonnie restores only into users' mailboxes.");
        }
        var rest = path[UserPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? "INBOX" : "INBOX/" + rest[(slash + 1)..];
    }

    /// <summary>The admin-form name of <paramref name="ownerView"/> (<c>INBOX/Archive</c>) in <paramref name="owner"/>'s mailbox.</summary>
    public static string FromOwnerView(string owner, string ownerView)
    {
        var at = owner.LastIndexOf('@');
        var (local, domain) = at > 0 ? (owner[..at], owner[(at + 1)..]) : (owner, null);
        var sub = string.Equals(ownerView, "INBOX", StringComparison.OrdinalIgnoreCase) ? ""
            : ownerView.StartsWith("INBOX/", StringComparison.OrdinalIgnoreCase) ? "/" + ownerView[6..]
            : "/" + ownerView;
        return UserPrefix + local + sub + (domain is null ? "" : "@" + domain);
    }

    /// <summary>
    /// Where <paramref name="source"/> goes when a whole mailbox is restored beneath <paramref name="target"/>:
    /// <c>user/alice/Archive@example.org</c> beneath <c>user/alice/Restored@example.org</c> is
    /// <c>user/alice/Restored/Archive@example.org</c>; the INBOX becomes <c>Restored/INBOX</c>.
    /// </summary>
    public static string Beneath(string target, string source)
    {
        var owner = OwnerOf(target) ?? throw new RestoreSourceException($"'{target}' is a shared folder; Bonnie restores only into users' mailboxes.");
        var sourceView = ToOwnerView(source);
        var relative = sourceView.Length > 6 ? sourceView[6..] : "INBOX";
        return FromOwnerView(owner, ToOwnerView(target) + "/" + relative);
    }

    /// <summary>
    /// Refuses a target folder Cyrus would refuse, or that reads like another place than it is, before anything is
    /// planned or sent: a review saw <c>user/alice//X</c> planned and then failing mid-restore, and <c>user/alice/../bob/X</c>
    /// create folders named <c>..</c> in alice's mailbox while the plan and the audit log read like bob's.
    /// </summary>
    public static void ValidateTarget(string adminName)
    {
        var (path, _) = Split(adminName);
        string? why = null;
        if (!path.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            why = "it is not in a user's mailbox (user/…)";
        }
        else if (path.Contains('@', StringComparison.Ordinal))
        {
            why = "a domain goes at the end, after the last folder";
        }
        else if (path.Split('/') is var segments && segments.Any(s => s.Length == 0))
        {
            why = "it has an empty folder name (// or a / at the end)";
        }
        else if (segments.Any(s => s is "." or ".."))
        {
            why = "'.' and '..' are not folder names here";
        }
        else if (path.Any(c => c is '%' or '*' || char.IsControl(c)))
        {
            why = "'%', '*' and control characters are not allowed in folder names";
        }
        if (why is not null)
        {
            throw new RestoreSourceException($"'{adminName}' is not a folder Bonnie can restore into: {why}. Write it as user/alice/Restored@example.org.");
        }
    }

    private static (string Path, string? Domain) Split(string adminName)
    {
        var lastSlash = adminName.LastIndexOf('/');
        var at = adminName.LastIndexOf('@');
        return at > lastSlash && at > 0 ? (adminName[..at], adminName[(at + 1)..]) : (adminName, null);
    }
}
