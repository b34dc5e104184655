using Bonnie.Shared.Cyrus;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Broker;
using Bonnie.Pipeline.Storage;
using Bonnie.Pipeline.Tests.Broker;
using Bonnie.Pipeline.Tests.Worker;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Storage;

/// <summary>
/// A big batch is written while its handlers still run (<see cref="IStreamingStore"/>): what it stores must be exactly
/// what the same jobs store in small batches, a failure half-way must leave nothing of the stream behind, and lookups
/// must neither wait for the writer nor see what it has not committed.
/// </summary>
public sealed class BatchStreamTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 8, 0, 0, TimeSpan.Zero);
    // Alice's INBOX as the Cyrus spool holds it: the payloads come through the real spool source.
    private const string Inbox = "sufr9a0wrxwpaaifzy6ge6cu";
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "bonnie-stream-spool", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }
    // Only so that a deadlock (a lookup waiting for the writer the stream holds) fails instead of hanging the run.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Alice's mailbox over a day: deliveries, each flagged in a session that logged in from its own address, every
    /// fifth moved to Archive, every seventh read; more than two chunks' worth, so one batch of them is streamed.
    /// </summary>
    private List<Job> Workload(int messages)
    {
        var newMessage = Fixture.Event("MessageNew");
        var flags = Fixture.Event("FlagsSet");
        var move = Fixture.Event("vnd.cmu.MessageMove");
        var read = Fixture.Event("MessageRead");
        var login = Fixture.Event("Login");
        var jobs = new List<Job>();
        var at = T0;
        string Next() => (at = at.AddMilliseconds(1500)).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        string Stamp(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"timestamp\":\"[^\"]+\"", $"\"timestamp\":\"{Next()}\"");
        var session = "";
        for (var i = 0; i < messages; i++)
        {
            var uid = (i + 10).ToString(CultureInfo.InvariantCulture);
            var mid = $"<stream-{i}@example.net>";
            // The message itself, and its email id made from its SHA-1 as Cyrus makes it: the payload checks out.
            var body = Encoding.ASCII.GetBytes($"Message-ID: {mid}\r\nSubject: stream {i}\r\n\r\nbody of message {i}\r\n");
#pragma warning disable CA5350 // Cyrus' GUID is a SHA-1: it identifies the message, it protects nothing.
            var emailId = "M" + Convert.ToHexStringLower(SHA1.HashData(body))[..24];
#pragma warning restore CA5350
            var path = CyrusSpool.PathFor(_spool, Inbox, uint.Parse(uid, CultureInfo.InvariantCulture))!;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, body);
            if (i % 100 == 0)
            {
                session = $"cyrus-stream-{i}";
                jobs.Add(Job(Stamp(Fixture.Edit(login, ("cyrus-1795951187-11381-2-14971745235264492537", session), ("\"user\":\"cyrus\"", "\"user\":\"alice@example.org\""),
                    ("\"clientIP\":\"127.0.0.1\"", $"\"clientIP\":\"198.51.100.{i / 100}\"")))));
            }
            jobs.Add(Job(Stamp(Fixture.Edit(newMessage, ("UID=1\"", $"UID={uid}\""), ("<179595122889.12822.11728137019898957721@probe.example.org>", mid),
                ("M743974037cbef97becd11ce5", emailId)))));
            jobs.Add(Job(Stamp(Fixture.Edit(flags, ("\"uidset\":\"1\"", $"\"uidset\":\"{uid}\""), ("<179595122889.12822.11728137019898957721@probe.example.org>", mid),
                ("cyrus-1795951230-11919-1-18047406984012349348", session)))));
            if (i % 5 == 0)
            {
                jobs.Add(Job(Stamp(Fixture.Edit(move, ("\"vnd.cmu.oldUidset\":\"2\"", $"\"vnd.cmu.oldUidset\":\"{uid}\""), ("\"uidset\":\"3\"", $"\"uidset\":\"{uid}\""),
                    ("<179595122895.12822.14042202990968850809@probe.example.org>", mid), ("cyrus-1795951230-11919-1-18047406984012349348", session)))));
            }
            else if (i % 7 == 0)
            {
                jobs.Add(Job(Stamp(Fixture.Edit(read, ("\"uidset\":\"1\"", $"\"uidset\":\"{uid}\""), ("<179595122889.12822.11728137019898957721@probe.example.org>", mid)))));
            }
        }
        return jobs;
    }

    private Task<TestPipeline> PipelineAsync() => TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])]);

    private static Job Job(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return new Job(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, T0);
    }

    private static EventSearch Search(string q, int limit = 50)
        => new() { Query = QueryParser.Parse(q), Limit = limit, Facets = Facets.EventType | Facets.Folder };

    [Fact]
    public async Task ProcessBatchAsync_OneStreamedBatch_StoresExactlyWhatSmallBatchesStore()
    {
        var jobs = Workload(1100);
        Assert.True(jobs.Count > 2 * StoreJobProcessor.StreamChunk + 100, "the batch must be streamed in several chunks");
        await using var streamed = await PipelineAsync();
        await using var small = await PipelineAsync();

        var outcomes = await streamed.Processor.ProcessBatchAsync(jobs).WaitAsync(Patience);
        foreach (var chunk in jobs.Chunk(100))
        {
            Assert.All(await small.Processor.ProcessBatchAsync(chunk), o => Assert.IsType<JobOutcome.Done>(o));
        }

        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            var a = await streamed.Store.GetEventAsync(job.Id);
            var b = await small.Store.GetEventAsync(job.Id);
            Assert.NotNull(a);
            Assert.NotNull(b);
            Assert.Equal((b.Type, b.User, b.ClientIp, b.FolderId, string.Join(',', b.MessageKeys), string.Join(',', b.Flags), b.Timestamp),
                (a.Type, a.User, a.ClientIp, a.FolderId, string.Join(',', a.MessageKeys), string.Join(',', a.Flags), a.Timestamp));
            Assert.Equal(b.Raw.ToArray(), a.Raw.ToArray());
            // Each delivery's message, read from the spool, checked against its GUID and kept.
            Assert.Equal(b.PayloadSha256, a.PayloadSha256);
            if (a.Type == EventType.MessageNew)
            {
                Assert.Equal(PayloadStatus.Stored, a.PayloadStatus);
            }
            keys.UnionWith(a.MessageKeys);
        }
        Assert.Equal(1100, keys.Count);
        foreach (var key in keys)
        {
            var history = (await streamed.Store.GetChangesAsync(ObjectKind.Message, key)).Select(Fixture.Describe).ToList();
            Assert.NotEmpty(history);
            Assert.Equal((await small.Store.GetChangesAsync(ObjectKind.Message, key)).Select(Fixture.Describe), history);
            Assert.Equal(LocationsOf(await small.Store.GetMessageAsync(key)), LocationsOf(await streamed.Store.GetMessageAsync(key)));
        }
        foreach (var q in new[] { "event:MessageNew", "event:vnd.cmu.MessageMove folder:Archive", "ip:198.51.100.3", "flag:\\flagged", "messageid:stream-17@example.net", "\"lmtp one\"" })
        {
            var a = await streamed.Store.SearchEventsAsync(Search(q));
            var b = await small.Store.SearchEventsAsync(Search(q));
            Assert.True(a.Total > 0, q);
            Assert.Equal((b.Total, string.Join(',', b.Items.Select(e => e.Id))), (a.Total, string.Join(',', a.Items.Select(e => e.Id))));
            Assert.Equal(b.Facets["event"].Select(f => (f.Value, f.Count)), a.Facets["event"].Select(f => (f.Value, f.Count)));
        }
        Assert.Equal((await small.Store.GetSessionsForUserAsync("alice@example.org", 100)).Select(s => (s.Id, s.ClientIp)),
            (await streamed.Store.GetSessionsForUserAsync("alice@example.org", 100)).Select(s => (s.Id, s.ClientIp)));
    }

    [Fact]
    public async Task Backlog_DrainedThroughTheBrokerByAWorkerWithItsDefaults_EveryEventStoredOnceWithTheSameHistories()
    {
        // One mailbox's backlog: the broker hands it out in runs, the worker's default slots take it in big batches,
        // which are streamed. The reference is the same notifications in order, in batches of 100.
        var jobs = Workload(1100);
        await using var drained = await PipelineAsync();
        await using var reference = await PipelineAsync();
        using var harness = new BrokerHarness();
        foreach (var job in jobs)
        {
            Assert.Equal(Bonnie.Shared.Protocol.WireProtocol.Ack, harness.Submit(job.Notification.ToArray()));
        }

        harness.StartWorker(drained.Processor, concurrency: new WorkerOptions().Concurrency);
        await harness.WaitUntilAsync(s => s.Jobs[JobState.Done] == jobs.Count, TimeSpan.FromMinutes(3));
        foreach (var chunk in jobs.Chunk(100))
        {
            Assert.All(await reference.Processor.ProcessBatchAsync(chunk), o => Assert.IsType<JobOutcome.Done>(o));
        }

        Assert.Equal(jobs.Count, (await drained.Store.SearchEventsAsync(Search("user:alice@example.org", 1))).Total);
        foreach (var job in jobs.Where(j => j.Notification.Span.IndexOf("\"MessageNew\""u8) >= 0))
        {
            var key = Assert.Single((await drained.Store.GetEventAsync(job.Id))!.MessageKeys);
            Assert.Equal((await reference.Store.GetChangesAsync(ObjectKind.Message, key)).Select(Fixture.Describe),
                (await drained.Store.GetChangesAsync(ObjectKind.Message, key)).Select(Fixture.Describe));
        }
    }

    private static string LocationsOf(MessageObject? m)
        => System.Text.Json.JsonSerializer.Serialize(m?.Locations.Select(l => (l.FolderId, l.Uid, l.Since, l.Until, string.Join(',', l.Flags.Order(StringComparer.Ordinal)))).ToList());

    [Fact]
    public async Task ProcessBatchAsync_HandlerFailsLateInAStreamedBatch_ThatJobFailedTheRestStoredOnce()
    {
        await using var p = await PipelineAsync();
        var fetcher = new PayloadFetcher([], p.Payloads, new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        var processor = new StoreJobProcessor(p.Store, [new FolderHandler(), new MessageHandler(), new SessionHandler(), new BrokenDeleteHandler()], fetcher,
            p.Time, NullLogger<StoreJobProcessor>.Instance);
        var jobs = Workload(1100);
        // Past the second chunk: two chunks were already written into the stream when the handler fails.
        var broken = Job(Fixture.Event("MailboxDelete"));
        jobs.Insert(2 * StoreJobProcessor.StreamChunk + 50, broken);

        var outcomes = await processor.ProcessBatchAsync(jobs).WaitAsync(Patience);

        Assert.Contains("bug in a handler", Assert.IsType<JobOutcome.Fail>(outcomes[2 * StoreJobProcessor.StreamChunk + 50]).Reason, StringComparison.Ordinal);
        Assert.Equal(jobs.Count - 1, outcomes.Count(o => o is JobOutcome.Done));
        Assert.Null(await p.Store.GetEventAsync(broken.Id));
        Assert.Null(await p.Store.GetFolderAsync("half-way"));
        Assert.Equal(jobs.Count - 1, (await p.Store.SearchEventsAsync(Search("user:alice@example.org", 1))).Total);
        Assert.Equal(1100, (await p.Store.SearchEventsAsync(Search("event:MessageNew", 1))).Total);
        var failed = Assert.Single((await p.Store.GetQuarantineAsync(10, null)).Items);
        Assert.Equal(("failed", broken.Id), (failed.Stage, failed.JobId));
    }

    /// <summary>Cancels the batch (a worker stopping) when it reaches a given delivery, chunks having been written.</summary>
    private sealed class StopAtHandler(string uid, CancellationTokenSource stopping) : IEventHandler
    {
        public IReadOnlySet<EventType> EventTypes { get; } = new HashSet<EventType> { EventType.MessageNew };

        public Task HandleAsync(EventContext context, CancellationToken cancellationToken)
        {
            if (context.Event.Mailbox?.Uid?.ToString(CultureInfo.InvariantCulture) == uid)
            {
                stopping.Cancel();
            }
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task ProcessBatchAsync_CancelledAfterChunksWereWritten_NothingStaysAndTheBatchRunsAgainWhole()
    {
        await using var p = await PipelineAsync();
        using var stopping = new CancellationTokenSource();
        var fetcher = new PayloadFetcher([new SpoolPayloadSource([_spool])], p.Payloads, new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        var stopped = new StoreJobProcessor(p.Store, [new FolderHandler(), new MessageHandler(), new SessionHandler(), new StopAtHandler("1000", stopping)],
            fetcher, p.Time, NullLogger<StoreJobProcessor>.Instance);
        var jobs = Workload(1100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stopped.ProcessBatchAsync(jobs, stopping.Token).WaitAsync(Patience));

        Assert.Equal(0, (await p.Store.SearchEventsAsync(Search("user:alice@example.org", 1))).Total);
        Assert.Empty(await p.Store.FindProcessedJobsAsync(jobs.Select(j => j.Id).ToList()));
        Assert.All(await p.Processor.ProcessBatchAsync(jobs).WaitAsync(Patience), o => Assert.IsType<JobOutcome.Done>(o));
        Assert.Equal(jobs.Count, (await p.Store.SearchEventsAsync(Search("user:alice@example.org", 1))).Total);
    }

    [Fact]
    public async Task ProcessBatchAsync_StreamedBatchHoldsJobsStoredBefore_EachEventStoredOnce()
    {
        await using var p = await PipelineAsync();
        var jobs = Workload(1100);
        // A job of the third chunk stored by an earlier batch (another worker, or a retry after a lost DONE): the
        // stream meets its event id already taken, is undone, and the batch is worked out again without it.
        var before = jobs.GetRange(2 * StoreJobProcessor.StreamChunk + 10, 5);
        Assert.All(await p.Processor.ProcessBatchAsync(before), o => Assert.IsType<JobOutcome.Done>(o));

        var outcomes = await p.Processor.ProcessBatchAsync(jobs).WaitAsync(Patience);

        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        Assert.Equal(jobs.Count, (await p.Store.SearchEventsAsync(Search("user:alice@example.org", 1))).Total);
        Assert.Equal(1100, (await p.Store.SearchEventsAsync(Search("event:MessageNew", 1))).Total);
    }

    [Fact]
    public async Task BatchStream_DisposedWithoutCommit_NothingStaysAndTheWriterIsFree()
    {
        await using var p = await PipelineAsync();
        await using (var stream = await p.Store.BeginBatchAsync(CancellationToken.None))
        {
            await stream.WriteAsync([EmbeddedStoreWriterTests.Event("e1"), EmbeddedStoreWriterTests.Event("e2")], [], CancellationToken.None);
        }

        Assert.Null(await p.Store.GetEventAsync("e1"));
        Assert.Equal(0, (await p.Store.SearchEventsAsync(Search("user:alice@example.org"))).Total);
        var batch = new StoreBatch();
        batch.Events.Add(EmbeddedStoreWriterTests.Event("e3"));
        await p.Store.CommitAsync(batch).WaitAsync(Patience);
        Assert.Equal(["e3"], (await p.Store.SearchEventsAsync(Search("user:alice@example.org"))).Items.Select(e => e.Id));
    }

    [Fact]
    public async Task StoreDisposed_WhileABatchIsStreamed_WaitsForTheBatchToEnd()
    {
        await using var p = await TestPipeline.CreateAsync();
        var stream = await p.Store.BeginBatchAsync(CancellationToken.None);
        await stream.WriteAsync([EmbeddedStoreWriterTests.Event("e1")], [], CancellationToken.None);

        // A worker stopping past its grace: the host closes the store while the batch is still being written.
        var closing = Task.Run(p.Store.Dispose);
        await Task.Delay(500);
        Assert.False(closing.IsCompleted, "the store closed its connection under a batch being written");
        await stream.DisposeAsync();
        await closing.WaitAsync(Patience);
    }

    [Fact]
    public async Task BatchStream_WhileWriting_LookupsAnswerFromCommittedStateWithoutWaiting()
    {
        await using var p = await PipelineAsync();
        var committed = new StoreBatch();
        committed.Events.Add(EmbeddedStoreWriterTests.Event("e0"));
        committed.Messages["m0"] = Message("m0");
        await p.Store.CommitAsync(committed);

        await using var stream = await p.Store.BeginBatchAsync(CancellationToken.None);
        await stream.WriteAsync([EmbeddedStoreWriterTests.Event("e1")], [], CancellationToken.None);

        // The stream holds the writer: a lookup that waited for it would never answer here.
        Assert.NotNull(await p.Store.GetMessageAsync("m0").WaitAsync(Patience));
        Assert.Null(await p.Store.GetMessageAsync("m1").WaitAsync(Patience));
        Assert.Equal(1, (await p.Store.SearchEventsAsync(Search("user:alice@example.org"))).Total);

        var rest = new StoreBatch();
        rest.Messages["m1"] = Message("m1");
        await stream.CommitAsync(rest, CancellationToken.None);

        // The cache had m1 as absent; the commit taught it otherwise.
        Assert.NotNull(await p.Store.GetMessageAsync("m1"));
        Assert.Equal(2, (await p.Store.SearchEventsAsync(Search("user:alice@example.org"))).Total);
    }

    private static MessageObject Message(string key)
    {
        var m = new MessageObject { Key = key, FirstSeen = T0 };
        m.Locations.Add(new MessageLocation { FolderId = "f1", Uid = 1, Since = T0 });
        return m;
    }
}
