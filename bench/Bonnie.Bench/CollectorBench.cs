using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bonnie.Collector;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;

namespace Bonnie.Bench;

/// <summary>
/// Payload fetches per second the collector serves: N MessageNew jobs whose worker asks for the payload (COLLECT),
/// the real broker forwarding to the real collector reading a Cyrus-layout spool, the worker getting the bytes.
/// The baseline in the same run: reading the same spool files directly.
/// </summary>
internal static class CollectorBench
{
    public static int Run(string[] args)
    {
        var count = BenchArgs.Int(args, "--messages", 2000);
        var directory = Directory.CreateTempSubdirectory("bonnie-bench-collector-").FullName;
        try
        {
            var spool = Path.Combine(directory, "spool");
            var body = Encoding.ASCII.GetBytes("From: a@example.org\r\nTo: b@example.org\r\nSubject: bench\r\n\r\n" + new string('x', 4000) + "\r\n");
            var paths = new List<string>();
            for (var i = 1; i <= count; i++)
            {
                var mailbox = "mbox" + (i % 50).ToString("D4", CultureInfo.InvariantCulture) + "abcdefghij";
                var path = CyrusSpool.PathFor(spool, mailbox, (uint)i)!;
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, body);
                paths.Add(path);
            }

            var direct = Stopwatch.StartNew();
            long bytes = 0;
            foreach (var path in paths)
            {
                bytes += File.ReadAllBytes(path).Length;
            }
            var directRate = count / direct.Elapsed.TotalSeconds;

            var throughCollector = RunThroughCollector(directory, spool, count);
            Console.WriteLine($"collector bench: {count} payloads of {body.Length} bytes in a Cyrus-layout spool");
            Console.WriteLine($"direct file reads (baseline):          {directRate,10:N0} payloads/s");
            Console.WriteLine($"worker -> broker -> collector -> worker: {throughCollector,10:N0} payloads/s");
            Console.WriteLine($"ratio collector/direct: {throughCollector / directRate:N3}");
            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double RunThroughCollector(string directory, string spool, int count)
    {
        var monitor = new BrokerMonitor();
        using var broker = new JobBroker(BrokerBench.Loopback(), Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, monitor);
        broker.Start();

        var collectorOptions = new CollectorOptions { BrokerEndpoint = broker.CollectorEndpoint, SpoolPartitions = [spool], Concurrency = 8 };
        using var collector = new CollectorService(Options.Create(collectorOptions),
            new CollectAnswerer(collectorOptions, NullLogger<CollectAnswerer>.Instance), NullLogger<CollectorService>.Instance);
        collector.StartAsync(CancellationToken.None).GetAwaiter().GetResult();

        var received = 0;
        var done = new ManualResetEventSlim();
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(new Processor(job =>
        {
            if (job.Collected.Count == 0)
            {
                var text = Encoding.UTF8.GetString(job.Notification.Span);
                var uid = uint.Parse(text[(text.IndexOf("UID=", StringComparison.Ordinal) + 4)..text.IndexOf('"', text.IndexOf("UID=", StringComparison.Ordinal))], CultureInfo.InvariantCulture);
                var mailbox = "mbox" + (uid % 50).ToString("D4", CultureInfo.InvariantCulture) + "abcdefghij";
                return new JobOutcome.Collect([CollectRequest.ForPayload(mailbox, uid, "user/u@example.org").ToString()]);
            }
            if (job.Collected[0].Error is null && Interlocked.Increment(ref received) == count)
            {
                done.Set();
            }
            return JobOutcome.Success;
        }));
        using var provider = services.BuildServiceProvider();
        using var worker = new JobWorker(new WorkerOptions
        {
            WorkerEndpoint = broker.WorkerEndpoint, ControllerEndpoint = broker.ControllerEndpoint, Concurrency = 64,
        }, provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);

        // Queue every job first, then time the collect loop alone.
        using (var dealer = new DealerSocket())
        {
            dealer.Connect(broker.ClientEndpoint);
            for (var i = 1; i <= count; i++)
            {
                // One lane per message, so the loop is bound by the collector, not by per-mailbox ordering.
                dealer.SendFrame($$"""{"event":"MessageNew","uri":"imap://imap.example.org/user/u{{i}}%40example.org;UIDVALIDITY=1/;UID={{i}}"}""");
            }
            for (var i = 0; i < count; i++)
            {
                if (!dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out _))
                {
                    throw new InvalidOperationException("the broker did not acknowledge");
                }
            }
        }
        var stopwatch = Stopwatch.StartNew();
        worker.Start();
        if (!done.Wait(TimeSpan.FromMinutes(5)))
        {
            throw new InvalidOperationException($"only {received} of {count} payloads arrived in 5 minutes");
        }
        var rate = count / stopwatch.Elapsed.TotalSeconds;
        collector.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        return rate;
    }

    private sealed class Processor(Func<Job, JobOutcome> answer) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(answer(job));
    }
}
