using System.Globalization;

namespace Bonnie.Shared.Protocol;

public enum CollectKind
{
    /// <summary>A message's bytes, exactly as stored.</summary>
    Payload,
    /// <summary>A folder's METADATA entries (RFC 5464), as a JSON object of entry → value.</summary>
    Metadata,
    /// <summary>A folder's ACL, as a JSON array of <c>{"identifier","rights"}</c>.</summary>
    Acl,
}

/// <summary>
/// One thing a worker asks the collector on the IMAP host for, as one frame of text:
/// <c>payload &lt;mailboxID&gt; &lt;uid&gt; &lt;mailbox&gt;</c>, <c>metadata &lt;mailbox&gt;</c>, <c>acl &lt;mailbox&gt;</c>.
/// The mailbox is its admin-form name (<c>user/alice/Archive@example.org</c>), percent-encoded so that it holds no space.
/// </summary>
public sealed record CollectRequest(CollectKind Kind, string Mailbox, string? MailboxId = null, uint? Uid = null)
{
    public static CollectRequest ForPayload(string mailboxId, uint uid, string mailbox) => new(CollectKind.Payload, mailbox, mailboxId, uid);

    public static CollectRequest ForMetadata(string mailbox) => new(CollectKind.Metadata, mailbox);

    /// <summary>
    /// In a <c>metadata</c> answer, beside the folder's entries (which all begin with <c>/</c>): when the collector began
    /// reading, in UTC (ISO 8601), so the worker can tell which of the folder's events the read came after.
    /// </summary>
    public const string MetadataReadAtEntry = "bonnie:read-at";

    public override string ToString() => Kind switch
    {
        CollectKind.Payload => $"payload {MailboxId} {Uid?.ToString(CultureInfo.InvariantCulture)} {Uri.EscapeDataString(Mailbox)}",
        CollectKind.Metadata => $"metadata {Uri.EscapeDataString(Mailbox)}",
        _ => $"acl {Uri.EscapeDataString(Mailbox)}",
    };

    /// <summary>Reads a request frame; false with a reason a person can act on when it is not one.</summary>
    public static bool TryParse(string text, out CollectRequest? request, out string error)
    {
        request = null;
        error = "";
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (parts)
        {
            case ["payload", var id, var uid, var mailbox]:
                if (!uint.TryParse(uid, NumberStyles.None, CultureInfo.InvariantCulture, out var u) || u == 0)
                {
                    error = $"'{uid}' is not a UID";
                    return false;
                }
                if (id.Length == 0 || id.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_'))
                {
                    // The mailbox id becomes part of a spool path: nothing that could leave the spool is accepted.
                    error = $"'{id}' is not a Cyrus mailbox id";
                    return false;
                }
                request = new CollectRequest(CollectKind.Payload, Uri.UnescapeDataString(mailbox), id, u);
                return true;
            case ["metadata", var mailbox]:
                request = new CollectRequest(CollectKind.Metadata, Uri.UnescapeDataString(mailbox));
                return true;
            case ["acl", var mailbox]:
                request = new CollectRequest(CollectKind.Acl, Uri.UnescapeDataString(mailbox));
                return true;
            default:
                error = $"'{(text.Length > 200 ? text[..200] + "…" : text)}' is not a collector request (payload, metadata or acl)";
                return false;
        }
    }
}
