using Bonnie.Pipeline.Broker;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Storage;

/// <summary>
/// A job the broker gives up on (its attempts used up by missed deadlines, lost workers or postponements) never
/// reaches a worker's quarantine: its event is in neither the trail nor <c>/api/quarantine</c>, only in the live
/// view's failed jobs. In the broker's process (every host of Bonnie.Web opens the store, whether its workers run
/// beside it or in processes of their own on the same store), this copies each such job into the store's quarantine
/// (stage <see cref="QuarantineStages.Broker"/>), with the notification's bytes and the broker's reason. A job a worker
/// already quarantined keeps the worker's record, which says more.
/// </summary>
internal sealed partial class FailedJobForwarder(JobBroker? broker, IBonnieStore store, TimeProvider time, ILogger<FailedJobForwarder> logger)
    : BackgroundService
{
    /// <summary>How often the broker's failed jobs are looked at; a failure is rare, and this costs one indexed read.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Failed jobs looked at per pass, newest first; older ones were forwarded by earlier passes.</summary>
    internal const int MaxPerPass = 1000;

    private readonly HashSet<string> _forwarded = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (broker is null)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await ForwardAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is down or busy: the jobs stay FAILED in the broker's queue and the next pass tries again.
                LogForwardFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass: the failed jobs not forwarded yet by this process, into the store's quarantine. Returns how many.</summary>
    public async Task<int> ForwardAsync(CancellationToken cancellationToken)
    {
        if (broker is null)
        {
            return 0;
        }
        var batch = new StoreBatch();
        foreach (var failed in broker.ListFailed(MaxPerPass))
        {
            if (_forwarded.Contains(failed.Id) || broker.ReadJob(failed.Id) is not { } stored)
            {
                continue;
            }
            batch.Quarantine.Add(new QuarantineItem
            {
                JobId = failed.Id,
                At = time.GetUtcNow(),
                Stage = QuarantineStages.Broker,
                Reason = $"the broker gave up after {failed.Attempts} attempts: {failed.Reason ?? "no reason given"}",
                RawSha256 = failed.Id,
                Raw = stored.Notification,
            });
        }
        if (batch.Quarantine.Count == 0)
        {
            return 0;
        }
        // Written again after a restart, a record changes nothing: the broker's stage never replaces one (QuarantineStages).
        await store.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
        foreach (var q in batch.Quarantine)
        {
            _forwarded.Add(q.JobId);
        }
        LogForwarded(logger, batch.Quarantine.Count);
        return batch.Quarantine.Count;
    }

    [LoggerMessage(1, LogLevel.Information, "{Count} jobs the broker gave up on were put in the store's quarantine")]
    private static partial void LogForwarded(ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "The broker's failed jobs could not be put in the store's quarantine; trying again at the next pass")]
    private static partial void LogForwardFailed(ILogger logger, Exception exception);
}
