namespace Bonnie.Shared.Storage;

/// <summary>The values of <see cref="EventIdentity.Status"/>.</summary>
public static class IdentityStatus
{
    public const string Resolved = "resolved";
    public const string NotFound = "not-found";
    public const string Ambiguous = "ambiguous";
    /// <summary>The directory did not answer: the re-resolution service resolves the event later.</summary>
    public const string Pending = "pending";
    public const string Disabled = "disabled";
}

/// <summary>
/// Who an event's user was at <see cref="ResolvedAt"/>: the person (rename-proof id), their addresses, groups and
/// roles as the directory had them then. Only <see cref="Status"/> is set when the user did not resolve.
/// </summary>
public sealed record EventIdentity
{
    /// <summary>One of <see cref="IdentityStatus"/>.</summary>
    public required string Status { get; init; }
    /// <summary>The directory's persistent id (entryUUID, nsUniqueId); the key of the <see cref="PersonRecord"/>.</summary>
    public string? PersonId { get; init; }
    public string? DisplayName { get; init; }
    public IReadOnlyList<string> Addresses { get; init; } = [];
    /// <summary>Group names (first RDN value).</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
    public IReadOnlyList<string> Roles { get; init; } = [];
    public DateTimeOffset? ResolvedAt { get; init; }
}

/// <summary>A person seen under <see cref="Names"/> (login names and addresses, lower case) at <see cref="At"/>.</summary>
public sealed record PersonSighting(string PersonId, string DisplayName, IReadOnlyList<string> Names, DateTimeOffset At);

/// <summary>A login name or address a person carried, and when it was first and last seen on them.</summary>
public sealed record PersonName(string Name, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);

/// <summary>Every name a person ever had, and how many events are theirs (by person id).</summary>
public sealed record PersonRecord(string PersonId, string DisplayName, IReadOnlyList<PersonName> Names, long EventCount);

/// <summary>A new identity for an already stored event (re-resolution).</summary>
public sealed record IdentityUpdate(string EventId, EventIdentity Identity);

/// <summary>What an ACL identifier or folder owner names (<see cref="SubjectIdentity.Kind"/>).</summary>
public static class SubjectKind
{
    /// <summary>A person in the directory.</summary>
    public const string Person = "person";
    /// <summary>A Cyrus group (<c>group:&lt;name&gt;</c>), found or not in the directory.</summary>
    public const string Group = "group";
    /// <summary><c>anyone</c>, <c>anonymous</c> and the configured administrators: nothing to look up.</summary>
    public const string Special = "special";
    /// <summary>A login name the directory did not resolve (yet): see <see cref="SubjectIdentity.Status"/>.</summary>
    public const string Unknown = "unknown";
}

/// <summary>
/// Who an ACL identifier or a folder's owner named at <see cref="ResolvedAt"/>, kept inside the folder so the
/// record shows the person or group as they were when the right was granted, even after the directory changes.
/// </summary>
public sealed record SubjectIdentity
{
    /// <summary>The raw identifier as Cyrus sent it (<c>jane</c>, <c>-jane</c>, <c>group:legal</c>, <c>anyone</c>).</summary>
    public required string Identifier { get; init; }
    /// <summary>One of <see cref="SubjectKind"/>.</summary>
    public required string Kind { get; init; }
    /// <summary>One of <see cref="IdentityStatus"/>; <see cref="IdentityStatus.Pending"/> is looked up again later.</summary>
    public required string Status { get; init; }
    /// <summary>A negative ACL entry (<c>-jane</c>): rights taken away from the subject.</summary>
    public bool Negative { get; init; }
    /// <summary>The rights the entry had when this snapshot was taken; a new grant takes a new snapshot.</summary>
    public string? Rights { get; init; }
    public string? PersonId { get; init; }
    /// <summary>The person's display name, or the group's name.</summary>
    public string? DisplayName { get; init; }
    public string? GroupDn { get; init; }
    public string? GroupName { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>
    /// When the entry got <see cref="Rights"/> (the time of the event that set them): the moment this snapshot stands
    /// for, kept when a pending snapshot is filled in later. Null on snapshots kept before Bonnie recorded it.
    /// </summary>
    public DateTimeOffset? SeenAt { get; init; }
    /// <summary>When the entry left the ACL (its rights revoked); a grant after that is a new moment.</summary>
    public DateTimeOffset? RemovedAt { get; init; }
}
