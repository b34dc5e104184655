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
        broker.Dispose();
        _metrics.Dispose();
        return Task.CompletedTask;
    }
}

internal sealed class WorkerHostedService(Worker.JobWorker worker) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        worker.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await worker.StopAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        worker.Dispose();
    }
}
