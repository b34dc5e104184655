using System.Diagnostics;
using System.Globalization;
using System.Text;
using Bonnie.Collector;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
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

            // The product's own processor draining a backlog of one mailbox (the case the collector limits most:
            // a mailbox's events are stored in order), reading the spool itself (a worker on the IMAP host, the
            // baseline) and then asking the collector for every message (UseCollector, a worker off the IMAP host).
            var backlog = BenchArgs.Int(args, "--backlog", 2000);
            var (notifications, backlogSpool) = OneMailboxBacklog(Path.Combine(directory, "backlog"), backlog);
            var ownSpool = DrainThroughStore(Path.Combine(directory, "own"), backlogSpool, notifications, useCollector: false);
            var collected = DrainThroughStore(Path.Combine(directory, "collected"), backlogSpool, notifications, useCollector: true);
            Console.WriteLine($"store processor, {backlog} deliveries to one mailbox through broker and worker:");
            Console.WriteLine($"  the worker reads the spool itself (baseline): {ownSpool,10:N0} events/s");
            Console.WriteLine($"  every message from the collector (UseCollector): {collected,10:N0} events/s; ratio {collected / ownSpool:N3}");
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

    /// <summary>The real MessageNew, once per UID of alice's INBOX, each with its own message in a Cyrus-layout spool.</summary>
    private static (List<string> Notifications, string Spool) OneMailboxBacklog(string directory, int count)
    {
        var spool = Path.Combine(directory, "spool");
        var template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "MessageNew.json")).TrimEnd('\n');
        var notifications = new List<string>(count);
        for (uint uid = 1; uid <= count; uid++)
        {
            var body = Encoding.ASCII.GetBytes($"From: a@example.org\r\nTo: alice@example.org\r\nSubject: backlog {uid}\r\n\r\n{new string('x', 4000)}\r\n");
            var path = CyrusSpool.PathFor(spool, "sufr9a0wrxwpaaifzy6ge6cu", uid)!;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, body);
#pragma warning disable CA5350 // Cyrus names messages by SHA-1; the bench reproduces that name.
            var emailId = "M" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(body))[..24];
#pragma warning restore CA5350
            notifications.Add(template.Replace("M743974037cbef97becd11ce5", emailId, StringComparison.Ordinal)
                .Replace(";UID=1\"", $";UID={uid}\"", StringComparison.Ordinal));
        }
        return (notifications, spool);
    }

    /// <summary>Queues the backlog in a real broker, then times a real worker with the store processor draining it.</summary>
    private static double DrainThroughStore(string directory, string spool, List<string> notifications, bool useCollector)
    {
        using var broker = new JobBroker(BrokerBench.Loopback(), Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, new BrokerMonitor());
        broker.Start();
        var collectorOptions = new CollectorOptions { BrokerEndpoint = broker.CollectorEndpoint, SpoolPartitions = [spool], Concurrency = 8 };
        using var collector = new CollectorService(Options.Create(collectorOptions),
            new CollectAnswerer(collectorOptions, NullLogger<CollectAnswerer>.Instance), NullLogger<CollectorService>.Instance);
        if (useCollector)
        {
            collector.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        using var store = new EmbeddedStore(Path.Combine(directory, "store"), 64, NullLogger<EmbeddedStore>.Instance);
        store.InitializeAsync().GetAwaiter().GetResult();
        var payloads = new PayloadDirectory(Path.Combine(directory, "store", "payloads"), compress: true);
        var fetcher = new PayloadFetcher([new EventContentPayloadSource(), new CollectedPayloadSource(), new SpoolPayloadSource(useCollector ? [] : [spool])],
            payloads, new PayloadOptions { UseCollector = useCollector, MaxAttempts = 3 }, NullLogger<PayloadFetcher>.Instance);
        var processor = new StoreJobProcessor(store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, TimeProvider.System,
            NullLogger<StoreJobProcessor>.Instance);
        var services = new ServiceCollection();
        services.AddSingleton<IJobProcessor>(processor);
        using var provider = services.BuildServiceProvider();
        using var worker = new JobWorker(new WorkerOptions
        {
            WorkerEndpoint = broker.WorkerEndpoint, ControllerEndpoint = broker.ControllerEndpoint, Concurrency = 1024, MaxBatch = 1024,
        }, provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
        using (var dealer = new DealerSocket())
        {
            dealer.Connect(broker.ClientEndpoint);
            foreach (var notification in notifications)
            {
                dealer.SendFrame(notification);
            }
            for (var i = 0; i < notifications.Count; i++)
            {
                if (!dealer.TryReceiveFrameString(TimeSpan.FromSeconds(30), out _))
                {
                    throw new InvalidOperationException("the broker did not acknowledge");
                }
            }
        }
        var query = new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageNew"), Limit = 1 };
        var stopwatch = Stopwatch.StartNew();
        worker.Start();
        long stored = 0;
        while (stored < notifications.Count)
        {
            if (stopwatch.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new InvalidOperationException($"only {stored} of {notifications.Count} deliveries stored in 10 minutes");
            }
            Thread.Sleep(50);
            stored = store.SearchEventsAsync(query).GetAwaiter().GetResult().Total;
        }
        var rate = notifications.Count / stopwatch.Elapsed.TotalSeconds;
        // Every delivery stored with its own message, not kept without it.
        var kept = Directory.EnumerateFiles(Path.Combine(directory, "store", "payloads"), "*", SearchOption.AllDirectories).Count();
        if (kept != notifications.Count)
        {
            throw new InvalidOperationException($"{kept} payloads kept for {notifications.Count} deliveries");
        }
        if (useCollector)
        {
            collector.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        return rate;
    }

    private sealed class Processor(Func<Job, JobOutcome> answer) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(answer(job));
    }
}
