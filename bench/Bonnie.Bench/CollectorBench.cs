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
            using var metadataServer = new ScriptedMetadataServer();
            var ownSpool = DrainThroughStore(Path.Combine(directory, "own"), backlogSpool, notifications, useCollector: false, metadataServer);
            var collected = DrainThroughStore(Path.Combine(directory, "collected"), backlogSpool, notifications, useCollector: true, metadataServer);
            Console.WriteLine($"store processor, {backlog} deliveries to one mailbox, each with its MailboxModseq, through broker and worker:");
            Console.WriteLine($"  the worker reads the spool and METADATA itself (baseline): {ownSpool.Rate,10:N0} events/s, {ownSpool.Reads} METADATA reads");
            Console.WriteLine($"  both from the collector (UseCollector): {collected.Rate,10:N0} events/s, {collected.Reads} METADATA reads; ratio {collected.Rate / ownSpool.Rate:N3}");
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

    /// <summary>
    /// The real MessageNew, once per UID of alice's INBOX, each with its own message in a Cyrus-layout spool, and after
    /// each the MailboxModseq Cyrus sends with it (each dated a millisecond apart, so each is a job of its own).
    /// </summary>
    private static (List<string> Notifications, string Spool) OneMailboxBacklog(string directory, int count)
    {
        var spool = Path.Combine(directory, "spool");
        var events = Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events");
        var template = File.ReadAllText(Path.Combine(events, "MessageNew.json")).TrimEnd('\n');
        var modseq = File.ReadAllText(Path.Combine(events, "MailboxModseq.json")).TrimEnd('\n');
        var start = DateTimeOffset.Parse("2026-11-29T11:20:28.953Z", CultureInfo.InvariantCulture);
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
            notifications.Add(modseq.Replace("2026-11-29T11:20:28.953Z",
                start.AddMilliseconds(uid).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }
        return (notifications, spool);
    }

    /// <summary>
    /// Queues the backlog in a real broker, then times a real worker with the store processor draining it. The folder's
    /// METADATA is read from <paramref name="server"/>, by the worker itself or through the collector.
    /// </summary>
    private static (double Rate, int Reads) DrainThroughStore(string directory, string spool, List<string> notifications, bool useCollector,
        ScriptedMetadataServer server)
    {
        using var broker = new JobBroker(BrokerBench.Loopback(), Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, new BrokerMonitor());
        broker.Start();
        var readsBefore = server.Reads;
        var collectorOptions = new CollectorOptions
        {
            BrokerEndpoint = broker.CollectorEndpoint, SpoolPartitions = [spool], Concurrency = 8,
            Imap = new ImapOptions { Host = "127.0.0.1", Port = server.Port, Security = "None", AdminUser = "cyrus", AdminPassword = "bench" },
        };
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
        using var ownMetadata = new ImapFolderMetadataSource(useCollector
            ? new ImapPayloadOptions()
            : new ImapPayloadOptions { Host = "127.0.0.1", Port = server.Port, Security = "None", User = "cyrus", Password = "bench" });
        var processor = new StoreJobProcessor(store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, TimeProvider.System,
            NullLogger<StoreJobProcessor>.Instance, metadata: ownMetadata);
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
        var query = new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageNew OR event:MailboxModseq"), Limit = 1 };
        var stopwatch = Stopwatch.StartNew();
        worker.Start();
        long stored = 0;
        while (stored < notifications.Count)
        {
            if (stopwatch.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new InvalidOperationException($"only {stored} of {notifications.Count} events stored in 10 minutes");
            }
            Thread.Sleep(50);
            stored = store.SearchEventsAsync(query).GetAwaiter().GetResult().Total;
        }
        var rate = notifications.Count / stopwatch.Elapsed.TotalSeconds;
        // Every delivery stored with its own message, not kept without it.
        var kept = Directory.EnumerateFiles(Path.Combine(directory, "store", "payloads"), "*", SearchOption.AllDirectories).Count();
        if (kept != notifications.Count / 2)
        {
            throw new InvalidOperationException($"{kept} payloads kept for {notifications.Count / 2} deliveries");
        }
        if (useCollector)
        {
            collector.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        var folder = store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu").GetAwaiter().GetResult();
        if (folder?.Metadata.GetValueOrDefault("/shared/comment") != ScriptedMetadataServer.Comment)
        {
            throw new InvalidOperationException("the folder's METADATA was never recorded");
        }
        return (rate, server.Reads - readsBefore);
    }

    /// <summary>
    /// A stand-in for Cyrus's METADATA (there is no Cyrus in the bench): greets, takes any AUTHENTICATE, and answers
    /// every GETMETADATA at once with one comment and INBOX's unique id, the way Cyrus words it. Its answers cost next to
    /// nothing, so the figures show the round trips and what the pipeline does with the answers, not Cyrus's reading.
    /// </summary>
    private sealed class ScriptedMetadataServer : IDisposable
    {
        public const string Comment = "bench folder";
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private int _reads;

        public ScriptedMetadataServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;

        public int Reads => Volatile.Read(ref _reads);

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    _ = ServeAsync(await _listener.AcceptTcpClientAsync().ConfigureAwait(false));
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task ServeAsync(System.Net.Sockets.TcpClient client)
        {
            using (client)
            {
                try
                {
                    await using var stream = client.GetStream();
                    using var reader = new StreamReader(stream, Encoding.ASCII);
                    await stream.WriteAsync("* OK bench METADATA server\r\n"u8.ToArray()).ConfigureAwait(false);
                    while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                    {
                        var parts = line.Split(' ', 3);
                        var answer = parts.Length < 2 ? "* BAD\r\n" : parts[1].ToUpperInvariant() switch
                        {
                            "GETMETADATA" => Read(parts[0], line),
                            "LOGOUT" => $"* BYE\r\n{parts[0]} OK\r\n",
                            _ => $"{parts[0]} OK done\r\n",
                        };
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer)).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // The client went away.
                }
            }
        }

        private string Read(string tag, string line)
        {
            Interlocked.Increment(ref _reads);
            var name = line[line.IndexOf('"', StringComparison.Ordinal)..(line.LastIndexOf('"') + 1)];
            return $"* METADATA {name} (/shared/comment \"{Comment}\" /shared/vendor/cmu/cyrus-imapd/uniqueid \"sufr9a0wrxwpaaifzy6ge6cu\")\r\n{tag} OK done\r\n";
        }

        public void Dispose() => _listener.Stop();
    }

    private sealed class Processor(Func<Job, JobOutcome> answer) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(answer(job));
    }
}
