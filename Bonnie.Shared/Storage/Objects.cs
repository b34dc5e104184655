namespace Bonnie.Shared.Storage;

/// <summary>The kinds of object that have an identity and a history.</summary>
public enum ObjectKind
{
    Folder,
    Message,
    User,
    Session,
}

/// <summary>
/// A folder, keyed by Cyrus's <c>mailboxID</c> (its unique id), so its identity survives renames. Handlers change
/// it through the unit of work, which turns every difference into a <see cref="ChangeRecord"/>.
/// </summary>
public sealed class FolderObject
{
    public required string Id { get; init; }
    /// <summary>The current name in admin form (<c>user/alice/Archive@example.org</c>).</summary>
    public required string Name { get; set; }
    /// <summary>
    /// When the folder got <see cref="Name"/> (its creation's or rename's time; null when not known): a rename that
    /// happened before it but is processed after it must not undo it.
    /// </summary>
    public DateTimeOffset? NameSince { get; set; }
    public string? Owner { get; set; }
    public bool Exists { get; set; } = true;
    public uint? UidValidity { get; set; }
    public long? Modseq { get; set; }
    /// <summary>Identifier to rights, as the folder's ACL stands.</summary>
    public SortedDictionary<string, string> Acl { get; set; } = new(StringComparer.Ordinal);
    /// <summary>
    /// ACL identifier to who it named when its rights were last set (kept after a revoke, so the history can still
    /// show who lost access). Empty when identity resolution is off.
    /// </summary>
    public SortedDictionary<string, SubjectIdentity> AclSubjects { get; set; } = new(StringComparer.Ordinal);
    /// <summary>
    /// The earlier snapshots of <see cref="AclSubjects"/>, each replaced when its entry's rights changed, oldest first
    /// (a bounded number per identifier): the history shows each change with who the identifier named then.
    /// </summary>
    public List<SubjectIdentity> AclSubjectHistory { get; set; } = [];
    /// <summary>Who <see cref="Owner"/> named when the folder got that owner; null when identity resolution is off.</summary>
    public SubjectIdentity? OwnerIdentity { get; set; }
    public SortedSet<string> Subscribers { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>Quota resource (<c>storage</c>, <c>messages</c>, <c>storage-used</c>, ...) to its value; set on quota roots.</summary>
    public SortedDictionary<string, long> Quota { get; set; } = new(StringComparer.Ordinal);
    /// <summary>The last quota state Cyrus reported: <c>exceeded</c> or <c>within</c>.</summary>
    public string? QuotaState { get; set; }
    /// <summary>
    /// The folder's shared METADATA entries that are set, as last read from the server (empty when never read: reading
    /// needs the IMAP admin configured, <c>Bonnie:Payloads:Imap</c>).
    /// </summary>
    public SortedDictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public DateTimeOffset FirstSeen { get; set; }
    /// <summary>
    /// Null when an event brought the folder to Bonnie; <see cref="LocationOrigin.Backfill"/> when a backfill found it
    /// as it was (what happened to it before is not known).
    /// </summary>
    public string? FoundBy { get; set; }
    /// <summary>
    /// Set on a folder Bonnie knew by name only (a copy's or a move's source, which Cyrus 3.x names by URI) once an
    /// event gave the folder's unique id: that id, where its history goes on.
    /// </summary>
    public string? SameAs { get; set; }
    /// <summary>Store-managed, for optimistic concurrency between workers.</summary>
    public long Version { get; set; }

    /// <summary>Whether an ACL subject or the owner is still waiting for the directory (the re-resolution fills them in).</summary>
    public bool HasPendingSubjects()
        => OwnerIdentity?.Status == IdentityStatus.Pending || AclSubjects.Values.Any(s => s.Status == IdentityStatus.Pending);

    /// <summary>
    /// Who <paramref name="identifier"/> named at <paramref name="at"/>: the snapshot taken when the entry last got its
    /// rights at or before then; the earliest kept when none is that old (taken before Bonnie recorded the moment, or
    /// when identity resolution was turned on later); null when none was kept.
    /// </summary>
    public SubjectIdentity? SubjectAt(string identifier, DateTimeOffset at)
    {
        var kept = AclSubjectHistory.Where(s => string.Equals(s.Identifier, identifier, StringComparison.Ordinal)).ToList();
        if (AclSubjects.TryGetValue(identifier, out var current))
        {
            kept.Add(current);
        }
        return kept.Where(s => s.SeenAt is { } seen && seen <= at).MaxBy(s => s.SeenAt) ?? kept.FirstOrDefault();
    }

    public FolderObject Clone() => new()
    {
        Version = Version,
        Id = Id,
        Name = Name,
        NameSince = NameSince,
        Owner = Owner,
        Exists = Exists,
        UidValidity = UidValidity,
        Modseq = Modseq,
        Acl = new(Acl, StringComparer.Ordinal),
        AclSubjects = new(AclSubjects, StringComparer.Ordinal),
        AclSubjectHistory = [.. AclSubjectHistory],
        OwnerIdentity = OwnerIdentity,
        Subscribers = new(Subscribers, StringComparer.OrdinalIgnoreCase),
        Quota = new(Quota, StringComparer.Ordinal),
        QuotaState = QuotaState,
        Metadata = new(Metadata, StringComparer.Ordinal),
        FirstSeen = FirstSeen,
        FoundBy = FoundBy,
        SameAs = SameAs,
    };
}

/// <summary>
/// A message, keyed by its GUID (<c>vnd.cmu.emailid</c>) when known, else by Message-ID and size. Copies and
/// moves add locations to the same object: a message has one history however often it moves.
/// </summary>
public sealed class MessageObject
{
    public required string Key { get; init; }
    public string? EmailId { get; set; }
    public string? MessageId { get; set; }
    public long? Size { get; set; }
    public string? Subject { get; set; }
    public string? From { get; set; }
    /// <summary>Hex SHA-256 of the payload, when it was kept.</summary>
    public string? PayloadSha256 { get; set; }
    public PayloadStatus PayloadStatus { get; set; }
    /// <summary>Every mailbox and UID the message has lived at, current ones with <see cref="MessageLocation.Until"/> null.</summary>
    public List<MessageLocation> Locations { get; set; } = [];
    public DateTimeOffset FirstSeen { get; set; }
    /// <summary>
    /// The server's INTERNALDATE, when a source told it (the IMAP fetch of its payload, the backfill): what a restore
    /// gives back, so mail migrated or imported with its own dates is not restored dated the day it was appended.
    /// </summary>
    public DateTimeOffset? InternalDate { get; set; }
    /// <summary>
    /// Set on a message Bonnie knew only from events about it (a sighting, keyed by Message-ID) once its delivery was
    /// processed and turned out to be a message known by another key: that key, where its places and history went.
    /// </summary>
    public string? SameAs { get; set; }
    /// <summary>The keys of sightings that turned out to be this message (<see cref="SameAs"/>): their histories are part of this one's.</summary>
    public List<string> MergedFrom { get; set; } = [];
    /// <summary>Store-managed, for optimistic concurrency between workers.</summary>
    public long Version { get; set; }

    public bool Exists => Locations.Exists(l => l.Until is null);

    public MessageLocation? CurrentAt(string folderId, uint uid)
        => Locations.Find(l => l.Until is null && l.IsAt(folderId, uid));

    public MessageObject Clone() => new()
    {
        Version = Version,
        Key = Key,
        EmailId = EmailId,
        MessageId = MessageId,
        Size = Size,
        Subject = Subject,
        From = From,
        PayloadSha256 = PayloadSha256,
        PayloadStatus = PayloadStatus,
        Locations = Locations.ConvertAll(l => l.Clone()),
        FirstSeen = FirstSeen,
        InternalDate = InternalDate,
        SameAs = SameAs,
        MergedFrom = [.. MergedFrom],
    };
}

/// <summary>One place a message lived: folder and UID, from when until when, with the flags it had there.</summary>
public sealed class MessageLocation
{
    public required string FolderId { get; init; }
    public required uint Uid { get; init; }

    /// <summary>Whether this is the place <paramref name="folderId"/>/<paramref name="uid"/>, current or ended.</summary>
    public bool IsAt(string folderId, uint uid) => Uid == uid && string.Equals(FolderId, folderId, StringComparison.Ordinal);

    /// <summary>The folder's name when the message arrived there (names change; the id does not).</summary>
    public string? FolderName { get; set; }
    public DateTimeOffset Since { get; set; }
    public DateTimeOffset? Until { get; set; }
    /// <summary>How the message came here (<see cref="LocationOrigin"/>).</summary>
    public string? Origin { get; set; }
    /// <summary>Why the message left: <c>moved</c>, <c>expunged</c>, <c>expired</c>, <c>folder-deleted</c>.</summary>
    public string? EndReason { get; set; }
    public SortedSet<string> Flags { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public string Address => FolderId + "/" + Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A copy; at <paramref name="folderId"/> instead when given (the same place, once its folder's real id is known).</summary>
    public MessageLocation Clone(string? folderId = null) => new()
    {
        FolderId = folderId ?? FolderId,
        Uid = Uid,
        FolderName = FolderName,
        Origin = Origin,
        Since = Since,
        Until = Until,
        EndReason = EndReason,
        Flags = new(Flags, StringComparer.OrdinalIgnoreCase),
    };
}

/// <summary>Whether an event's message payload was kept.</summary>
public enum PayloadStatus
{
    /// <summary>The event has no payload (not a delivery or append).</summary>
    None = 0,
    /// <summary>Kept byte-exact; its SHA-1 matched the GUID or there was no GUID to check.</summary>
    Stored,
    /// <summary>Kept, but its SHA-1 does not match the GUID Cyrus reported: evidence of a difference, flagged.</summary>
    DigestMismatch,
    /// <summary>No source could give the bytes after the bounded retries; the event is kept without them.</summary>
    Missing,
}

/// <summary>One IMAP/LMTP session: Login joined to Logout by <c>vnd.cmu.sessionId</c>. Either end may be missing.</summary>
public sealed class SessionObject
{
    public required string Id { get; init; }
    public string? User { get; set; }
    public string? Service { get; set; }
    public string? ClientIp { get; set; }
    public int? ClientPort { get; set; }
    public string? ServerDomain { get; set; }
    public DateTimeOffset? LoginAt { get; set; }
    public DateTimeOffset? LogoutAt { get; set; }
    public string? LoginEventId { get; set; }
    public string? LogoutEventId { get; set; }
    /// <summary>Store-managed, for optimistic concurrency between workers.</summary>
    public long Version { get; set; }

    /// <summary>Null while the session is open or when its Login was never seen.</summary>
    public TimeSpan? Duration => LoginAt is { } a && LogoutAt is { } b ? b - a : null;

    public SessionObject Clone() => (SessionObject)MemberwiseClone();
}

/// <summary>A user, by login name (the identity issue adds the directory's persistent id).</summary>
public sealed record UserObject(string Login, DateTimeOffset FirstSeen);

/// <summary>How a message came to a location, or why it left (the change record's key for a location change).</summary>
public static class LocationOrigin
{
    public const string Delivered = "delivered";
    public const string Appended = "appended";
    public const string Copied = "copied";
    public const string Moved = "moved";
    public const string Expunged = "expunged";
    public const string Expired = "expired";
    public const string FolderDeleted = "folder-deleted";
    /// <summary>First seen at this location through a later event (its arrival was not seen).</summary>
    public const string Seen = "seen";
    /// <summary>Found where it is by a backfill of existing mail, not by an event: how it got there is not known.</summary>
    public const string Backfill = "backfill";
}
