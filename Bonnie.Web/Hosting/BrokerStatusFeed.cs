using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Status;

namespace Bonnie.Web.Hosting;

/// <summary>Carries the broker's snapshots (queue depth by state, workers) into the <see cref="SystemStatus"/> the pages show.</summary>
internal sealed class BrokerStatusFeed(BrokerMonitor monitor, SystemStatus status) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        monitor.Changed += OnChanged;
        if (monitor.Current.Running)
        {
            OnChanged(monitor.Current);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        monitor.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    internal void OnChanged(BrokerSnapshot snapshot) =>
        status.Update(current => current with
        {
            // Done jobs are history, not queue: the queue is what still needs work or attention.
            QueueDepthByState = snapshot.Jobs
                .Where(j => j.Key != JobState.Done)
                .ToDictionary(j => j.Key.ToString().ToUpperInvariant(), j => j.Value),
            Workers = [.. snapshot.Workers.Select(w => new WorkerStatus(w.Id, w.State.ToString().ToUpperInvariant(), w.LastSeen))],
            UpdatedAt = snapshot.At,
        });
}
