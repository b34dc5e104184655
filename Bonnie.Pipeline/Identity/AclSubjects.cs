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
/// (a new grant is a new moment; the one it replaces goes to the folder's history), when the owner changes, and
/// while a snapshot is still pending. One per batch of the worker or pass of the re-resolution: a name is asked once.
/// </summary>
internal sealed class FolderSubjects(IIdentityEnricher enricher)
{
    /// <summary>Earlier snapshots kept per identifier; older ones give way (the history then shows the oldest kept).</summary>
    internal const int HistoryPerIdentifier = 50;

    private readonly Dictionary<string, SubjectEnrichment> _asked = new(StringComparer.Ordinal);

    /// <param name="people">Receives the people the subjects resolved to, seen at <paramref name="at"/>.</param>
    public async Task SnapshotAsync(FolderObject folder, DateTimeOffset at, List<PersonSighting> people, CancellationToken cancellationToken)
    {
        UseOrdinalKeys(folder);
        foreach (var (identifier, rights) in folder.Acl)
        {
            folder.AclSubjects.TryGetValue(identifier, out var kept);
            var sameGrant = kept is not null && kept.RemovedAt is null && string.Equals(kept.Rights, rights, StringComparison.Ordinal);
            if (sameGrant && kept!.Status != IdentityStatus.Pending)
            {
                continue;
            }
            var seen = await AskAsync(identifier, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status == IdentityStatus.Disabled)
            {
                // No directory: nothing to keep, and an entry without a snapshot is resolved once one is configured.
                return;
            }
            if (!sameGrant && kept is { Status: not IdentityStatus.Pending })
            {
                Keep(folder, kept);
            }
            // A pending snapshot filled in now still stands for the moment the rights were set.
            var grantedAt = sameGrant ? kept!.SeenAt ?? at : at;
            folder.AclSubjects[identifier] = seen.Subject with { Rights = rights, SeenAt = grantedAt };
            Add(people, seen, grantedAt);
        }
        foreach (var (identifier, kept) in folder.AclSubjects.Where(s => s.Value.RemovedAt is null && !folder.Acl.ContainsKey(s.Key)).ToList())
        {
            folder.AclSubjects[identifier] = kept with { RemovedAt = at };
        }
        if (folder.Owner is not { Length: > 0 } owner)
        {
            folder.OwnerIdentity = null;
            return;
        }
        var current = folder.OwnerIdentity;
        var sameOwner = current is not null && string.Equals(current.Identifier, owner, StringComparison.Ordinal);
        if (!sameOwner || current!.Status == IdentityStatus.Pending)
        {
            var seen = await AskAsync(owner, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status == IdentityStatus.Disabled)
            {
                return;
            }
            // A pending owner filled in now still stands for the moment the folder got that owner.
            var ownedSince = sameOwner ? current!.SeenAt ?? at : at;
            folder.OwnerIdentity = seen.Subject with { SeenAt = ownedSince };
            Add(people, seen, ownedSince);
        }
    }

    /// <summary>
    /// Fills in the folder's pending subjects and owner (the directory did not answer when they were taken), each for
    /// the moment it stands for; nothing else changes. False when nothing could be filled in.
    /// </summary>
    /// <param name="now">When this pass runs: the moment of a snapshot kept before Bonnie recorded one.</param>
    public async Task<bool> FillPendingAsync(FolderObject folder, DateTimeOffset now, List<PersonSighting> people, CancellationToken cancellationToken)
    {
        UseOrdinalKeys(folder);
        var filled = false;
        foreach (var (identifier, kept) in folder.AclSubjects.Where(s => s.Value.Status == IdentityStatus.Pending).ToList())
        {
            var at = kept.SeenAt ?? now;
            var seen = await AskAsync(identifier, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status is IdentityStatus.Pending or IdentityStatus.Disabled)
            {
                continue;
            }
            folder.AclSubjects[identifier] = seen.Subject with { Rights = kept.Rights, SeenAt = kept.SeenAt, RemovedAt = kept.RemovedAt };
            Add(people, seen, at);
            filled = true;
        }
        if (folder.OwnerIdentity is { Status: IdentityStatus.Pending } owner)
        {
            if (folder.Owner is not { Length: > 0 } current)
            {
                folder.OwnerIdentity = null;
                return true;
            }
            // The owner changed while resolution was off: the snapshot is for the owner the folder has now.
            var same = string.Equals(owner.Identifier, current, StringComparison.Ordinal);
            var at = same ? owner.SeenAt ?? now : now;
            var seen = await AskAsync(current, at, cancellationToken).ConfigureAwait(false);
            if (seen.Subject.Status is not (IdentityStatus.Pending or IdentityStatus.Disabled))
            {
                folder.OwnerIdentity = seen.Subject with { SeenAt = same ? owner.SeenAt : now };
                Add(people, seen, at);
                filled = true;
            }
        }
        return filled;
    }

    private static void UseOrdinalKeys(FolderObject folder)
    {
        if (!ReferenceEquals(folder.AclSubjects.Comparer, StringComparer.Ordinal))
        {
            // Read back from JSON with the default comparer; identifiers compare exactly.
            folder.AclSubjects = new(folder.AclSubjects, StringComparer.Ordinal);
        }
    }

    private static void Keep(FolderObject folder, SubjectIdentity replaced)
    {
        folder.AclSubjectHistory.Add(replaced);
        var same = folder.AclSubjectHistory.Where(s => string.Equals(s.Identifier, replaced.Identifier, StringComparison.Ordinal)).ToList();
        foreach (var oldest in same.Take(same.Count - HistoryPerIdentifier))
        {
            folder.AclSubjectHistory.Remove(oldest);
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
                // Identity never fails a job: kept pending, asked again with the folder's next event or the re-resolution.
                seen = AclIdentifier.Parse(identifier, []).Describe(null, at, at);
            }
            _asked[identifier] = seen;
        }
        return seen;
    }
}
