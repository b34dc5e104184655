using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Worker;

// Cyrus names messages by SHA-1; the tests compute it to build what Cyrus would send.
#pragma warning disable CA5350

public sealed class PayloadTests : IDisposable
{
    private readonly string _spool = Path.Combine(Path.GetTempPath(), "bonnie-spool-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_spool))
        {
            Directory.Delete(_spool, recursive: true);
        }
    }

    private static readonly byte[] Message = Encoding.ASCII.GetBytes(
        "Return-Path: <sender@example.net>\r\nFrom: Probe Sender <sender@example.net>\r\nTo: alice@example.org\r\nSubject: lmtp one\r\n" +
        "Message-ID: <179595122889.12822.11728137019898957721@probe.example.org>\r\n\r\nThe quarterly figures are attached.\r\n");

    /// <summary>The real MessageNew, with the email id Cyrus would give these bytes (M + first 24 hex of the SHA-1).</summary>
    private static string DeliveryOf(byte[] bytes)
    {
        var guid = Convert.ToHexStringLower(SHA1.HashData(bytes))[..24];
        return Fixture.Edit(Fixture.Event("MessageNew"), ("M743974037cbef97becd11ce5", "M" + guid));
    }

    private void LayOutSpoolFile(string mailboxId, uint uid, byte[] bytes)
    {
        var path = CyrusSpool.PathFor(_spool, mailboxId, uid)!;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    [Fact]
    public void PathFor_CyrusLayout_UuidFanOutAndTrailingDot()
    {
        var path = CyrusSpool.PathFor("/var/spool/cyrus/mail", "sufr9a0wrxwpaaifzy6ge6cu", 7);

        Assert.Equal("/var/spool/cyrus/mail/uuid/s/u/sufr9a0wrxwpaaifzy6ge6cu/7.", path);
        Assert.Null(CyrusSpool.PathFor("/var/spool/cyrus/mail", "../../etc", 7));
    }

    [Fact]
    public async Task ProcessAsync_SpoolFilePresent_PayloadStoredByteExactAndSearchableByBody()
    {
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])]);
        var json = DeliveryOf(Message);

        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json));

        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.Stored, stored!.PayloadStatus);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Message)), stored.PayloadSha256);
        Assert.Equal(Message, await p.Payloads.GetAsync(stored.PayloadSha256!));
        var hits = await p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("quarterly figures") });
        Assert.Equal(stored.Id, Assert.Single(hits.Items).Id);
    }

    [Fact]
    public async Task ProcessAsync_BytesDoNotMatchGuid_KeptAndFlagged()
    {
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])]);
        var json = Fixture.Event("MessageNew");

        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json));

        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.DigestMismatch, stored!.PayloadStatus);
        Assert.NotNull(await p.Payloads.GetAsync(stored.PayloadSha256!));
    }

    [Fact]
    public async Task ProcessAsync_NoSourceHasIt_PostponedThenKeptMarkedMissing()
    {
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])], maxAttempts: 3);
        var json = Fixture.Event("MessageNew");

        var first = await p.RunAsync(json, attempt: 1);
        var second = await p.RunAsync(json, attempt: 2);
        var last = await p.RunAsync(json, attempt: 3);

        Assert.Contains("no spool file", Assert.IsType<JobOutcome.Postpone>(first).Reason, StringComparison.Ordinal);
        Assert.IsType<JobOutcome.Postpone>(second);
        Assert.IsType<JobOutcome.Done>(last);
        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.Missing, stored!.PayloadStatus);
        Assert.Null(stored.PayloadSha256);
    }

    [Fact]
    public async Task ProcessAsync_SourceKnowsTheMessageIsGone_KeptMarkedMissingAtOnceNotPostponed()
    {
        // A delivery expunged before it was fetched (drafts saved and replaced every few seconds): postponed five times
        // 30 s apart, it held up its mailbox's later events for minutes each (a review against the real Cyrus).
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool]), new GoneSource()], maxAttempts: 5);
        var json = Fixture.Event("MessageNew");

        var outcome = await p.RunAsync(json, attempt: 1);

        Assert.IsType<JobOutcome.Done>(outcome);
        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.Missing, stored!.PayloadStatus);
    }

    /// <summary>INBOX's UID 1 moved to Archive's UID 3 before the delivery's bytes were read (a client's rule).</summary>
    private static string MoveOfTheFirstToArchive() => Fixture.Edit(Fixture.Event("vnd.cmu.MessageMove"), ("\"vnd.cmu.oldUidset\":\"2\"", "\"vnd.cmu.oldUidset\":\"1\""),
        ("179595122895.12822.14042202990968850809", "179595122889.12822.11728137019898957721"));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ProcessAsync_DeliveryMovedBeforeItsBytesWereRead_BytesReadWhereTheMoveTookIt(bool sameBatch)
    {
        // Found by a live review: every message a client moved at once after its delivery was kept without its bytes,
        // though it was still in the mailbox (IMAP said UID 1 was gone from INBOX; nobody looked in Archive).
        await using var p = await TestPipeline.CreateAsync([new MovedAwaySource(("user/alice/Archive@example.org", 3u, Message))], maxAttempts: 5);
        var delivery = TestPipeline.JobFor(DeliveryOf(Message), attempt: 0);
        var move = TestPipeline.JobFor(MoveOfTheFirstToArchive(), attempt: 0) with { After = delivery.Id };

        if (sameBatch)
        {
            Assert.All(await p.Processor.ProcessBatchAsync([delivery, move]), o => Assert.IsType<JobOutcome.Done>(o));
        }
        else
        {
            Assert.IsType<JobOutcome.Done>(Assert.Single(await p.Processor.ProcessBatchAsync([delivery])));
            Assert.Equal(PayloadStatus.Missing, (await p.Store.FindMessageAtAsync("sufr9a0wrxwpaaifzy6ge6cu", 1))!.PayloadStatus);
            Assert.IsType<JobOutcome.Done>(Assert.Single(await p.Processor.ProcessBatchAsync([move with { After = null }])));
        }

        var message = await p.Store.FindMessageAtAsync("oe16bupldlr2b7ax2w5twkwq", 3);
        Assert.Equal(PayloadStatus.Stored, message!.PayloadStatus);
        Assert.Equal(Message, await p.Payloads.GetAsync(message.PayloadSha256!));
        // The delivery says what was true then; the move says it brought the bytes, and its body text is searchable.
        Assert.Equal(PayloadStatus.Missing, (await p.Store.GetEventAsync(delivery.Id))!.PayloadStatus);
        var moved = await p.Store.GetEventAsync(move.Id);
        Assert.Equal(PayloadStatus.Stored, moved!.PayloadStatus);
        Assert.Equal(message.PayloadSha256, moved.PayloadSha256);
        var found = await p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("quarterly") });
        Assert.Equal([move.Id], found.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task ProcessAsync_MoveOfAMessageWithItsBytes_ReadsNothingAgain()
    {
        var source = new MovedAwaySource(("user/alice@example.org", 1u, Message), ("user/alice/Archive@example.org", 3u, Message));
        await using var p = await TestPipeline.CreateAsync([source], maxAttempts: 5);

        await p.RunAsync(DeliveryOf(Message), attempt: 0);
        await p.RunAsync(MoveOfTheFirstToArchive(), attempt: 0);

        Assert.Equal(["user/alice@example.org/1"], source.Asked);
    }

    [Fact]
    public async Task FetchGroupAsync_OneFoldersDeliveries_TheManySourceAskedOnceForThoseTheOthersDidNotHave()
    {
        // IMAP reads a folder's messages over one session and one grant; the spool before it answers those it has.
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        var many = new ManySource(Message);
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool]), many], maxAttempts: 5);
        var events = Enumerable.Range(1, 3).Select(uid => NotificationParser.Parse(Encoding.UTF8.GetBytes(
            Fixture.Edit(DeliveryOf(Message), ("UID=1\"", $"UID={uid}\"")))).Event!).ToList();
        var fetcher = new PayloadFetcher([new SpoolPayloadSource([_spool]), many], p.Payloads, new PayloadOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<PayloadFetcher>.Instance);

        var results = await fetcher.FetchGroupAsync(events.ConvertAll(e => (e, TestPipeline.JobFor("{}"u8.ToArray(), attempt: 0))), CancellationToken.None);

        Assert.Equal(["spool", "many", "many"], results.Select(r => r.Source));
        Assert.All(results, r => Assert.Equal(PayloadStatus.Stored, r.Status));
        Assert.Equal([[2u, 3u]], many.Calls);
    }

    private sealed class ManySource(byte[] bytes) : IPayloadSource
    {
        public List<uint[]> Calls { get; } = [];

        public string Name => "many";

        public bool FetchesManyAtOnce => true;

        public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a folder's messages are asked for together");

        public Task<IReadOnlyList<PayloadAnswer>> TryFetchManyAsync(IReadOnlyList<CyrusEvent> events, CancellationToken cancellationToken)
        {
            Calls.Add(events.Select(e => e.Mailbox!.Uid!.Value).ToArray());
            return Task.FromResult<IReadOnlyList<PayloadAnswer>>(events.Select(_ => PayloadAnswer.Found(bytes)).ToList());
        }
    }

    /// <summary>Has the given messages where it is told; says any other UID below UIDNEXT is gone, as IMAP does.</summary>
    private sealed class MovedAwaySource(params (string Folder, uint Uid, byte[] Bytes)[] messages) : IPayloadSource
    {
        public List<string> Asked { get; } = [];

        public string Name => "imap-like";

        public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
        {
            Asked.Add($"{e.Mailbox?.Name}/{e.Mailbox?.Uid}");
            var found = messages.FirstOrDefault(m => m.Folder == e.Mailbox?.Name && m.Uid == e.Mailbox?.Uid);
            return Task.FromResult(found.Bytes is { } bytes ? PayloadAnswer.Found(bytes) : PayloadAnswer.NoLonger("moved or expunged before it could be fetched"));
        }
    }

    private sealed class GoneSource : IPayloadSource
    {
        public string Name => "gone";

        public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
            => Task.FromResult(PayloadAnswer.NoLonger("UID 1 is no longer in the folder: expunged before it could be fetched"));
    }

    [Fact]
    public async Task ProcessBatchAsync_DeliveryPostponedInARun_WhatFollowsItIsReleasedThenStoredAfterIt()
    {
        // A run of alice's mailbox: the delivery, then the flag set on it. The delivery's payload is not in the spool
        // yet, so it is postponed; storing the flag change now would record it before the message existed.
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])], maxAttempts: 3);
        var delivery = TestPipeline.JobFor(DeliveryOf(Message), attempt: 1);
        var flag = TestPipeline.JobFor(Fixture.Event("FlagsSet"), attempt: 0) with { After = delivery.Id };
        var otherMailbox = TestPipeline.JobFor(Fixture.Event("Login"), attempt: 0);
        var garbage = TestPipeline.JobFor("{\"not\": \"a notification\"}"u8.ToArray(), attempt: 0) with { After = flag.Id };

        var first = await p.Processor.ProcessBatchAsync([delivery, flag, otherMailbox, garbage]);

        Assert.IsType<JobOutcome.Postpone>(first[0]);
        Assert.IsType<JobOutcome.Released>(first[1]);
        Assert.IsType<JobOutcome.Done>(first[2]);
        // Released down the run, even a notification that would only have been quarantined.
        Assert.IsType<JobOutcome.Released>(first[3]);
        Assert.Null(await p.Store.GetEventAsync(flag.Id));
        Assert.NotNull(await p.Store.GetEventAsync(otherMailbox.Id));
        Assert.Empty((await p.Store.GetQuarantineAsync(10, null)).Items);
        Assert.Empty(await p.Store.FindProcessedJobsAsync([delivery.Id, flag.Id, garbage.Id]));

        // The broker hands the run out again once the delivery's retry is due; by then the spool has the message.
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        var second = await p.Processor.ProcessBatchAsync([delivery with { Attempt = 2 }, flag, garbage]);

        Assert.All(second, o => Assert.IsType<JobOutcome.Done>(o));
        var message = (await p.Store.GetEventAsync(delivery.Id))!.MessageKeys.Single();
        var history = (await p.Store.GetChangesAsync(ObjectKind.Message, message)).Select(Fixture.Describe).ToList();
        Assert.Contains(history, h => h.StartsWith("Flag \\Flagged", StringComparison.Ordinal));
        Assert.Equal(PayloadStatus.Stored, (await p.Store.GetEventAsync(delivery.Id))!.PayloadStatus);
        Assert.Single((await p.Store.GetQuarantineAsync(10, null)).Items);
    }

    [Theory]
    // The spool can be read by many at once, even in one folder; the IMAP source cannot (it may grant itself read
    // access to a folder and take it back), so a folder's fetches wait for each other.
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProcessBatchAsync_DeliveriesToSeveralFolders_FetchedAtOnceNeverTwiceInOneFolderWhereTheSourceForbidsIt(bool oneFetchPerFolder)
    {
        var source = new GatedSource(oneFetchPerFolder, gate: 4);
        await using var p = await TestPipeline.CreateAsync([source]);
        var jobs = (from user in FourUsers
                    from uid in Enumerable.Range(1, 3)
                    select TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MessageNew"),
                        ("user/alice%40example.org", $"user/{user}%40example.org"), (";UID=1", $";UID={uid}")))).ToList();

        var outcomes = await p.Processor.ProcessBatchAsync(jobs);

        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        Assert.Equal(12, source.Fetched);
        // Four fetches were in flight together (each waits, bounded, until four are): they ran at once.
        Assert.True(source.MaxInFlight >= 4, $"at most {source.MaxInFlight} fetches at once");
        if (oneFetchPerFolder)
        {
            Assert.Equal(1, source.MaxInFlightInOneFolder);
        }
        else
        {
            Assert.True(source.MaxInFlightInOneFolder > 1, "one folder's fetches never overlapped");
        }
        foreach (var job in jobs)
        {
            // Kept with its payload (these bytes are not what the email id names, so marked as a digest mismatch).
            Assert.NotNull((await p.Store.GetEventAsync(job.Id))!.PayloadSha256);
        }
    }

    private static readonly string[] FourUsers = ["anna", "bert", "carl", "dora"];

    /// <summary>
    /// Hands out a message for any delivery, but each fetch first waits (up to 5 s) until <c>gate</c> fetches are in
    /// flight, so that fetching one at a time shows as a maximum of 1 instead of passing by luck of timing.
    /// </summary>
    private sealed class GatedSource(bool oneFetchPerFolder, int gate) : IPayloadSource
    {
        private readonly Dictionary<string, int> _perFolder = [];
        private int _inFlight;
        private int _fetched;

        public string Name => "gated";
        public bool OneFetchPerFolder => oneFetchPerFolder;
        public int MaxInFlight { get; private set; }
        public int MaxInFlightInOneFolder { get; private set; }
        public int Fetched => _fetched;

        public async Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
        {
            var folder = e.Mailbox!.Name;
            lock (_perFolder)
            {
                _inFlight++;
                _perFolder[folder] = _perFolder.GetValueOrDefault(folder) + 1;
                MaxInFlight = Math.Max(MaxInFlight, _inFlight);
                MaxInFlightInOneFolder = Math.Max(MaxInFlightInOneFolder, _perFolder[folder]);
            }
            var until = DateTime.UtcNow.AddSeconds(5);
            while (Volatile.Read(ref _inFlight) < gate && DateTime.UtcNow < until && Volatile.Read(ref _fetched) == 0)
            {
                await Task.Delay(10, cancellationToken);
            }
            // Hold on a moment so fetches of one folder that may overlap do overlap.
            await Task.Delay(30, cancellationToken);
            lock (_perFolder)
            {
                _inFlight--;
                _perFolder[folder]--;
            }
            Interlocked.Increment(ref _fetched);
            return PayloadAnswer.Found(Encoding.ASCII.GetBytes($"Subject: {folder} {job.Id}\r\n\r\nbody\r\n"));
        }
    }

    [Fact]
    public void Validate_FetchConcurrencyOutOfRange_Refused()
    {
        var result = new ValidatePayloadOptions().Validate(null, new PayloadOptions { FetchConcurrency = 0 });

        Assert.Contains(result.Failures!, f => f.Contains("FetchConcurrency", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProcessAsync_SamePayloadInTwoMailboxes_StoredOnce()
    {
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        LayOutSpoolFile("oe16bupldlr2b7ax2w5twkwq", 1, Message);
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])]);
        var inbox = DeliveryOf(Message);
        var other = Fixture.Edit(inbox, ("sufr9a0wrxwpaaifzy6ge6cu", "oe16bupldlr2b7ax2w5twkwq"), ("user/alice%40example.org", "user/alice/Archive%40example.org"));

        await p.RunAllAsync(inbox, other);

        var files = Directory.GetFiles(p.Payloads.Root, "*", SearchOption.AllDirectories);
        Assert.Single(files);
        var key = "M" + Convert.ToHexStringLower(SHA1.HashData(Message))[..24];
        var message = await p.Store.GetMessageAsync(key);
        Assert.Equal(2, message!.Locations.Count);
    }

    [Fact]
    public async Task ProcessAsync_Cyrus25WithMessageContent_PayloadFromEvent()
    {
        await using var p = await TestPipeline.CreateAsync([new EventContentPayloadSource()]);
        var json = Fixture.Load("events-2.5/MessageNew.json");

        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json));

        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.Stored, stored!.PayloadStatus);
        var bytes = await p.Payloads.GetAsync(stored.PayloadSha256!);
        Assert.EndsWith("Please find the revised terms below.\r\n", Encoding.UTF8.GetString(bytes!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_FileTamperedWith_Refused()
    {
        await using var p = await TestPipeline.CreateAsync();
        var sha = await p.Payloads.PutAsync(Encoding.ASCII.GetBytes("short"));
        var file = Directory.GetFiles(p.Payloads.Root, sha + "*", SearchOption.AllDirectories).Single();
        await File.WriteAllTextAsync(file, "shorT");

        await Assert.ThrowsAsync<InvalidDataException>(() => p.Payloads.GetAsync(sha));
    }

    [Fact]
    public async Task PutAsync_CompressibleMessage_CompressedOnDiskExactOnRead()
    {
        await using var p = await TestPipeline.CreateAsync();
        var big = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("The same line again and again.\r\n", 500)));

        var sha = await p.Payloads.PutAsync(big);

        var file = Directory.GetFiles(p.Payloads.Root, sha + "*", SearchOption.AllDirectories).Single();
        Assert.EndsWith(".zst", file, StringComparison.Ordinal);
        Assert.True(new FileInfo(file).Length < big.Length / 10);
        Assert.Equal(big, await p.Payloads.GetAsync(sha));
    }

    [Fact]
    public void MatchesGuid_CyrusEmailId_ComparesSha1Prefix()
    {
        var guid = Convert.ToHexStringLower(SHA1.HashData(Message));

        Assert.True(PayloadFetcher.MatchesGuid(Message, "M" + guid[..24]));
        Assert.False(PayloadFetcher.MatchesGuid(Message, "M743974037cbef97becd11ce5"));
        Assert.True(PayloadFetcher.MatchesGuid(Message, null));
    }

    [Fact]
    public async Task ProcessAsync_DeliveryHandedOutAgainAfterItsCommit_StoredOnceWithoutFetchingAgain()
    {
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        var spool = new CountingSource(new SpoolPayloadSource([_spool]));
        await using var p = await TestPipeline.CreateAsync([spool]);
        var json = DeliveryOf(Message);

        // First hand-out, then the broker's again (the worker was lost after its commit, before DONE).
        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json, attempt: 0));
        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json, attempt: 1));

        Assert.Equal(1, spool.Fetches);
        var stored = await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id);
        Assert.Equal(PayloadStatus.Stored, stored!.PayloadStatus);
        var hits = await p.Store.SearchEventsAsync(new Bonnie.Shared.Search.EventSearch { Query = Bonnie.Shared.Search.QueryParser.Parse("event:MessageNew") });
        Assert.Equal(1, hits.Total);
    }

    [Fact]
    public async Task ProcessAsync_DeliveryPostponedThenHandedOutAgain_FetchedAgain()
    {
        var spool = new CountingSource(new SpoolPayloadSource([_spool]));
        await using var p = await TestPipeline.CreateAsync([spool], maxAttempts: 3);
        var json = DeliveryOf(Message);

        Assert.IsType<JobOutcome.Postpone>(await p.RunAsync(json, attempt: 0));
        LayOutSpoolFile("sufr9a0wrxwpaaifzy6ge6cu", 1, Message);
        Assert.IsType<JobOutcome.Done>(await p.RunAsync(json, attempt: 1));

        Assert.Equal(2, spool.Fetches);
        Assert.Equal(PayloadStatus.Stored, (await p.Store.GetEventAsync(TestPipeline.JobFor(json).Id))!.PayloadStatus);
    }

    [Fact]
    public async Task ProcessAsync_UseCollector_AskedOnceEvenOnTheLastAttempt_ThenPostponedOrKeptByItsAnswer()
    {
        await using var p = await TestPipeline.CreateAsync([new CollectedPayloadSource(), new SpoolPayloadSource([_spool])], maxAttempts: 2, useCollector: true);
        var json = DeliveryOf(Message);
        var job = TestPipeline.JobFor(json, attempt: 2);
        var refused = new CollectedItem("payload sufr9a0wrxwpaaifzy6ge6cu 1 user%2Falice%40example.org", ReadOnlyMemory<byte>.Empty, "no spool file for the message");

        // The last attempt, but the collector was never asked: ask it (a collect costs no attempt).
        var collect = Assert.IsType<JobOutcome.Collect>(await p.Processor.ProcessAsync(job));
        // Back with the collector's refusal, before the last attempt: postponed, not sent to the collector again.
        var early = await p.Processor.ProcessAsync(job with { Attempt = 0, Collected = [refused] });
        // Back with the refusal on the last attempt: kept without its message.
        var last = await p.Processor.ProcessAsync(job with { Collected = [refused] });

        Assert.Equal(["payload sufr9a0wrxwpaaifzy6ge6cu 1 user%2Falice%40example.org"], collect.Requests);
        Assert.IsType<JobOutcome.Postpone>(early);
        Assert.IsType<JobOutcome.Done>(last);
        Assert.Equal(PayloadStatus.Missing, (await p.Store.GetEventAsync(job.Id))!.PayloadStatus);
    }

    [Fact]
    public async Task ProcessAsync_UseCollectorWithoutImap_FolderMetadataReadByTheCollector_AnErrorChangesNothing()
    {
        await using var p = await TestPipeline.CreateAsync(useCollector: true);
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        var modseq = TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0);
        var later = TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:25:00.000Z")), attempt: 0);
        const string Request = "metadata user%2Falice%40example.org";

        var asked = Assert.IsType<JobOutcome.Collect>(await p.Processor.ProcessAsync(modseq));
        var read = await p.Processor.ProcessAsync(modseq with
        {
            Collected = [new CollectedItem(Request, Encoding.UTF8.GetBytes("""{"/shared/comment":"under legal hold"}"""), null)],
        });
        var refused = await p.Processor.ProcessAsync(later with { Collected = [new CollectedItem(Request, ReadOnlyMemory<byte>.Empty, "NO Mailbox does not exist")] });

        Assert.Equal([Request], asked.Requests);
        Assert.IsType<JobOutcome.Done>(read);
        Assert.IsType<JobOutcome.Done>(refused);
        var folder = await p.Store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu");
        Assert.Equal("under legal hold", folder!.Metadata["/shared/comment"]);
        var change = Assert.Single(await p.Store.GetChangesAsync(ObjectKind.Folder, folder.Id), c => c.Aspect == ChangeAspect.Metadata);
        Assert.Equal(("/shared/comment", null, "under legal hold", modseq.Id), (change.Key, change.From, change.To, change.EventId));
        Assert.NotNull(await p.Store.GetEventAsync(later.Id));
    }

    [Fact]
    public async Task ProcessBatchAsync_UseCollector_AnsweredModseqFollowedByAnotherOfItsFolder_AnswerUsedAndTheLaterOneAskedAbout()
    {
        await using var p = await TestPipeline.CreateAsync(useCollector: true);
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        const string Request = "metadata user%2Falice%40example.org";
        var answered = TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0) with
        {
            Collected = [new CollectedItem(Request, Encoding.UTF8.GetBytes("""{"/shared/comment":"under legal hold"}"""), null)],
        };
        // A busy folder: its next change came back behind the collected one, in the same run. The collector read before
        // it happened, so that answer cannot stand for it: it is asked about itself.
        var behind = TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:25:00.000Z")), attempt: 0) with { After = answered.Id };

        var outcomes = await p.Processor.ProcessBatchAsync([answered, behind]);
        var back = await p.Processor.ProcessAsync(behind with
        {
            After = null, Collected = [new CollectedItem(Request, Encoding.UTF8.GetBytes("""{"/shared/comment":"hold lifted"}"""), null)],
        });

        Assert.IsType<JobOutcome.Done>(outcomes[0]);
        Assert.Equal([Request], Assert.IsType<JobOutcome.Collect>(outcomes[1]).Requests);
        Assert.IsType<JobOutcome.Done>(back);
        var folder = await p.Store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu");
        Assert.Equal("hold lifted", folder!.Metadata["/shared/comment"]);
        var changes = (await p.Store.GetChangesAsync(ObjectKind.Folder, folder.Id)).Where(c => c.Aspect == ChangeAspect.Metadata).ToList();
        Assert.Equal([(null, "under legal hold", answered.Id), ("under legal hold", "hold lifted", behind.Id)],
            changes.Select(c => (c.From, c.To, c.EventId)));
    }

    /// <summary>
    /// The collector says when it read. Three MailboxModseq of one folder at 11:20:28, 11:25 and 11:30; the first was
    /// asked about. A read that began a minute or more after all three (a backlog) holds their changes: it goes with the
    /// last, and nobody is asked again. One that began within the minute after the last may have missed its change, so
    /// the last is asked about; one that began before the second covers only the first.
    /// </summary>
    [Theory]
    [InlineData("2026-12-01T09:00:00.0000000+00:00", 2, false)]
    [InlineData("2026-11-29T11:31:00.0000000+00:00", 2, false)]
    [InlineData("2026-11-29T11:30:30.0000000+00:00", 1, true)]
    [InlineData("2026-11-29T11:22:00.0000000+00:00", 0, true)]
    public async Task ProcessBatchAsync_UseCollector_ReadBeganAfterTheFoldersLaterEvents_GoesWithTheLastItCovers(string readAt, int recordedFor, bool lastAsked)
    {
        await using var p = await TestPipeline.CreateAsync(useCollector: true);
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        const string Request = "metadata user%2Falice%40example.org";
        var answer = $$"""{"/shared/comment":"under legal hold","/shared/vendor/cmu/cyrus-imapd/uniqueid":"sufr9a0wrxwpaaifzy6ge6cu","bonnie:read-at":"{{readAt}}"}""";
        var asked = TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0) with
        {
            Collected = [new CollectedItem(Request, Encoding.UTF8.GetBytes(answer), null)],
        };
        var second = TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:25:00.000Z")), attempt: 0) with { After = asked.Id };
        var third = TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:30:00.000Z")), attempt: 0) with { After = second.Id };
        Job[] jobs = [asked, second, third];

        var outcomes = await p.Processor.ProcessBatchAsync(jobs);

        Assert.Equal(lastAsked, outcomes[2] is JobOutcome.Collect);
        Assert.All(outcomes.Take(2), o => Assert.IsType<JobOutcome.Done>(o));
        var folder = await p.Store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu");
        // The read time is not an entry of the folder's.
        Assert.Equal(["/shared/comment"], folder!.Metadata.Keys);
        var change = Assert.Single(await p.Store.GetChangesAsync(ObjectKind.Folder, folder.Id), c => c.Aspect == ChangeAspect.Metadata);
        Assert.Equal(jobs[recordedFor].Id, change.EventId);
    }

    [Fact]
    public async Task ProcessBatchAsync_UseCollector_AnErrorAnswerCoversNoLaterEvent()
    {
        await using var p = await TestPipeline.CreateAsync(useCollector: true);
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        const string Request = "metadata user%2Falice%40example.org";
        var refused = TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0) with
        {
            Collected = [new CollectedItem(Request, ReadOnlyMemory<byte>.Empty, "ImapAdminException: Cyrus did not answer")],
        };
        var later = TestPipeline.JobFor(Fixture.Edit(Fixture.Event("MailboxModseq"), ("11:20:28.953Z", "11:25:00.000Z")), attempt: 0) with { After = refused.Id };

        var outcomes = await p.Processor.ProcessBatchAsync([refused, later]);

        Assert.IsType<JobOutcome.Done>(outcomes[0]);
        Assert.Equal([Request], Assert.IsType<JobOutcome.Collect>(outcomes[1]).Requests);
    }

    [Fact]
    public async Task ProcessBatchAsync_UseCollector_ARunOfDeliveriesGoesToTheCollectorTogether_WhatFollowsIsReleased()
    {
        await using var p = await TestPipeline.CreateAsync([new CollectedPayloadSource(), new SpoolPayloadSource([_spool])], maxAttempts: 3, useCollector: true);
        var first = TestPipeline.JobFor(DeliveryOf(Message), attempt: 0);
        var second = TestPipeline.JobFor(Fixture.Edit(DeliveryOf(Message), (";UID=1\"", ";UID=2\"")), attempt: 0) with { After = first.Id };
        var flag = TestPipeline.JobFor(Fixture.Event("FlagsSet"), attempt: 0) with { After = second.Id };

        var outcomes = await p.Processor.ProcessBatchAsync([first, second, flag]);

        // Neither delivery is stored now, so sending the second while the first is away keeps the mailbox's order;
        // the flag change is stored only after both, so it goes back.
        Assert.IsType<JobOutcome.Collect>(outcomes[0]);
        Assert.Contains("sufr9a0wrxwpaaifzy6ge6cu 2 ", Assert.IsType<JobOutcome.Collect>(outcomes[1]).Requests[0], StringComparison.Ordinal);
        Assert.IsType<JobOutcome.Released>(outcomes[2]);
        Assert.Null(await p.Store.GetEventAsync(flag.Id));
    }

    [Theory]
    [InlineData("sufr9a0wrxwpaaifzy6ge6cu", true)]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzz", false)]
    public async Task ProcessAsync_UseCollector_AnswerForTheFolderNowUnderTheName_RecordedOnlyWhenItIsTheEventsFolder(string readId, bool recorded)
    {
        await using var p = await TestPipeline.CreateAsync(useCollector: true);
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        const string Request = "metadata user%2Falice%40example.org";
        var answer = $$"""{"/shared/comment":"under legal hold","/shared/vendor/cmu/cyrus-imapd/uniqueid":"{{readId}}"}""";
        var modseq = TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0) with
        {
            Collected = [new CollectedItem(Request, Encoding.UTF8.GetBytes(answer), null)],
        };

        Assert.IsType<JobOutcome.Done>(await p.Processor.ProcessAsync(modseq));

        var folder = await p.Store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu");
        // The unique id tells which folder was read; it is not an entry of the folder's.
        Assert.Equal(recorded ? ["/shared/comment"] : [], folder!.Metadata.Keys);
    }

    [Theory]
    [InlineData("sufr9a0wrxwpaaifzy6ge6cu", true)]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzz", false)]
    public async Task ProcessAsync_OwnImapRead_FolderNowUnderTheNameIsAnother_NotRecordedForTheEvent(string readId, bool recorded)
    {
        await using var p = await TestPipeline.CreateAsync();
        await p.RunAllAsync(Fixture.Event("MailboxCreate"));
        var source = new FixedMetadata(new FolderMetadataRead(
            new Dictionary<string, SortedDictionary<string, string>> { ["user/alice@example.org"] = new() { ["/shared/comment"] = "under legal hold" } },
            [], new Dictionary<string, string> { ["user/alice@example.org"] = readId }));
        var processor = new StoreJobProcessor(p.Store, [new Bonnie.Pipeline.Worker.Handlers.FolderHandler()],
            new PayloadFetcher([], p.Payloads, new PayloadOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<PayloadFetcher>.Instance),
            TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<StoreJobProcessor>.Instance, metadata: source);

        Assert.IsType<JobOutcome.Done>(await processor.ProcessAsync(TestPipeline.JobFor(Fixture.Event("MailboxModseq"), attempt: 0)));

        Assert.Equal(recorded ? ["/shared/comment"] : [], (await p.Store.GetFolderAsync("sufr9a0wrxwpaaifzy6ge6cu"))!.Metadata.Keys);
    }

    private sealed class FixedMetadata(FolderMetadataRead read) : IFolderMetadataSource
    {
        public bool IsConfigured => true;

        public Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken) => Task.FromResult(read);
    }

    private sealed class CountingSource(IPayloadSource inner) : IPayloadSource
    {
        private int _fetches;

        public int Fetches => _fetches;

        public string Name => inner.Name;

        public bool OneFetchPerFolder => inner.OneFetchPerFolder;

        public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _fetches);
            return inner.TryFetchAsync(e, job, cancellationToken);
        }
    }

    [Fact]
    public async Task ProcessAsync_NonDeliveryEvent_NeverAsksForPayload()
    {
        await using var p = await TestPipeline.CreateAsync([new SpoolPayloadSource([_spool])], maxAttempts: 5);

        Assert.IsType<JobOutcome.Done>(await p.RunAsync(Fixture.Event("FlagsSet")));
        Assert.Equal(EventType.FlagsSet, (await p.Store.GetEventAsync(TestPipeline.JobFor(Fixture.Event("FlagsSet")).Id))!.Type);
    }
}
