namespace Bonnie.Shared.Events;

/// <summary>The IMAP ENVELOPE of a message (<c>vnd.cmu.envelope</c>), decoded.</summary>
public sealed record Envelope
{
    public DateTimeOffset? Date { get; init; }
    /// <summary>The date header as sent, kept because a malformed date is still evidence.</summary>
    public string? DateText { get; init; }
    /// <summary>Subject with RFC 2047 encoded words decoded.</summary>
    public string? Subject { get; init; }
    public IReadOnlyList<EmailAddress> From { get; init; } = [];
    public IReadOnlyList<EmailAddress> Sender { get; init; } = [];
    public IReadOnlyList<EmailAddress> ReplyTo { get; init; } = [];
    public IReadOnlyList<EmailAddress> To { get; init; } = [];
    public IReadOnlyList<EmailAddress> Cc { get; init; } = [];
    public IReadOnlyList<EmailAddress> Bcc { get; init; } = [];
    public string? InReplyTo { get; init; }
    public string? MessageId { get; init; }
}

/// <summary>A mailbox address from an envelope: display name (decoded) and <c>local@domain</c>.</summary>
public sealed record EmailAddress(string? Name, string Address);
