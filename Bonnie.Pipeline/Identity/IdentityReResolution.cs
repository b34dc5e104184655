using Bonnie.Shared.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Identity;

/// <summary>
/// Resolves the events stored with identity "pending" (the directory did not answer then), a bounded batch at a
/// time, and fills their snapshot and the person records. While the directory stays down it backs off, doubling
/// the wait up to <see cref="MaxBackoff"/>.
/// </summary>
internal sealed partial class IdentityReResolution(IBonnieStore store, IIdentityEnricher enricher, TimeProvider time,
    ILogger<IdentityReResolution> logger) : BackgroundService
{
    internal const int BatchSize = 500;
    internal static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(15);

    /// <summary>What one pass did: events updated, and whether the directory was down (the rest stays pending).</summary>
    internal sealed record Pass(int Updated, bool DirectoryDown, bool MoreWaiting);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = Interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var pass = await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                backoff = pass.DirectoryDown ? TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks)) : Interval;
                wait = pass.DirectoryDown ? backoff : pass.MoreWaiting ? TimeSpan.Zero : Interval;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store failed this pass: the events stay pending, the next pass tries again.
                LogPassFailed(logger, ex);
                wait = Interval;
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One bounded pass over the oldest pending events; stops at the first "directory still down".</summary>
    internal async Task<Pass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pending = await store.GetPendingIdentityAsync(BatchSize, cancellationToken).ConfigureAwait(false);
        var updates = new List<IdentityUpdate>();
        var people = new List<PersonSighting>();
        var byUser = new Dictionary<string, Enrichment>(StringComparer.OrdinalIgnoreCase);
        var down = false;
        foreach (var e in pending)
        {
            if (e.User is not { Length: > 0 } user)
            {
                continue;
            }
            if (!byUser.TryGetValue(user, out var enrichment))
            {
                enrichment = await enricher.EnrichAsync(user, e.Timestamp, cancellationToken).ConfigureAwait(false);
                byUser[user] = enrichment;
            }
            if (enrichment.Identity.Status == IdentityStatus.Pending)
            {
                down = true;
                break;
            }
            updates.Add(new IdentityUpdate(e.Id, enrichment.Identity));
            if (enrichment.Person is { } person)
            {
                people.Add(person with { At = e.Timestamp });
            }
        }
        if (updates.Count > 0)
        {
            await store.UpdateIdentityAsync(updates, people, cancellationToken).ConfigureAwait(false);
            LogResolved(logger, updates.Count);
        }
        return new Pass(updates.Count, down, !down && pending.Count == BatchSize);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-resolution filled the identity of {Count} pending events")]
    private static partial void LogResolved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A re-resolution pass failed; the events stay pending")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
