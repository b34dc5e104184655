using System.Globalization;

namespace Bonnie.Shared.Cyrus;

/// <summary>Where Cyrus 3 keeps a message on disk: <c>&lt;partition&gt;/uuid/&lt;id[0]&gt;/&lt;id[1]&gt;/&lt;mailboxID&gt;/&lt;UID&gt;.</c></summary>
public static class CyrusSpool
{
    /// <summary>The spool file of a message; null when the id could walk out of the partition.</summary>
    public static string? PathFor(string partition, string mailboxId, uint uid)
    {
        if (mailboxId.Length < 2 || mailboxId.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
        {
            // An id that could walk out of the spool is not used as a path.
            return null;
        }
        return Path.Combine(partition, "uuid", mailboxId[..1], mailboxId[1..2], mailboxId,
            uid.ToString(CultureInfo.InvariantCulture) + ".");
    }
}
