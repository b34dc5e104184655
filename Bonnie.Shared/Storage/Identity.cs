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
