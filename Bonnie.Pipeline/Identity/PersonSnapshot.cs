namespace Bonnie.Pipeline.Identity;

/// <summary>
/// Who a login name belonged to at <see cref="ResolvedAt"/>: kept with each event, so the record shows the person
/// (with the groups and roles they had then) even after the directory changes.
/// </summary>
/// <param name="PersistentId">The directory's rename-proof id (entryUUID or nsUniqueId): the person's key.</param>
/// <param name="DistinguishedName">The entry's DN at that moment (it changes on renames).</param>
/// <param name="LoginNames">Every value of the login attributes, lower case: each names this person.</param>
public sealed record PersonSnapshot(
    string PersistentId,
    string DistinguishedName,
    string DisplayName,
    IReadOnlyList<string> Addresses,
    IReadOnlyList<string> LoginNames,
    IReadOnlyList<DirectoryGroup> Groups,
    IReadOnlyList<string> Roles,
    DateTimeOffset ResolvedAt);

/// <summary>A group the person was a member of; <see cref="Name"/> is its first RDN value (usually cn).</summary>
public sealed record DirectoryGroup(string DistinguishedName, string Name);

/// <summary>The answer of <see cref="DirectoryResolver.ResolveAsync"/>; never an exception for a directory problem.</summary>
public abstract record Resolution
{
    private Resolution() { }

    public sealed record Resolved(PersonSnapshot Person) : Resolution;

    /// <summary>A group found by <see cref="DirectoryResolver.ResolveGroupAsync"/>.</summary>
    public sealed record GroupResolved(DirectoryGroup Group) : Resolution;

    /// <summary>The directory answered and knows no such login name: keep the raw name.</summary>
    public sealed record NotFound(string LoginName) : Resolution;

    /// <summary>Several different people carry this login name: keep the raw name, show the conflict.</summary>
    public sealed record Ambiguous(string LoginName, IReadOnlyList<string> DistinguishedNames) : Resolution;

    /// <summary>No answer (down, slow, bind refused): store the event with the raw name and resolve it later.</summary>
    public sealed record DirectoryUnavailable(string Reason) : Resolution;

    /// <summary>Identity resolution is switched off (Bonnie:Identity:Enabled is false).</summary>
    public sealed record Disabled : Resolution;
}

/// <summary>The answer of <see cref="DirectoryResolver.CheckPasswordAsync"/>.</summary>
public enum PasswordCheck
{
    Right,
    Wrong,
    /// <summary>No directory server answered.</summary>
    Unavailable,
}
