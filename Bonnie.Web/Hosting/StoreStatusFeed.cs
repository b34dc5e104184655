using Bonnie.Pipeline.Status;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Hosting;

/// <summary>
/// Counts what the store holds (events, quarantined notifications) every few seconds into the <see cref="SystemStatus"/>
/// the home and quarantine pages show. Until the first count, and while the store cannot answer, the pages keep the
/// last count they had, or say "not reported": never a zero that is not true.
/// </summary>
internal sealed partial class StoreStatusFeed(IBonnieStore store, SystemStatus status, TimeProvider time, ILogger<StoreStatusFeed> logger) : BackgroundService
{
    /// <summary>How often the counts are read: a count of every event is a scan of an index, not free at millions.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            await CountOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    internal async Task CountOnceAsync(CancellationToken cancellationToken)
    {
        StoreCounts counts;
        try
        {
            counts = await store.GetCountsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store may be starting, or down (Elasticsearch): the pages keep what they had; the next tick tries again.
            LogCountFailed(logger, ex);
            return;
        }
        if (status.Current.EventsStored == counts.Events && status.Current.Quarantined == counts.Quarantined)
        {
            return;
        }
        status.Update(current => current with { EventsStored = counts.Events, Quarantined = counts.Quarantined, UpdatedAt = time.GetUtcNow() });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The store's counts could not be read; the pages keep the last ones")]
    private static partial void LogCountFailed(ILogger logger, Exception exception);
}
