using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using Bonnie.Shared.Protocol;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Worker;

/// <summary>
/// The worker's real processor: parse the notification (unreadable: quarantine, done), fetch the payload of a
/// delivery or append (unavailable: postpone, bounded, then keep the event marked "payload missing"), run the
/// handlers through one unit of work, and commit the events, objects and change records in one transaction.
/// Idempotent by job id: a job processed twice stores nothing twice.
/// </summary>
internal sealed partial class StoreJobProcessor(
    IBonnieStore store,
    IEnumerable<IEventHandler> handlers,
    PayloadFetcher payloads,
    TimeProvider time,
    ILogger<StoreJobProcessor> logger,
    IIdentityEnricher? identity = null,
    IFolderMetadataSource? metadata = null) : IBatchJobProcessor
{
    private const int ConflictRetries = 5;

    // Events handed to a streaming store at a time: small enough that the writer starts early and the last chunk's
    // write after the handlers end is short. Batches under two chunks are committed whole: too little to overlap.
    internal const int StreamChunk = 1024;
    private readonly IEventHandler[] _handlers = handlers.ToArray();

    public async Task<JobOutcome> ProcessAsync(Job job, CancellationToken cancellationToken = default)
        => (await ProcessBatchAsync([job], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Processes many jobs in one store transaction (what makes ingest fast). Outcomes are in the jobs' order.
    /// Jobs must be in the order the broker gave them: within a batch, later events see earlier events' changes.
    /// </summary>
    public async Task<IReadOnlyList<JobOutcome>> ProcessBatchAsync(IReadOnlyList<Job> jobs, CancellationToken cancellationToken = default)
    {
        var outcomes = new JobOutcome?[jobs.Count];
        var work = new List<Item>(jobs.Count);
        var quarantine = new List<QuarantineItem>();
        // Jobs already stored are found by the commit (the event id is unique) and then left out: no lookup per job.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // Parsing and hashing each notification depend on nothing else: done on every core, then used in order.
        var parsedAll = new ParseResult[jobs.Count];
        var hashes = new string[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = jobs.Count < 64 ? 1 : Environment.ProcessorCount, CancellationToken = cancellationToken },
            i =>
            {
                parsedAll[i] = NotificationParser.Parse(jobs[i].Notification);
                hashes[i] = Convert.ToHexStringLower(SHA256.HashData(jobs[i].Notification.Span));
            });
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (!seen.Add(job.Id))
            {
                outcomes[i] = JobOutcome.Success;
                continue;
            }
            var parsed = parsedAll[i];
            if (parsed.Event is null)
            {
                LogQuarantined(logger, job.Id, parsed.Failure);
                quarantine.Add(Quarantine(job, QuarantineStages.Parse, $"{parsed.Failure}: {parsed.Reason}"));
                outcomes[i] = JobOutcome.Success;
                continue;
            }
            work.Add(new Item(i, job, parsed.Event, hashes[i]));
        }

        await LeaveOutStoredRetriesAsync(work, outcomes, cancellationToken).ConfigureAwait(false);
        await FetchPayloadsAsync(work, cancellationToken).ConfigureAwait(false);
        await FollowMovedMessagesAsync(work, cancellationToken).ConfigureAwait(false);
        foreach (var item in work)
        {
            if (item.Payload is not { Status: PayloadStatus.Missing })
            {
                continue;
            }
            if (payloads.CollectFor(item.Event, item.Job) is { } request)
            {
                // The collector on the IMAP host reads the spool there; the job comes back with its answer. Even for a
                // message IMAP says is gone: with delayed expunge its spool file stays until cyr_expire.
                outcomes[item.Index] = new JobOutcome.Collect([request.ToString()]);
            }
            else if (!item.Payload.Gone && !payloads.IsLastAttempt(item.Job))
            {
                outcomes[item.Index] = new JobOutcome.Postpone($"payload not available yet: {item.Payload.Reason}", payloads.RetryAfter);
            }
        }
        MetadataFromTheCollector(work, outcomes);
        ReleaseBehindNotStored(jobs, outcomes, quarantine);
        work.RemoveAll(w => outcomes[w.Index] is not null);
        // After the postponed and released jobs left: a folder is read only for a MailboxModseq this batch stores.
        await ReadMetadataAsync(work, cancellationToken).ConfigureAwait(false);
        await EnrichAsync(work, cancellationToken).ConfigureAwait(false);

        await CommitWithRetriesAsync(jobs, work, quarantine, outcomes, cancellationToken).ConfigureAwait(false);
        return outcomes.Select(o => o ?? JobOutcome.Success).ToArray();
    }

    /// <summary>
    /// A delivery handed out again (its worker was lost or missed its deadline, perhaps after its commit) may be stored
    /// already. The commit would leave it out anyway, but only after its payload was fetched again: over IMAP a login,
    /// a read and an fsynced write for nothing, for every delivery of a lost worker's batch. One indexed look-up per such
    /// job instead. A job handed out for the first time (attempt 0) is not looked up, so a backlog costs nothing more.
    /// </summary>
    private async Task LeaveOutStoredRetriesAsync(List<Item> work, JobOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        var retried = work.Where(w => w.Job.Attempt > 0 && w.Event.Type is EventType.MessageNew or EventType.MessageAppend)
            .Select(w => w.Job.Id).ToList();
        if (retried.Count == 0)
        {
            return;
        }
        var stored = await store.FindProcessedJobsAsync(retried, cancellationToken).ConfigureAwait(false);
        foreach (var w in work.Where(w => stored.Contains(w.Job.Id)))
        {
            outcomes[w.Index] = JobOutcome.Success;
        }
        work.RemoveAll(w => stored.Contains(w.Job.Id));
    }

    /// <summary>
    /// The payloads of the batch's deliveries and appends, several at once: each is a read (spool, IMAP) and a durable
    /// write (fsynced) that would otherwise wait one after another. One folder's fetches stay in order, one at a time,
    /// where a source needs that (<see cref="PayloadFetcher.OneFetchPerFolder"/>). The fetches run on threads of their
    /// own: a payload's write blocks in fsync, and blocking the thread pool's few threads (two on a 2-core machine)
    /// would also hold up the web host's requests while a backlog is ingested. A fetch that never awaits (the spool,
    /// the event's own content, the collector's answer) stays on its thread to the end; an IMAP fetch awaits the network
    /// and finishes, write included, on the pool.
    /// </summary>
    private async Task FetchPayloadsAsync(List<Item> work, CancellationToken cancellationToken)
    {
        var perFolder = payloads.OneFetchPerFolder;
        var groups = new System.Collections.Concurrent.ConcurrentQueue<List<Item>>(
            work.Where(w => w.Event.Type is EventType.MessageNew or EventType.MessageAppend)
                .GroupBy(w => perFolder ? w.Event.Mailbox?.Name ?? w.Job.Id : w.Job.Id, StringComparer.Ordinal)
                .Select(g => g.ToList()));
        async Task FetchGroupsAsync()
        {
            while (groups.TryDequeue(out var group))
            {
                // One folder's deliveries together: IMAP reads them over one session and one grant.
                var results = await payloads.FetchGroupAsync(group.ConvertAll(i => (i.Event, i.Job)), cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < group.Count; i++)
                {
                    group[i].Payload = results[i];
                }
            }
        }
        if (groups.Count <= 1)
        {
            await FetchGroupsAsync().ConfigureAwait(false);
            return;
        }
        var fetchers = Enumerable.Range(0, Math.Min(payloads.Concurrency, groups.Count))
            .Select(_ => Task.Factory.StartNew(() => FetchGroupsAsync().GetAwaiter().GetResult(), cancellationToken,
                TaskCreationOptions.LongRunning, TaskScheduler.Default))
            .ToList();
        await Task.WhenAll(fetchers).ConfigureAwait(false);
    }

    private static readonly IReadOnlyDictionary<uint, MovedPayload> NoMovedPayloads = System.Collections.ObjectModel.ReadOnlyDictionary<uint, MovedPayload>.Empty;

    // A move or copy of more messages than this is not followed for their bytes.
    internal const int MaxMessagesFollowed = 1_000;

    // Past this many messages, a move or copy looks up only the deliveries of its own batch found gone, not the store:
    // each store look-up is a read (on Elasticsearch a request), and nearly every moved message has its bytes.
    internal const int MaxMessagesLookedUp = 100;

    /// <summary>
    /// A message moved right after its delivery (a client's rule, an "archive" swipe) was gone from where the delivery
    /// said it was before its bytes could be read, and stayed without them although it was still in the mailbox: a
    /// live review found every message so moved kept as payload missing. A move or copy of such a message, later in
    /// this batch or in a later one (the message is then stored as missing), has its bytes read where it went. They
    /// go with that event (its payload fields, its body text) and onto the message, so the message's history says
    /// when and where they were obtained. Only when a payload source is configured; a move of messages that have
    /// their bytes costs a look-up or two and no fetch.
    /// </summary>
    private async Task FollowMovedMessagesAsync(List<Item> work, CancellationToken cancellationToken)
    {
        if (!payloads.HasSource)
        {
            return;
        }
        // Where a delivery of this batch was found gone, with its email id (checked against what is read elsewhere).
        var gone = new Dictionary<(string Folder, uint Uid), string?>();
        foreach (var item in work)
        {
            var e = item.Event;
            if (e.Type is EventType.MessageNew or EventType.MessageAppend)
            {
                if (item.Payload is { Gone: true } && e.Mailbox is { Uid: { } uid } at)
                {
                    gone[(at.Name, uid)] = e.EmailId;
                }
                continue;
            }
            if (e.Type is not (EventType.MessageMove or EventType.MessageCopy) || e.OldMailbox is not { } from || e.Mailbox is not { } to
                || e.OldUidSet is not { } oldSet || e.UidSet is not { } newSet)
            {
                continue;
            }
            var oldUids = oldSet.Uids.Take(MaxMessagesFollowed + 1).ToList();
            var newUids = newSet.Uids.Take(MaxMessagesFollowed + 1).ToList();
            if (oldUids.Count != newUids.Count || oldUids.Count > MaxMessagesFollowed)
            {
                continue;
            }
            // The source folder's id, asked once per event and only when a message is to be looked up.
            string? sourceId = null;
            var sourceAsked = false;
            for (var i = 0; i < oldUids.Count; i++)
            {
                string? emailId;
                if (gone.Remove((from.Name, oldUids[i]), out var goneEmailId))
                {
                    emailId = goneEmailId;
                }
                else if (oldUids.Count <= MaxMessagesLookedUp)
                {
                    if (!sourceAsked)
                    {
                        sourceId = e.OldMailboxId ?? (await store.FindFolderByNameAsync(from.Name, cancellationToken).ConfigureAwait(false))?.Id;
                        sourceAsked = true;
                    }
                    if (sourceId is null
                        || await store.FindMessageAtAsync(sourceId, oldUids[i], cancellationToken).ConfigureAwait(false) is not { PayloadStatus: PayloadStatus.Missing } stored)
                    {
                        continue;
                    }
                    emailId = stored.EmailId;
                }
                else
                {
                    continue;
                }
                var there = e with { Mailbox = to with { Uid = newUids[i] }, UidSet = null, EmailId = emailId };
                var result = await payloads.FetchAsync(there, item.Job, cancellationToken).ConfigureAwait(false);
                if (result.Sha256 is not null)
                {
                    (item.MovedPayloads ??= [])[newUids[i]] = result;
                }
                else if (result.Gone)
                {
                    // Moved on again: a later move out of there, in this batch, looks where that one went.
                    gone[(to.Name, newUids[i])] = emailId;
                }
            }
        }
    }

    /// <summary>
    /// Cyrus sends no event of its own when a folder's METADATA is set; it reports the folder's changed modseq
    /// (MailboxModseq, also after deliveries and flag changes). So the batch's folders with such an event are read once
    /// each, over one login, and what was read goes with the folder's last MailboxModseq in the batch, the event nearest
    /// the moment of reading; the handler records what differs from what Bonnie had. A server that cannot be read
    /// costs the reading, not the events: they are stored, and the folder's next MailboxModseq reads it again.
    /// </summary>
    private async Task ReadMetadataAsync(List<Item> work, CancellationToken cancellationToken)
    {
        if (metadata is not { IsConfigured: true })
        {
            return;
        }
        var last = new Dictionary<string, Item>(StringComparer.Ordinal);
        foreach (var item in work)
        {
            if (item.Event.Type == EventType.MailboxModseq && item.Event.Mailbox?.Name is { Length: > 0 } name)
            {
                last[name] = item;
            }
        }
        if (last.Count == 0)
        {
            return;
        }
        try
        {
            var read = await metadata.ReadAsync(last.Keys, cancellationToken).ConfigureAwait(false);
            foreach (var (name, item) in last)
            {
                if (read.IsSameFolder(name, item.Event.MailboxId))
                {
                    item.Metadata = read.Found.GetValueOrDefault(name);
                }
                else
                {
                    LogMetadataUnread(logger, 1, NowAnotherFolder(name, item));
                }
            }
            foreach (var failure in read.Failures)
            {
                LogMetadataUnread(logger, 1, failure);
            }
        }
        catch (ImapAdminException ex)
        {
            LogMetadataUnread(logger, last.Count, ex.Message);
        }
    }

    /// <summary>
    /// How long after an event's timestamp a collector's read must have begun for the read to be sure to hold that
    /// event's change. Cyrus dates an event when the operation begins (<c>mboxevent_new</c>), before the change is
    /// committed, and the collector runs on the IMAP host, so both times come from one clock. A minute is far more than a
    /// METADATA change takes; an event younger than that is asked about itself.
    /// </summary>
    internal static readonly TimeSpan CollectorReadMargin = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Where this worker cannot read METADATA itself (no <c>Bonnie:Payloads:Imap</c>) but collectors are used: a folder's
    /// MailboxModseq goes to the collector once (<c>metadata &lt;folder&gt;</c>) and comes back with what it read, which
    /// then goes with that event as a read of its own would. When the read began more than
    /// <see cref="CollectorReadMargin"/> after the folder's next events in the batch (a backlog: they happened before the
    /// collector read), it holds their changes too and goes with the last of them instead, the event nearest the moment
    /// of reading, as the worker's own read does. The folder's last MailboxModseq that no answer covers is asked about in
    /// turn, since the collector read before it happened (the set value it reports could be the one that event stands
    /// for). Every job is asked about at most once, so a busy folder costs at most one round trip per batch, a backlog's
    /// batch usually none, and no change goes unread. An answer that is an error (the folder is gone, the collector has no
    /// IMAP or none answered) leaves the folder's METADATA as Bonnie knew it, and covers no other event.
    /// </summary>
    private void MetadataFromTheCollector(List<Item> work, JobOutcome?[] outcomes)
    {
        if (metadata is { IsConfigured: true } || !payloads.UsesCollector)
        {
            return;
        }
        var byFolder = work
            .Where(w => outcomes[w.Index] is null && w.Event.Type == EventType.MailboxModseq && w.Event.Mailbox?.Name is { Length: > 0 })
            .GroupBy(w => w.Event.Mailbox!.Name, StringComparer.Ordinal);
        foreach (var folder in byFolder)
        {
            var items = folder.ToList();
            var request = CollectRequest.ForMetadata(folder.Key).ToString();
            // The last of the folder's events (by position) that a read was asked for or covers.
            var covered = -1;
            // When the read that went with an event began: a later read wins where two go with the same event.
            var readFor = new DateTimeOffset?[items.Count];
            for (var i = 0; i < items.Count; i++)
            {
                var item = items[i];
                if (item.Job.Collected.FirstOrDefault(c => c.Request == request) is not { } answer)
                {
                    continue;
                }
                covered = Math.Max(covered, i);
                if (answer.Error is { } error)
                {
                    LogMetadataUnread(logger, 1, $"{folder.Key}: the collector answered {error}");
                    continue;
                }
                try
                {
                    var entries = JsonSerializer.Deserialize<SortedDictionary<string, string>>(answer.Data.Span);
                    // The collector names the folder it read; under this name since the event, it may be another one.
                    string? readId = null;
                    entries?.Remove(ImapAdminSession.UniqueIdEntry, out readId);
                    var readAt = ReadAt(entries);
                    if (!FolderMetadataRead.SameFolder(readId, item.Event.MailboxId))
                    {
                        LogMetadataUnread(logger, 1, NowAnotherFolder(folder.Key, item));
                        continue;
                    }
                    var target = readAt is { } at ? LastCoveredBy(items, i, at) : i;
                    covered = Math.Max(covered, target);
                    var readTime = readAt ?? DateTimeOffset.MinValue;
                    if (readFor[target] is { } other && other > readTime)
                    {
                        continue;
                    }
                    items[target].Metadata = entries;
                    readFor[target] = readTime;
                }
                catch (JsonException ex)
                {
                    LogMetadataUnread(logger, 1, $"{folder.Key}: the collector's answer is not a JSON object of entries ({ex.Message})");
                }
            }
            if (covered < items.Count - 1)
            {
                outcomes[items[^1].Index] = new JobOutcome.Collect([request]);
            }
        }
    }

    /// <summary>
    /// The last of the folder's events from <paramref name="asked"/> on that happened <see cref="CollectorReadMargin"/>
    /// or more before the read began. Stops at the first that did not, so none is skipped over, and at another folder
    /// under the name.
    /// </summary>
    private static int LastCoveredBy(List<Item> items, int asked, DateTimeOffset readAt)
    {
        var last = asked;
        while (last + 1 < items.Count && items[last + 1].Event.Timestamp + CollectorReadMargin <= readAt
               && string.Equals(items[last + 1].Event.MailboxId, items[asked].Event.MailboxId, StringComparison.Ordinal))
        {
            last++;
        }
        return last;
    }

    /// <summary>Takes the collector's time of reading out of its answer; null from a collector that does not send it.</summary>
    private static DateTimeOffset? ReadAt(SortedDictionary<string, string>? entries) =>
        entries is not null && entries.Remove(CollectRequest.MetadataReadAtEntry, out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at
            : null;

    private static string NowAnotherFolder(string name, Item item) =>
        $"{name} is now another folder than the event's {item.Event.MailboxId} (renamed since): not recorded for it";

    /// <summary>
    /// A job that follows another of its mailbox (<see cref="Job.After"/>) which this batch does not store (postponed,
    /// or released itself) is released unprocessed, and so is a quarantine of it: a mailbox's events are stored in the
    /// order Cyrus sent them, never one before the event it follows.
    /// </summary>
    private static void ReleaseBehindNotStored(IReadOnlyList<Job> jobs, JobOutcome?[] outcomes, List<QuarantineItem> quarantine)
    {
        HashSet<string>? notStored = null;
        for (var i = 0; i < jobs.Count; i++)
        {
            // A job going to the collector is not stored either, so it may go while the job it follows is away too:
            // the broker keeps both in their mailbox's order and hands them out again in it. A backlog of one mailbox
            // whose messages only the collector has is then collected a run at a time, not one message per round trip.
            if (jobs[i].After is { } after && notStored?.Contains(after) == true && outcomes[i] is not JobOutcome.Collect)
            {
                outcomes[i] = JobOutcome.Release;
                var id = jobs[i].Id;
                quarantine.RemoveAll(q => q.JobId == id);
            }
            if (outcomes[i] is JobOutcome.Postpone or JobOutcome.Collect or JobOutcome.Released)
            {
                (notStored ??= new HashSet<string>(StringComparer.Ordinal)).Add(jobs[i].Id);
            }
        }
    }

    // Once per distinct user of the batch; the enricher answers "pending" rather than wait for a down directory.
    private async Task EnrichAsync(List<Item> work, CancellationToken cancellationToken)
    {
        if (identity is null)
        {
            return;
        }
        var byUser = new Dictionary<string, Enrichment>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in work)
        {
            if (item.Event.User is not { Length: > 0 } user)
            {
                continue;
            }
            if (!byUser.TryGetValue(user, out var enrichment))
            {
                try
                {
                    enrichment = await identity.EnrichAsync(user, item.Event.Timestamp, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Identity never fails a job: store it pending, the re-resolution service tries again.
                    LogIdentityFailed(logger, ex, item.Job.Id);
                    enrichment = new Enrichment(new EventIdentity { Status = IdentityStatus.Pending }, null);
                }
                byUser[user] = enrichment;
            }
            item.Identity = enrichment with { Person = enrichment.Person is { } p ? p with { At = item.Event.Timestamp } : null };
        }
    }

    private async Task CommitWithRetriesAsync(IReadOnlyList<Job> jobs, List<Item> work, List<QuarantineItem> quarantine, JobOutcome?[] outcomes,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (store is IStreamingStore streaming && work.Count >= 2 * StreamChunk
                    && await TryStreamAsync(streaming, work, outcomes, quarantine, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
                var batch = await BuildBatchAsync(work, outcomes, quarantine, cancellationToken).ConfigureAwait(false);
                await store.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (StoreConflictException ex) when (attempt < ConflictRetries)
            {
                // Another worker stored one of these jobs or changed the same objects: recompute from the store.
                LogConflict(logger, attempt, ex.Message);
                var done = await store.FindProcessedJobsAsync(work.Select(w => w.Job.Id).ToList(), cancellationToken).ConfigureAwait(false);
                work.RemoveAll(w => done.Contains(w.Job.Id));
                quarantine.RemoveAll(q => done.Contains(q.JobId));
                foreach (var w in work)
                {
                    outcomes[w.Index] = null;
                }
            }
            catch (StoreConflictException ex)
            {
                foreach (var w in work)
                {
                    outcomes[w.Index] = new JobOutcome.Postpone("the store was busy with the same objects: " + ex.Message);
                }
                return;
            }
        }
    }

    /// <summary>
    /// Runs the handlers over the batch while the store writes the events already handled (see
    /// <see cref="IStreamingStore"/>), then commits. False, with nothing written, when a handler failed: the batch is
    /// then built whole by <see cref="BuildBatchAsync"/>, which keeps the failed job out and records it as failed.
    /// </summary>
    private async Task<bool> TryStreamAsync(IStreamingStore streaming, List<Item> work, JobOutcome?[] outcomes, List<QuarantineItem> quarantine,
        CancellationToken cancellationToken)
    {
        await using var stream = await streaming.BeginBatchAsync(cancellationToken).ConfigureAwait(false);
        var uow = new UnitOfWork(store);
        var subjects = identity is null ? null : new FolderSubjects(identity);
        var events = new List<StoredEvent>(StreamChunk);
        foreach (var item in work)
        {
            try
            {
                events.Add(await HandleAsync(uow, subjects, item, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Disposing the stream undoes what it wrote; the whole-batch path runs the handlers again.
                LogStreamAbandoned(logger, item.Job.Id, ex.Message);
                foreach (var w in work)
                {
                    outcomes[w.Index] = null;
                }
                return false;
            }
            outcomes[item.Index] = JobOutcome.Success;
            if (events.Count == StreamChunk)
            {
                await stream.WriteAsync(events, uow.TakeChanges(), cancellationToken).ConfigureAwait(false);
                events = new List<StoredEvent>(StreamChunk);
            }
        }
        await stream.CommitAsync(ToBatch(uow, events, work, quarantine), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>What the unit of work leaves, with the events not handed over yet, the people seen and the quarantine.</summary>
    private static StoreBatch ToBatch(UnitOfWork uow, List<StoredEvent> events, List<Item> work, IEnumerable<QuarantineItem> quarantine)
    {
        var batch = uow.ToBatch();
        batch.Events.AddRange(events);
        batch.People.AddRange(work.Select(w => w.Identity?.Person).OfType<PersonSighting>());
        batch.People.AddRange(work.SelectMany(w => w.SubjectPeople));
        batch.Quarantine.AddRange(quarantine);
        return batch;
    }

    private async Task<StoreBatch> BuildBatchAsync(List<Item> work, JobOutcome?[] outcomes, List<QuarantineItem> quarantine, CancellationToken cancellationToken)
    {
        var uow = new UnitOfWork(store);
        var subjects = identity is null ? null : new FolderSubjects(identity);
        var events = new List<StoredEvent>(work.Count);
        var failed = new List<QuarantineItem>();
        foreach (var item in work)
        {
            try
            {
                events.Add(await HandleAsync(uow, subjects, item, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A handler failed half-way through this event: the unit of work holds a partial change, so redo
                // the batch without this job, which is kept (visible) as failed.
                LogHandlerFailed(logger, ex, item.Job.Id, item.Event.Name);
                outcomes[item.Index] = new JobOutcome.Fail($"processing {item.Event.Name} failed: {ex.Message}");
                failed.Add(Quarantine(item.Job, QuarantineStages.Failed, $"processing {item.Event.Name} failed: {ex.GetType().Name}: {ex.Message}"));
                var rest = work.Where(w => w != item).ToList();
                var batch = await BuildBatchAsync(rest, outcomes, quarantine, cancellationToken).ConfigureAwait(false);
                batch.Quarantine.AddRange(failed);
                return batch;
            }
            outcomes[item.Index] = JobOutcome.Success;
        }
        return ToBatch(uow, events, work, quarantine.Concat(failed));
    }

    private async Task<StoredEvent> HandleAsync(UnitOfWork uow, FolderSubjects? subjects, Item item, CancellationToken cancellationToken)
    {
        var e = item.Event;
        var clientIp = e.ClientIP;
        var user = e.User;
        if ((clientIp is null || user is null) && e.SessionId is not null
            && await uow.GetSessionAsync(e.SessionId, cancellationToken).ConfigureAwait(false) is { } session)
        {
            clientIp ??= session.ClientIp;
            // Cyrus names no user in some events of a session (the MailboxModseq of a SETMETADATA): the session's login
            // did it. A live review found such METADATA changes with their session and address but "by nobody".
            user ??= session.User;
        }
        var payload = item.Payload;
        var context = new EventContext
        {
            Event = e,
            EventId = item.Job.Id,
            Work = uow,
            Actor = new Actor(user, e.SessionId, clientIp, e.Service),
            PayloadStatus = payload?.Status ?? PayloadStatus.None,
            PayloadSha256 = payload?.Sha256,
            PayloadInternalDate = payload?.InternalDate,
            // Nearly always none: no dictionary is made for each event then.
            PayloadsWhereMoved = item.MovedPayloads is not { } moved ? NoMovedPayloads
                : moved.ToDictionary(p => p.Key, p => new MovedPayload(p.Value.Status, p.Value.Sha256!, p.Value.InternalDate)),
            FolderMetadata = item.Metadata,
        };
        foreach (var handler in _handlers)
        {
            if (handler.EventTypes.Contains(e.Type))
            {
                await handler.HandleAsync(context, cancellationToken).ConfigureAwait(false);
            }
        }
        if (context.NotApplied is { } why)
        {
            LogNotApplied(logger, item.Job.Id, e.Type.ToString(), why);
        }
        item.SubjectPeople.Clear();
        if (subjects is not null && context.FolderId is { } folderId
            && await uow.GetFolderAsync(folderId, cancellationToken).ConfigureAwait(false) is { } folder)
        {
            // Who the ACL subjects and the owner are, as of this event; the handlers already loaded the folder.
            await subjects.SnapshotAsync(folder, e.Timestamp, item.SubjectPeople, cancellationToken).ConfigureAwait(false);
        }
        uow.SeeUser(e.User, e.Timestamp);
        uow.EndEvent(item.Job.Id, e.Timestamp, context.Actor);
        return ToStoredEvent(item, context, clientIp) with { User = user };
    }

    private StoredEvent ToStoredEvent(Item item, EventContext context, string? clientIp)
    {
        var e = item.Event;
        var envelope = e.Envelope;
        return new StoredEvent
        {
            Id = item.Job.Id,
            Type = e.Type,
            Name = e.Name,
            Timestamp = e.Timestamp,
            ReceivedAt = item.Job.ReceivedAt == default ? time.GetUtcNow() : item.Job.ReceivedAt,
            User = e.User,
            Service = e.Service,
            SessionId = e.SessionId,
            ClientIp = clientIp,
            FolderId = context.FolderId ?? HandlerSupport.FolderIdOf(e),
            FolderName = e.Mailbox?.Name,
            FolderPath = e.Mailbox?.FolderPath,
            OldFolderId = context.OldFolderId,
            OldFolderName = context.OldFolderName ?? e.OldMailbox?.Name,
            Uids = e.Mailbox?.Uid is { } uid && e.UidSet is null ? uid.ToString(System.Globalization.CultureInfo.InvariantCulture) : Format(e.UidSet),
            MessageIds = e.MessageIds.Count > 0 ? e.MessageIds : envelope?.MessageId is { } mid ? [mid] : [],
            MessageKeys = context.MessageKeys.Distinct(StringComparer.Ordinal).ToList(),
            // A delivery's own envelope; any other event of messages carries theirs, as their arrival told them.
            Subject = envelope?.Subject ?? (context.MessageSubjects.Count > 0 ? string.Join("\n", context.MessageSubjects) : null),
            From = envelope?.From.Select(Address).ToList() ?? [.. context.MessageSenders],
            To = envelope is null ? [] : envelope.To.Concat(envelope.Cc).Select(Address).ToList(),
            Flags = FlagsOf(e),
            Size = e.MessageSize,
            // A move or copy that brought a message's missing bytes carries them, as its delivery would have.
            PayloadStatus = context.PayloadStatus != PayloadStatus.None || item.MovedPayloads is null ? context.PayloadStatus : item.MovedPayloads.Values.First().Status,
            PayloadSha256 = context.PayloadStatus != PayloadStatus.None || item.MovedPayloads is null ? context.PayloadSha256 : item.MovedPayloads.Values.First().Sha256,
            BodyText = item.Payload?.BodyText ?? (item.MovedPayloads is null ? null : string.Join("\n", item.MovedPayloads.Values.Select(p => p.BodyText).OfType<string>())),
            Identity = item.Identity?.Identity,
            RawSha256 = item.RawSha256,
            Raw = item.Job.Notification,
        };
    }

    private static string Address(EmailAddress a) => HandlerSupport.AddressText(a.Name, a.Address);

    // Cyrus reports a read and a \Deleted as MessageRead and MessageTrash without naming the flag; the event is that
    // flag set, so flag:\Seen and flag:\Deleted find it (a live review found both matched nothing, and the README's own
    // -flag:\Seen excluded nothing). The raw notification is kept as it came.
    private static List<string> FlagsOf(CyrusEvent e) => e.Flags.Count > 0 ? e.Flags.Select(HandlerSupport.NormalizeFlag).ToList() : e.Type switch
    {
        EventType.MessageRead => ["\\Seen"],
        EventType.MessageTrash => ["\\Deleted"],
        _ => [],
    };

    private static string? Format(SequenceSet? set)
        => set is null ? null : string.Join(',', set.Ranges.Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}:{r.Last}"));

    private QuarantineItem Quarantine(Job job, string stage, string reason) => new()
    {
        JobId = job.Id,
        At = time.GetUtcNow(),
        Stage = stage,
        Reason = reason,
        RawSha256 = Convert.ToHexStringLower(SHA256.HashData(job.Notification.Span)),
        Raw = job.Notification,
    };

    private sealed class Item(int index, Job job, CyrusEvent e, string rawSha256)
    {
        public string RawSha256 { get; } = rawSha256;
        public int Index { get; } = index;
        public Job Job { get; } = job;
        public CyrusEvent Event { get; } = e;
        public PayloadResult? Payload { get; set; }
        /// <summary>Bytes read where a move or copy took a message that had none (<see cref="FollowMovedMessagesAsync"/>), by UID there.</summary>
        public Dictionary<uint, PayloadResult>? MovedPayloads { get; set; }
        /// <summary>The folder's shared METADATA as read for this event (MailboxModseq only); null when not read.</summary>
        public SortedDictionary<string, string>? Metadata { get; set; }
        public Enrichment? Identity { get; set; }
        /// <summary>People the event's folder's ACL subjects and owner resolved to.</summary>
        public List<PersonSighting> SubjectPeople { get; } = [];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Type}) is stored, but not applied to the histories: {Reason}")]
    private static partial void LogNotApplied(ILogger logger, string jobId, string type, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A handler failed on job {JobId} ({Reason}): the batch is built again without streaming")]
    private static partial void LogStreamAbandoned(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "METADATA of {Folders} folder(s) not read; their events are stored, the next MailboxModseq of each reads it again: {Reason}")]
    private static partial void LogMetadataUnread(ILogger logger, int folders, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} quarantined: the notification does not parse ({Failure})")]
    private static partial void LogQuarantined(ILogger logger, string jobId, ParseFailure failure);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store conflict on attempt {Attempt}, recomputing the batch: {Reason}")]
    private static partial void LogConflict(ILogger logger, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: resolving the user failed; stored with identity pending")]
    private static partial void LogIdentityFailed(ILogger logger, Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: handling {EventName} failed; kept as failed in quarantine")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string jobId, string eventName);
}
