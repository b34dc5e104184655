using Bonnie.Pipeline.Broker;
using Microsoft.Extensions.Hosting;

namespace Bonnie.Pipeline.Hosting;

internal sealed class BrokerHostedService(JobBroker broker, BrokerMetrics metrics) : IHostedService
{
    // Resolved here so the instruments exist as long as the broker runs.
    private readonly BrokerMetrics _metrics = metrics;

    // Started before the web host accepts requests and before the in-process worker connects (registration order).
    public Task StartAsync(CancellationToken cancellationToken)
    {
        broker.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // May run twice (see WorkerHostedService); both are idempotent.
        broker.Dispose();
        _metrics.Dispose();
        return Task.CompletedTask;
    }
}

internal sealed class WorkerHostedService(Worker.JobWorker worker) : IHostedService
{
    private readonly Lock _gate = new();
    private Task? _stop;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        worker.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// One stop, however many callers: a host can be stopped twice at once (a test host's factory and the app's own
    /// Run both stop it when it shuts down; Run then disposes the services while the other stop still runs). The
    /// second caller waits for the first stop instead of draining a worker the first has disposed.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _stop ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await worker.StopAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        worker.Dispose();
    }
}
