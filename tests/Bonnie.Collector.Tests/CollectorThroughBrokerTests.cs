using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Protocol;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bonnie.Collector.Tests;

/// <summary>The whole collect loop with real sockets: worker → COLLECT → broker → collector → spool → worker.</summary>
public sealed class CollectorThroughBrokerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bonnie-collector-").FullName;

    [Fact]
    public async Task Collect_PayloadInTheSpool_WorkerGetsTheExactBytes()
    {
        var spool = Path.Combine(_directory, "spool");
        var message = "Return-Path: <sender@example.net>\r\nSubject: lmtp one\r\n\r\nbody \u00e9\r\n"u8.ToArray();
        await LayOutAsync(spool, message);
        var got = new TaskCompletionSource<Job>(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = CollectRequest.ForPayload("sufr9a0wrxwpaaifzy6ge6cu", 1, "user/alice@example.org").ToString();
        var processor = new Processor(job =>
        {
            if (job.Collected.Count == 0)
            {
                return new JobOutcome.Collect([request]);
            }
            got.TrySetResult(job);
            return JobOutcome.Success;
        });
        await using var loop = await Loop.StartAsync(_directory, spool, processor);

        loop.Submit("""{"event":"MessageNew","uri":"imap://imap.example.org/user/alice%40example.org;UIDVALIDITY=1/;UID=1","mailboxID":"sufr9a0wrxwpaaifzy6ge6cu"}""");

        var job = await got.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var item = Assert.Single(job.Collected);
        Assert.Null(item.Error);
        Assert.Equal(request, item.Request);
        Assert.Equal(message, item.Data.ToArray());
        Assert.Equal(1, loop.Collector.Served);
    }

    /// <summary>
    /// A worker that is not on the IMAP host (no spool, no IMAP) with <c>UseCollector</c>: the real processor sends the
    /// delivery to the collector, and stores the event with the message the collector read from the spool there.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task StoreProcessor_WorkerWithoutSpool_PayloadFromTheCollectorOnlyWhenAskedTo(bool useCollector)
    {
        var spool = Path.Combine(_directory, "spool");
        var message = "Return-Path: <sender@example.net>\r\nFrom: sender@example.net\r\nTo: alice@example.org\r\nSubject: collected\r\n\r\nThe collector read this.\r\n"u8.ToArray();
        await LayOutAsync(spool, message);
        // The real notification, with the email id Cyrus gives these bytes (M + the first 24 hex digits of their SHA-1).
#pragma warning disable CA5350 // Cyrus names messages by SHA-1; the test reproduces that name.
        var notification = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "MessageNew.json")).TrimEnd('\n')
            .Replace("M743974037cbef97becd11ce5", "M" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(message))[..24], StringComparison.Ordinal);
#pragma warning restore CA5350
        var jobId = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(notification)));
        await using var store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        await store.InitializeAsync();
        var payloads = new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true);
        // Two attempts: without the collector, the first postpones and the second keeps the event without its message.
        var options = new PayloadOptions { UseCollector = useCollector, MaxAttempts = 1, RetryAfter = TimeSpan.FromMilliseconds(50) };
        var fetcher = new PayloadFetcher([new EventContentPayloadSource(), new CollectedPayloadSource(), new SpoolPayloadSource([])],
            payloads, options, NullLogger<PayloadFetcher>.Instance);
        var processor = new StoreJobProcessor(store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, TimeProvider.System,
            NullLogger<StoreJobProcessor>.Instance);
        await using var loop = await Loop.StartAsync(_directory, spool, processor);

        loop.Submit(notification);

        StoredEvent? stored = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(20); stored is null && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            stored = await store.GetEventAsync(jobId);
        }
        Assert.NotNull(stored);
        if (useCollector)
        {
            Assert.Equal(PayloadStatus.Stored, stored.PayloadStatus);
            Assert.Equal(message, await payloads.GetAsync(stored.PayloadSha256!));
            // At least once: a broker that lost the collector's heartbeat hands the request out again, by design.
            Assert.True(loop.Collector.Served >= 1);
        }
        else
        {
            Assert.Equal(PayloadStatus.Missing, stored.PayloadStatus);
            Assert.Equal(0, loop.Collector.Served);
        }
    }

    /// <summary>
    /// A backlog of one mailbox whose messages only the collector has: deliveries one after another in alice's INBOX,
    /// all queued before the worker starts, so the broker hands them out as one run. The worker sends the whole run to
    /// the collector at once (not one delivery per round trip), and each is stored with its own message.
    /// </summary>
    [Fact]
    public async Task StoreProcessor_BacklogOfOneMailbox_EveryDeliveryStoredWithItsOwnMessage()
    {
        const int Count = 6;
        var spool = Path.Combine(_directory, "spool");
        var notifications = new List<(string Json, byte[] Message)>();
        for (uint uid = 1; uid <= Count; uid++)
        {
            var message = Encoding.ASCII.GetBytes($"From: sender@example.net\r\nTo: alice@example.org\r\nSubject: backlog {uid}\r\n\r\nmessage {uid}\r\n");
            await LayOutAsync(spool, message, uid);
#pragma warning disable CA5350 // Cyrus names messages by SHA-1; the test reproduces that name.
            var emailId = "M" + Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(message))[..24];
#pragma warning restore CA5350
            var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", "MessageNew.json")).TrimEnd('\n')
                .Replace("M743974037cbef97becd11ce5", emailId, StringComparison.Ordinal)
                .Replace(";UID=1\"", $";UID={uid}\"", StringComparison.Ordinal);
            notifications.Add((json, message));
        }
        await using var store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        await store.InitializeAsync();
        var payloads = new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true);
        var fetcher = new PayloadFetcher([new EventContentPayloadSource(), new CollectedPayloadSource(), new SpoolPayloadSource([])],
            payloads, new PayloadOptions { UseCollector = true, MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        var processor = new CollectCounting(new StoreJobProcessor(store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher,
            TimeProvider.System, NullLogger<StoreJobProcessor>.Instance));
        await using var loop = await Loop.StartAsync(_directory, spool, processor, startWorker: false);

        foreach (var (json, _) in notifications)
        {
            loop.Submit(json);
        }
        loop.StartWorker();

        var ids = notifications.Select(n => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(n.Json)))).ToList();
        var stored = new StoredEvent?[Count];
        for (var deadline = DateTime.UtcNow.AddSeconds(30); stored.Any(e => e is null) && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            for (var i = 0; i < Count; i++)
            {
                stored[i] ??= await store.GetEventAsync(ids[i]);
            }
        }
        for (var i = 0; i < Count; i++)
        {
            Assert.True(stored[i] is not null, $"delivery {i + 1} was not stored within 30 s");
            Assert.Equal(PayloadStatus.Stored, stored[i]!.PayloadStatus);
            Assert.Equal(notifications[i].Message, await payloads.GetAsync(stored[i]!.PayloadSha256!));
        }
        // Several deliveries of the run went in one round (how the worker cut its batches varies: 6, or 1 and 5); one
        // at a time, as before, is at most 1.
        Assert.True(processor.MostCollectsInOneBatch >= 2, $"at most {processor.MostCollectsInOneBatch} delivery sent to the collector per batch");
    }

    /// <summary>The store processor, counting how many jobs of one batch it sent to the collector.</summary>
    private sealed class CollectCounting(StoreJobProcessor inner) : IBatchJobProcessor
    {
        public int MostCollectsInOneBatch { get; private set; }

        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => inner.ProcessAsync(job, cancellationToken);

        public async Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
        {
            var outcomes = await inner.ProcessBatchAsync(jobs, cancellationToken);
            MostCollectsInOneBatch = Math.Max(MostCollectsInOneBatch, outcomes.Count(o => o is JobOutcome.Collect));
            return outcomes;
        }
    }

    private static async Task LayOutAsync(string spool, byte[] message, uint uid = 1)
    {
        var file = CyrusSpool.PathFor(spool, "sufr9a0wrxwpaaifzy6ge6cu", uid)!;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, message);
    }

    /// <summary>A real broker, a collector reading <c>spool</c> and one worker running <c>processor</c>, on loopback sockets.</summary>
    private sealed class Loop : IAsyncDisposable
    {
        private readonly JobBroker _broker;
        private readonly ServiceProvider _provider;
        private readonly JobWorker _worker;

        private Loop(JobBroker broker, CollectorService collector, ServiceProvider provider, JobWorker worker)
        {
            _broker = broker;
            Collector = collector;
            _provider = provider;
            _worker = worker;
        }

        public CollectorService Collector { get; }

        public static async Task<Loop> StartAsync(string directory, string spool, IJobProcessor processor, bool startWorker = true)
        {
            var broker = new JobBroker(new BrokerOptions
            {
                ClientEndpoint = "tcp://127.0.0.1:0", WorkerEndpoint = "tcp://127.0.0.1:0",
                ControllerEndpoint = "tcp://127.0.0.1:0", CollectorEndpoint = "tcp://127.0.0.1:0",
                HeartbeatInterval = TimeSpan.FromMilliseconds(100),
                // Two seconds of silence before the collector counts as lost: on a loaded machine a shorter window makes
                // the broker give its request to the collector again (at least once, by design), which the tests count.
                HeartbeatLiveness = 20,
            }, Path.Combine(directory, "queue"), TimeProvider.System, NullLogger<JobBroker>.Instance, new BrokerMonitor());
            broker.Start();
            var options = new CollectorOptions
            {
                BrokerEndpoint = broker.CollectorEndpoint,
                SpoolPartitions = [spool],
                HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            };
            var collector = new CollectorService(Options.Create(options), new CollectAnswerer(options, NullLogger<CollectAnswerer>.Instance),
                NullLogger<CollectorService>.Instance);
            await collector.StartAsync(CancellationToken.None);
            var services = new ServiceCollection();
            services.AddSingleton(processor);
            var provider = services.BuildServiceProvider();
            var worker = new JobWorker(new WorkerOptions
            {
                WorkerEndpoint = broker.WorkerEndpoint, ControllerEndpoint = broker.ControllerEndpoint,
                HeartbeatInterval = TimeSpan.FromMilliseconds(100),
            }, provider.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, NullLogger<JobWorker>.Instance);
            var loop = new Loop(broker, collector, provider, worker);
            if (startWorker)
            {
                loop.StartWorker();
            }
            return loop;
        }

        public void StartWorker() => _worker.Start();

        public void Submit(string notification)
        {
            using var dealer = new NetMQ.Sockets.DealerSocket();
            dealer.Connect(_broker.ClientEndpoint);
            NetMQ.OutgoingSocketExtensions.SendFrame(dealer, notification);
            Assert.True(NetMQ.ReceivingSocketExtensions.TryReceiveFrameString(dealer, TimeSpan.FromSeconds(10), out var ack));
            Assert.Equal(WireProtocol.Ack, ack);
        }

        public async ValueTask DisposeAsync()
        {
            _worker.Dispose();
            await Collector.StopAsync(CancellationToken.None);
            Collector.Dispose();
            await _provider.DisposeAsync();
            _broker.Dispose();
        }
    }

    [Fact]
    public async Task Answer_NoSpoolFileAndNoImap_ErrorSaysSo()
    {
        var options = new CollectorOptions { SpoolPartitions = [Path.Combine(_directory, "empty")] };
        var answerer = new CollectAnswerer(options, NullLogger<CollectAnswerer>.Instance);

        var answer = await answerer.AnswerAsync(CollectRequest.ForPayload("abcdef", 9, "user/bob@example.org").ToString(), CancellationToken.None);

        Assert.Empty(answer.Data);
        Assert.Contains("no spool file", answer.Error);
        Assert.Contains("IMAP is not configured", answer.Error);
    }

    [Fact]
    public void Options_NothingToAnswerFrom_EveryErrorReported()
    {
        var result = new ValidateCollectorOptions().Validate(null, new CollectorOptions
        {
            BrokerEndpoint = "localhost:5569",
            SpoolPartitions = [],
            Imap = new ImapOptions { Security = "Maybe" },
        });

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class Processor(Func<Job, JobOutcome> answer) : IJobProcessor
    {
        public Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default) => Task.FromResult(answer(job));
    }
}
