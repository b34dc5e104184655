using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Status;
using Bonnie.Web.Hosting;

namespace Bonnie.Web.Tests.Hosting;

public sealed class BrokerStatusFeedTests
{
    [Fact]
    public async Task BrokerPublishes_QueueAndWorkers_ReachTheSystemStatus()
    {
        var monitor = new BrokerMonitor();
        var status = new SystemStatus();
        var feed = new BrokerStatusFeed(monitor, status);
        await feed.StartAsync(CancellationToken.None);
        var at = new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = status.Subscribe(s =>
        {
            if (s.UpdatedAt == at)
            {
                reached.TrySetResult();
            }
        });
        monitor.Publish(new BrokerSnapshot
        {
            Running = true,
            At = at,
            Jobs = new Dictionary<JobState, long> { [JobState.Pending] = 12, [JobState.Done] = 5000, [JobState.Failed] = 1 },
            Workers = [new WorkerSnapshot("w1", WorkerState.Busy, 0, 4, at)],
        });
        // The monitor calls its subscribers on the thread pool.
        await reached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await feed.StopAsync(CancellationToken.None);
        monitor.Publish(BrokerSnapshot.Empty with { Running = true });
        await Task.Delay(100);

        var current = status.Current;
        Assert.Equal(new Dictionary<string, long> { ["PENDING"] = 12, ["FAILED"] = 1 }, current.QueueDepthByState);
        Assert.Equal([new WorkerStatus("w1", "BUSY", at)], current.Workers);
        Assert.Equal(at, current.UpdatedAt);
    }
}
