namespace Bonnie.Shared.Events;

/// <summary>
/// A mailbox named by an event's <c>uri</c> (<c>imap://server/user/alice/Archive%40example.org;UIDVALIDITY=1/;UID=7</c>),
/// in both dialects: Cyrus 3.x names the mailbox in its admin form; Cyrus 2.5 names it as its owner sees it, with
/// the owner in the authority (<c>imap://alice@example.org@server/INBOX/Archive</c>).
/// </summary>
public sealed record MailboxUri
{
    public required string Server { get; init; }
    /// <summary>Admin form: <c>user/alice/Archive@example.org</c>, <c>user/alice@example.org</c>, <c>shared/Team@example.org</c>.</summary>
    public required string Name { get; init; }
    /// <summary>The owning user (<c>alice@example.org</c>); null for a shared folder.</summary>
    public string? Owner { get; init; }
    /// <summary>The folder as its owner sees it: <c>INBOX</c>, <c>INBOX/Archive</c>; for shared folders the path without the domain.</summary>
    public required string FolderPath { get; init; }
    public bool IsShared => Owner is null;
    public uint? UidValidity { get; init; }
    public uint? Uid { get; init; }
    /// <summary>The URI exactly as sent.</summary>
    public required string Original { get; init; }
}
