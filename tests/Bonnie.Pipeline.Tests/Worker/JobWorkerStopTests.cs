using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Tests.Broker;
using Bonnie.Pipeline.Worker;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>How a worker stops with the host: the jobs it runs finish or go back to the broker, and stopping never throws.</summary>
public sealed class JobWorkerStopTests
{
    [Fact]
    public async Task StopAsync_JobStillRunning_WaitsForItAndTheBrokerHearsItIsDone()
    {
        using var harness = new BrokerHarness();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource<JobOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = harness.StartWorker(new ScriptedProcessor(_ =>
        {
            started.TrySetResult();
            return release.Task;
        }), concurrency: 1);
        harness.Submit(Notifications.For("alice@example.org"));
        await started.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var stopping = worker.StopAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.False(stopping.IsCompleted, "the worker stopped while its job was still running");
        release.SetResult(JobOutcome.Success);
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));

        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1);
    }

    [Fact]
    public async Task StopAsync_HostShutdownTimeAlreadyUp_ReturnsAtOnceWithoutThrowingAndTheJobIsHandedOutAgain()
    {
        using var harness = new BrokerHarness(o => o.JobDeadline = TimeSpan.FromMilliseconds(500));
        var stuck = new UntilCanceledProcessor();
        var worker = harness.StartWorker(stuck, concurrency: 1, name: "stuck");
        harness.Submit(Notifications.For("alice@example.org"));
        await stuck.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        using var timeUp = new CancellationTokenSource();
        await timeUp.CancelAsync();

        // The grace period is far longer than the wait: returning in time means the host's token was honoured.
        await worker.StopAsync(TimeSpan.FromMinutes(5), timeUp.Token).WaitAsync(TimeSpan.FromSeconds(20));

        await stuck.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(20));
        worker.Dispose();
        var healthy = new ScriptedProcessor();
        harness.StartWorker(healthy, concurrency: 1, name: "healthy");
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == 1);
        Assert.Single(healthy.Seen);
    }

    [Fact]
    public async Task StopAsync_AfterTheWorkerWasDisposed_ReturnsAtOnce()
    {
        using var harness = new BrokerHarness();
        var worker = harness.StartWorker(new ScriptedProcessor(), concurrency: 1);
        worker.Dispose();

        await worker.StopAsync(TimeSpan.FromMinutes(5)).WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task HostedStop_HostStoppedTwice_SecondStopEndsWithTheFirstWithoutError()
    {
        // A test host's factory and the app's own Run both stop the host; the second stop came after the first had
        // disposed the worker and waited, for the host's whole shutdown time, for a worker that was gone.
        using var harness = new BrokerHarness();
        var hosted = new Bonnie.Pipeline.Hosting.WorkerHostedService(harness.StartWorker(new ScriptedProcessor(), concurrency: 1));
        await hosted.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        using var shutdownTime = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await hosted.StopAsync(shutdownTime.Token).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(shutdownTime.IsCancellationRequested, "the second stop waited for the host's shutdown time");
    }

    private sealed class UntilCanceledProcessor : IJobProcessor
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Canceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
        {
            Started.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Canceled.TrySetResult();
                throw;
            }
            return JobOutcome.Success;
        }
    }
}
