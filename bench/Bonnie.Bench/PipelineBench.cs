using System.Diagnostics;
using System.Globalization;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Bench;

/// <summary>
/// Sustained ingest through the whole pipeline: a backlog of N realistic notifications in the real broker (journal
/// on disk), drained by a worker running the real store processor into the embedded store, once per worker
/// concurrency and lane run (<see cref="BrokerOptions.MaxLaneRun"/>: how many jobs of one mailbox are out with the
/// worker at once). Both bound the batch the store commits in one transaction. The baseline, in the same run: the same
/// notifications straight through the processor in batches of 5,000 (the store bench's figure).
/// </summary>
internal static class PipelineBench
{
    public static int Run(string[] args)
    {
        var events = BenchArgs.Int(args, "--events", 100_000);
        var users = BenchArgs.Int(args, "--users", 1_000);
        var concurrencies = BenchArgs.IntList(args, "--concurrency", "1024,16384");
        var laneRuns = BenchArgs.IntList(args, "--lane-runs", new BrokerOptions().MaxLaneRun.ToString(CultureInfo.InvariantCulture));
        var root = Directory.CreateTempSubdirectory("bonnie-bench-pipeline-").FullName;
        Console.WriteLine($"pipeline bench: {events:N0} realistic notifications queued for {users:N0} users, drained by one worker; in {root}");
        try
        {
            var generator = new NotificationGenerator(users, events);
            var notifications = Enumerable.Range(0, events).Select(_ => generator.Next().Bytes).ToArray();
            var (direct, directStore) = StoreBench.RunStore(Path.Combine(root, "direct"), events, users, 5_000);
            directStore.Dispose();
            Console.WriteLine($"baseline, straight through the processor in batches of 5,000: {direct:N0} events/s");
            var run = 0;
            foreach (var concurrency in concurrencies)
            {
                foreach (var laneRun in laneRuns)
                {
                    var (rate, batches) = Drain(Path.Combine(root, "c" + (run++).ToString(CultureInfo.InvariantCulture)), notifications, concurrency, laneRun, store: true);
                    Console.WriteLine($"through broker and worker, concurrency {concurrency,5}, lane run {laneRun,4}: {rate,8:N0} events/s (ratio to the baseline {rate / direct:N2}), {batches:N0} transactions, {events / (double)batches:N0} events each on average");
                }
            }
            if (args.Contains("--without-store"))
            {
                // What the broker and the worker's round trips alone allow: the same backlog, a processor that does nothing.
                foreach (var concurrency in concurrencies)
                {
                    foreach (var laneRun in laneRuns)
                    {
                        var (rate, batches) = Drain(Path.Combine(root, "n" + (run++).ToString(CultureInfo.InvariantCulture)), notifications, concurrency, laneRun, store: false);
                        Console.WriteLine($"through broker and worker, no store, concurrency {concurrency,5}, lane run {laneRun,4}: {rate,8:N0} events/s, {batches:N0} batches");
                    }
                }
            }
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    private static (double Rate, long Batches) Drain(string directory, byte[][] notifications, int concurrency, int laneRun, bool store)
    {
        var monitor = new BrokerMonitor();
        var options = BrokerBench.Loopback();
        options.MaxLaneRun = laneRun;
        using var broker = new JobBroker(options, Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, monitor);
        broker.Start();
        Queue(broker.ClientEndpoint, notifications);

        var storeDirectory = Path.Combine(directory, "store");
        using var embedded = store ? StoreBench.OpenStore(storeDirectory) : null;
        var processor = new CountingProcessor(embedded is null ? new NothingProcessor() : StoreBench.Processor(embedded, storeDirectory));
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(processor);
        using var provider = services.BuildServiceProvider();
        using var worker = new JobWorker(new WorkerOptions
        {
            WorkerEndpoint = broker.WorkerEndpoint,
            ControllerEndpoint = broker.ControllerEndpoint,
            Concurrency = concurrency,
            MaxBatch = concurrency,
        }, provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);

        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.Changed += s =>
        {
            if (s.Jobs.GetValueOrDefault(JobState.Done) + s.Jobs.GetValueOrDefault(JobState.Failed) >= notifications.Length)
            {
                drained.TrySetResult();
            }
        };
        var stopwatch = Stopwatch.StartNew();
        worker.Start();
        if (!drained.Task.Wait(TimeSpan.FromMinutes(30)))
        {
            throw new InvalidOperationException($"the queue was not drained in 30 minutes: {monitor.Current.Jobs.GetValueOrDefault(JobState.Done):N0} done");
        }
        var rate = notifications.Length / stopwatch.Elapsed.TotalSeconds;
        if (monitor.Current.Jobs.GetValueOrDefault(JobState.Failed) is > 0 and var failed)
        {
            throw new InvalidOperationException($"{failed} jobs failed");
        }
        worker.StopAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        return (rate, processor.Batches);
    }

    /// <summary>Queues every notification before the worker starts, so the worker drains a backlog.</summary>
    private static void Queue(string endpoint, byte[][] notifications)
    {
        const int window = 1_000;
        using var dealer = new DealerSocket();
        dealer.Options.SendHighWatermark = window * 2;
        dealer.Connect(endpoint);
        var outstanding = 0;
        for (var i = 0; i < notifications.Length || outstanding > 0;)
        {
            while (i < notifications.Length && outstanding < window)
            {
                dealer.SendFrame(notifications[i++]);
                outstanding++;
            }
            if (!dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out var reply) || reply != WireProtocol.Ack)
            {
                throw new InvalidOperationException($"no ACK within 30 s (got {reply})");
            }
            outstanding--;
        }
    }

    private sealed class NothingProcessor : IBatchJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(JobOutcome.Success);

        public Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
            => Task.FromResult<IReadOnlyList<JobOutcome>>(jobs.Select(_ => JobOutcome.Success).ToArray());
    }

    private sealed class CountingProcessor(IBatchJobProcessor inner) : IBatchJobProcessor
    {
        private long _batches;

        public long Batches => Interlocked.Read(ref _batches);

        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => inner.ProcessAsync(job, cancellationToken);

        public Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _batches);
            return inner.ProcessBatchAsync(jobs, cancellationToken);
        }
    }
}
