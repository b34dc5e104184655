using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Identity;

/// <summary>Who an ACL identifier names now, as the folder keeps it; <see cref="Person"/> feeds the person record.</summary>
internal sealed record SubjectEnrichment(SubjectIdentity Subject, PersonSighting? Person);

/// <summary>
/// A Cyrus ACL identifier taken apart: <c>-</c> makes it negative, <c>group:</c> names a group, <c>anyone</c>,
/// <c>anonymous</c> and the administrators are special; anything else is a login name.
/// </summary>
internal sealed record AclIdentifier(string Identifier, string Name, bool Negative, bool IsGroup, bool IsSpecial)
{
    private const string GroupPrefix = "group:";

    public static AclIdentifier Parse(string identifier, IReadOnlyCollection<string> admins)
    {
        var negative = identifier.Length > 1 && identifier[0] == '-';
        var name = negative ? identifier[1..] : identifier;
        if (name.StartsWith(GroupPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return new AclIdentifier(identifier, name[GroupPrefix.Length..], negative, IsGroup: true, IsSpecial: false);
        }
        var special = name.Equals("anyone", StringComparison.OrdinalIgnoreCase)
            || name.Equals("anonymous", StringComparison.OrdinalIgnoreCase)
            || admins.Contains(name, StringComparer.OrdinalIgnoreCase);
        return new AclIdentifier(identifier, name, negative, IsGroup: false, IsSpecial: special);
    }

    /// <summary>The snapshot for what the directory answered (or did not) about this identifier.</summary>
    public SubjectEnrichment Describe(Resolution? resolution, DateTimeOffset resolvedAt, DateTimeOffset seenAt)
    {
        var subject = new SubjectIdentity
        {
            Identifier = Identifier,
            Negative = Negative,
            Kind = IsSpecial ? SubjectKind.Special : IsGroup ? SubjectKind.Group : SubjectKind.Unknown,
            Status = IdentityStatus.Pending,
            GroupName = IsGroup ? Name : null,
        };
        return (IsSpecial, resolution) switch
        {
            (_, Resolution.Disabled) => new(subject with { Status = IdentityStatus.Disabled }, null),
            (true, _) => new(subject with { Status = IdentityStatus.Resolved, DisplayName = Name }, null),
            (_, Resolution.Resolved { Person: var p }) when !IsGroup => new(
                subject with
                {
                    Kind = SubjectKind.Person, Status = IdentityStatus.Resolved, PersonId = p.PersistentId,
                    DisplayName = p.DisplayName, ResolvedAt = p.ResolvedAt,
                },
                new PersonSighting(p.PersistentId, p.DisplayName,
                    p.LoginNames.Concat(p.Addresses).Select(n => n.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList(), seenAt)),
            (_, Resolution.GroupResolved { Group: var g }) when IsGroup => new(
                subject with
                {
                    Status = IdentityStatus.Resolved, GroupDn = g.DistinguishedName, GroupName = g.Name, DisplayName = g.Name,
                    ResolvedAt = resolvedAt,
                },
                null),
            (_, Resolution.NotFound) => new(subject with { Status = IdentityStatus.NotFound, ResolvedAt = resolvedAt }, null),
            (_, Resolution.Ambiguous) => new(subject with { Status = IdentityStatus.Ambiguous, ResolvedAt = resolvedAt }, null),
            _ => new(subject, null),
        };
    }
}

/// <summary>
/// Keeps, inside a folder, who each ACL subject and the owner named: a new snapshot when an entry's rights change
/// (a new grant is a new moment), when the owner changes, and while a snapshot is still pending. One per batch
/// of the worker: a name is asked once per batch.
/// </summary>
internal sealed class FolderSubjects(IIdentityEnricher enricher)
{
    private readonly Dictionary<string, SubjectEnrichment> _asked = new(StringComparer.Ordinal);

    /// <param name="people">Receives the people the subjects resolved to, seen at <paramref name="at"/>.</param>
    public async Task SnapshotAsync(FolderObject folder, DateTimeOffset at, List<PersonSighting> people, CancellationToken cancellationToken)
    {
        if (!ReferenceEquals(folder.AclSubjects.Comparer, StringComparer.Ordinal))
        {
            // Read back from JSON with the default comparer; identifiers compare exactly.
            folder.AclSubjects = new(folder.AclSubjects, StringComparer.Ordinal);
        }
        foreach (var (identifier, rights) in folder.Acl)
        {
            if (folder.AclSubjects.TryGetValue(identifier, out var kept)
                && kept.Status != IdentityStatus.Pending
                && string.Equals(kept.Rights, rights, StringComparison.Ordinal))
            {
                continue;
            }
            var seen = await AskAsync(identifier, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status == IdentityStatus.Disabled)
            {
                // No directory: nothing to keep, and an entry without a snapshot is resolved once one is configured.
                return;
            }
            folder.AclSubjects[identifier] = seen.Subject with { Rights = rights };
            Add(people, seen, at);
        }
        if (folder.Owner is not { Length: > 0 } owner)
        {
            folder.OwnerIdentity = null;
            return;
        }
        if (folder.OwnerIdentity is not { } current
            || current.Status == IdentityStatus.Pending
            || !string.Equals(current.Identifier, owner, StringComparison.Ordinal))
        {
            var seen = await AskAsync(owner, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status == IdentityStatus.Disabled)
            {
                return;
            }
            folder.OwnerIdentity = seen.Subject;
            Add(people, seen, at);
        }
    }

    private static void Add(List<PersonSighting> people, SubjectEnrichment seen, DateTimeOffset at)
    {
        if (seen.Person is { } person)
        {
            people.Add(person with { At = at });
        }
    }

    private async Task<SubjectEnrichment> AskAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!_asked.TryGetValue(identifier, out var seen))
        {
            try
            {
                seen = await enricher.DescribeSubjectAsync(identifier, at, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Identity never fails a job: kept pending, asked again with the folder's next event.
                seen = AclIdentifier.Parse(identifier, []).Describe(null, at, at);
            }
            _asked[identifier] = seen;
        }
        return seen;
    }
}
