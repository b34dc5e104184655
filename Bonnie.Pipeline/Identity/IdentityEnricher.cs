using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Identity;

/// <summary>Who a login name is now, as an event keeps it; <see cref="Person"/> feeds the person record.</summary>
internal sealed record Enrichment(EventIdentity Identity, PersonSighting? Person);

/// <summary>Resolves an event's user for the store. Never throws for a directory problem and never waits long.</summary>
internal interface IIdentityEnricher
{
    /// <param name="at">When the name was seen (the event's time): the person record's first/last seen.</param>
    Task<Enrichment> EnrichAsync(string loginName, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Who an ACL identifier (or a folder owner) names now: a person, a group, a special name, or unknown.</summary>
    /// <param name="at">When it was seen (the event's time): the person record's first/last seen.</param>
    Task<SubjectEnrichment> DescribeSubjectAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>
/// The real enricher over <see cref="DirectoryResolver"/>. After the directory failed to answer it answers
/// "pending" at once for <see cref="PauseAfterFailure"/>: a down directory must not slow every batch by its timeout.
/// </summary>
internal sealed partial class DirectoryIdentityEnricher(
    DirectoryResolver resolver, TimeProvider time, ILogger<DirectoryIdentityEnricher> logger, IOptions<IdentityOptions>? options = null)
    : IIdentityEnricher
{
    private readonly IReadOnlyCollection<string> _admins = options?.Value.AdminSubjects ?? [];
    private readonly bool _enabled = options?.Value.Enabled ?? true;
    internal static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(30);
    private long _pausedUntilTicks;

    public async Task<Enrichment> EnrichAsync(string loginName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var resolution = await AskAsync(resolver.ResolveAsync, loginName, cancellationToken).ConfigureAwait(false);
        return ToEnrichment(resolution, at);
    }

    public async Task<SubjectEnrichment> DescribeSubjectAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var subject = AclIdentifier.Parse(identifier, _admins);
        var resolution = !_enabled ? new Resolution.Disabled()
            : subject.IsSpecial
            ? null
            : await AskAsync(subject.IsGroup ? resolver.ResolveGroupAsync : resolver.ResolveAsync, subject.Name, cancellationToken).ConfigureAwait(false);
        return subject.Describe(resolution, time.GetUtcNow(), at);
    }

    /// <summary>The directory's answer, or "unavailable" at once while paused after a failure.</summary>
    private async Task<Resolution> AskAsync(Func<string, CancellationToken, Task<Resolution>> resolve, string name, CancellationToken cancellationToken)
    {
        if (time.GetUtcNow().UtcTicks < Interlocked.Read(ref _pausedUntilTicks))
        {
            return new Resolution.DirectoryUnavailable("paused after a failure");
        }
        Resolution resolution;
        try
        {
            resolution = await resolve(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Identity never fails a job: an unexpected error is one more reason to resolve later.
            resolution = new Resolution.DirectoryUnavailable(ex.Message);
        }
        if (resolution is Resolution.DirectoryUnavailable down)
        {
            Interlocked.Exchange(ref _pausedUntilTicks, (time.GetUtcNow() + PauseAfterFailure).UtcTicks);
            LogPending(logger, down.Reason);
        }
        return resolution;
    }

    internal static Enrichment ToEnrichment(Resolution resolution, DateTimeOffset at) => resolution switch
    {
        Resolution.Resolved { Person: var p } => new Enrichment(
            new EventIdentity
            {
                Status = IdentityStatus.Resolved,
                PersonId = p.PersistentId,
                DisplayName = p.DisplayName,
                Addresses = p.Addresses,
                Groups = p.Groups.Select(g => g.Name).ToList(),
                Roles = p.Roles,
                ResolvedAt = p.ResolvedAt,
            },
            new PersonSighting(p.PersistentId, p.DisplayName,
                p.LoginNames.Concat(p.Addresses).Select(n => n.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList(), at)),
        Resolution.NotFound => Status(IdentityStatus.NotFound),
        Resolution.Ambiguous => Status(IdentityStatus.Ambiguous),
        Resolution.Disabled => Status(IdentityStatus.Disabled),
        _ => Status(IdentityStatus.Pending),
    };

    private static Enrichment Status(string status) => new(new EventIdentity { Status = status }, null);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory did not answer; events are stored with identity pending: {Reason}")]
    private static partial void LogPending(ILogger logger, string reason);
}
