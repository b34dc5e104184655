namespace Bonnie.Shared.Storage;

/// <summary>What a <see cref="ChangeRecord"/> changed.</summary>
public enum ChangeAspect
{
    /// <summary>The object came into being (<c>To = present</c>) or ceased to exist (<c>To = absent</c>).</summary>
    Existence,
    /// <summary>A message's folder/UID: From → To is a move, null → To a copy or arrival, From → null a removal.</summary>
    Location,
    /// <summary>A message flag at one location; <see cref="ChangeRecord.Key"/> is the flag, From/To are <c>set</c>/<c>unset</c>.</summary>
    Flag,
    /// <summary>A folder's name.</summary>
    Name,
    /// <summary>One ACL entry; <see cref="ChangeRecord.Key"/> is the identifier, From/To are rights (null: no entry).</summary>
    Acl,
    /// <summary>A quota resource (<see cref="ChangeRecord.Key"/>) or the quota state (<c>state</c>: exceeded/within).</summary>
    Quota,
    /// <summary>A user's subscription; <see cref="ChangeRecord.Key"/> is the user, To is <c>subscribed</c> or <c>unsubscribed</c>.</summary>
    Subscription,
    /// <summary>
    /// One shared METADATA entry of a folder (RFC 5464); <see cref="ChangeRecord.Key"/> is the entry, From/To its values
    /// (null: not set). Read from the server when Cyrus reports the folder changed (MailboxModseq), so the change is
    /// dated by that event, not by the moment the value was set.
    /// </summary>
    Metadata,
}

/// <summary>Who caused a change, as the event told it (the client address comes from the session when the event lacks it).</summary>
public sealed record Actor(string? User, string? SessionId, string? ClientIp, string? Service);

/// <summary>
/// One change to one object, caused by one event. Written only by the unit of work, in the same transaction
/// as the object's new state and the event.
/// </summary>
public sealed record ChangeRecord
{
    public required ObjectKind Kind { get; init; }
    public required string ObjectId { get; init; }
    public required ChangeAspect Aspect { get; init; }
    public string? Key { get; init; }
    public string? From { get; init; }
    public string? To { get; init; }
    /// <summary>For message changes: the folder the change happened in, its name then, and the UID.</summary>
    public string? FolderId { get; init; }
    public string? FolderName { get; init; }
    public uint? Uid { get; init; }
    public required Actor Actor { get; init; }
    public required DateTimeOffset At { get; init; }
    /// <summary>The id of the event that caused it.</summary>
    public required string EventId { get; init; }
    /// <summary>Order of the change within its event.</summary>
    public int Ordinal { get; init; }
}
