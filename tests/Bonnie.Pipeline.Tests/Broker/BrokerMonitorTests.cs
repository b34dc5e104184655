using Bonnie.Pipeline.Broker;

namespace Bonnie.Pipeline.Tests.Broker;

public sealed class BrokerMonitorTests
{
    [Fact]
    public async Task Publish_BurstFromTheBrokersThread_SubscriberSeesSnapshotsInOrderOneAtATimeEndingWithTheLast()
    {
        const int count = 2_000;
        // Enough pool threads at hand that queued deliveries could run side by side, as on a busy host.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
        var monitor = new BrokerMonitor();
        var seen = new List<long>();
        var inside = 0;
        var overlapped = false;
        var last = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.Changed += s =>
        {
            overlapped |= Interlocked.Increment(ref inside) > 1;
            lock (seen)
            {
                seen.Add(s.Submitted);
            }
            if (s.Submitted % 100 == 0)
            {
                // A subscriber that takes its time now and then (a render, a lock): other snapshots arrive meanwhile.
                Thread.Sleep(2);
            }
            Interlocked.Decrement(ref inside);
            if (s.Submitted == count)
            {
                last.TrySetResult();
            }
        };

        // One thread, like the broker's poller.
        await Task.Run(() =>
        {
            for (var i = 1; i <= count; i++)
            {
                monitor.Publish(BrokerSnapshot.Empty with { Submitted = i });
            }
        });

        await last.Task.WaitAsync(TimeSpan.FromSeconds(20));
        lock (seen)
        {
            // Never an older snapshot after a newer one (a page would keep showing it), never two calls at once.
            Assert.Equal(seen.Order(), seen);
            Assert.Equal(seen.Distinct(), seen);
            Assert.Equal(count, seen[^1]);
        }
        Assert.False(overlapped, "the subscriber was called again before its previous call returned");
    }
}
