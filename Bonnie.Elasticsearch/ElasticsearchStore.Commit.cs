using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using HttpMethod = Elastic.Transport.HttpMethod;
using Microsoft.Extensions.Logging;

namespace Bonnie.Elasticsearch;

internal sealed partial class ElasticsearchStore
{
    /// <summary>Sequences per millisecond of event time, as on the embedded store, so both order and page alike.</summary>
    internal const long SequencePerMillisecond = 4096;

    /// <summary>What a 409 on a bulk item means.</summary>
    private enum OnConflict
    {
        /// <summary>Another writer got there first: the batch conflicts.</summary>
        Conflict,
        /// <summary>The document is already there (a retried batch, a user seen before): nothing to do.</summary>
        AlreadyStored,
    }

    /// <param name="StampsArrival">An event: its feed position (<c>arrival</c>) is given as its request is written, and again
    /// when it is sent again (see <see cref="ReadFeedAsync"/>).</param>
    private sealed record BulkOp(string Action, string Index, string Id, JsonObject? Source, long? ExternalVersion, OnConflict OnConflict,
        bool StampsArrival = false)
    {
        public IEnumerable<JsonNode> Lines()
        {
            var meta = new JsonObject { ["_index"] = Index, ["_id"] = EsDocuments.DocId(Id) };
            if (ExternalVersion is { } v)
            {
                meta["version"] = v;
                meta["version_type"] = "external";
            }
            if (Action == "update")
            {
                // Two writers merging the same person's name: retried on the fresh document, not a conflict.
                meta["retry_on_conflict"] = 5;
            }
            yield return new JsonObject { [Action] = meta };
            if (Source is not null)
            {
                yield return Source;
            }
        }

        public override string ToString() => $"{Action} {Index}/{Id}";
    }

    /// <summary>
    /// Writes the batch in three steps (see the class remarks): a conflict found by the pre-check writes nothing; one
    /// that only the bulk sees (a writer that won a race since) removes what this batch wrote that it can remove
    /// (change records, its own events) and reports the conflict. Every other failure is an exception, never a
    /// partial success reported as done.
    /// </summary>
    public async Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
    {
        if (batch.IsEmpty)
        {
            return;
        }
        var sequences = AssignSequences(batch.Events);
        await PreCheckAsync(batch, cancellationToken).ConfigureAwait(false);
        // Marks this commit's objects and events: a request sent again after its answer was lost finds them stored (409)
        // and must not take its own write for another writer's (see BulkRequestAsync).
        var writtenBy = Guid.NewGuid().ToString("N");
        JsonObject Mark(JsonObject doc)
        {
            doc["written_by"] = writtenBy;
            return doc;
        }

        var first = new List<BulkOp>();
        foreach (var f in batch.Folders.Values)
        {
            first.Add(new BulkOp("index", indices.Folders, f.Id, Mark(EsDocuments.Folder(f)), f.Version + 1, OnConflict.Conflict));
        }
        foreach (var m in batch.Messages.Values)
        {
            first.Add(new BulkOp("index", indices.Messages, m.Key, Mark(EsDocuments.Message(m)), m.Version + 1, OnConflict.Conflict));
        }
        foreach (var s in batch.Sessions.Values)
        {
            first.Add(new BulkOp("index", indices.Sessions, s.Id, Mark(EsDocuments.Session(s)), s.Version + 1, OnConflict.Conflict));
        }
        var changeIds = new List<string>();
        // Ticks leave room for a batch's positions: changes sort in the order they were derived, batch after batch. Since
        // the Unix epoch: ticks since year 1 times 16 overflow a long (they wrapped to negative numbers, in order).
        var recorded = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 16;
        foreach (var c in batch.Changes)
        {
            if (!sequences.TryGetValue(c.EventId, out var seq))
            {
                throw new InvalidOperationException($"A change refers to event {c.EventId}, which is not in the same batch.");
            }
            var id = EsDocuments.ChangeId(c);
            changeIds.Add(id);
            first.Add(new BulkOp("index", indices.Changes, id, EsDocuments.Change(c, seq, recorded++), null, OnConflict.Conflict));
        }
        foreach (var (alias, folderId) in AliasesOf(batch))
        {
            first.Add(new BulkOp("index", indices.FolderAliases, EsDocuments.Hash(alias + "\n" + folderId),
                new JsonObject { ["alias"] = alias, ["folder_id"] = folderId }, null, OnConflict.Conflict));
        }
        foreach (var u in batch.Users.Values)
        {
            var login = u.Login.ToLowerInvariant();
            first.Add(new BulkOp("create", indices.Users, login, new JsonObject { ["login"] = login, ["first_seen"] = EsDocuments.Date(u.FirstSeen) },
                null, OnConflict.AlreadyStored));
        }
        var quarantineSequences = new Dictionary<long, int>();
        foreach (var q in batch.Quarantine)
        {
            var doc = EsDocuments.Quarantine(q, NextSequence(quarantineSequences, q.At));
            if (q.Stage == QuarantineStages.Failed)
            {
                // As on the embedded store: a processing failure replaces an earlier failure's reason and time (the
                // sequence, its place in the list, stays); an unreadable notification's record stands.
                first.Add(new BulkOp("update", indices.Quarantine, q.JobId, new JsonObject
                {
                    ["script"] = new JsonObject
                    {
                        ["source"] = "if (ctx._source.stage == 'parse') { ctx.op = 'noop' } else { ctx._source.at = params.at; ctx._source.stage = params.stage; ctx._source.reason = params.reason }",
                        ["params"] = new JsonObject { ["at"] = doc["at"]!.DeepClone(), ["stage"] = q.Stage, ["reason"] = q.Reason },
                    },
                    ["upsert"] = doc,
                }, null, OnConflict.AlreadyStored));
            }
            else
            {
                first.Add(new BulkOp("create", indices.Quarantine, q.JobId, doc, null, OnConflict.AlreadyStored));
            }
        }

        var conflicts = await BulkAsync(first, cancellationToken).ConfigureAwait(false);
        if (conflicts.Count > 0)
        {
            await UndoAsync(changeIds.Select(id => (indices.Changes, id)), cancellationToken).ConfigureAwait(false);
            throw new StoreConflictException(
                $"Another writer changed {string.Join(", ", conflicts.Take(5))} since it was read; this batch's events and changes were not stored.");
        }

        // Each event's feed position is given as the bulk request that carries it is written (BulkAsync), not here: a
        // batch of thousands goes out in many requests, and positions given once for all of them would age while the
        // first requests are refreshed, and fall behind what the feed had already passed.
        var events = batch.Events.Select(e => new BulkOp("create", indices.Events, e.Id, Mark(EsDocuments.Event(e, sequences[e.Id], arrival: 0)), null,
            OnConflict.Conflict, StampsArrival: true)).ToList();
        conflicts = await BulkAsync(events, cancellationToken).ConfigureAwait(false);
        if (conflicts.Count > 0)
        {
            var lost = conflicts.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            await UndoAsync(events.Where(e => !lost.Contains(e.Id)).Select(e => (indices.Events, e.Id)).Concat(changeIds.Select(id => (indices.Changes, id))),
                cancellationToken).ConfigureAwait(false);
            throw new StoreConflictException($"The event of job {conflicts[0].Id} was stored by another writer meanwhile; this batch's events were removed again.");
        }

        await WritePeopleAsync(batch.People, cancellationToken).ConfigureAwait(false);

        foreach (var f in batch.Folders.Values)
        {
            f.Version++;
        }
        foreach (var m in batch.Messages.Values)
        {
            m.Version++;
        }
        foreach (var s in batch.Sessions.Values)
        {
            s.Version++;
        }
    }

    // After the events: a sighting only names a person once their events are stored; written again, it changes nothing.
    private async Task WritePeopleAsync(IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken)
    {
        if (people.Count == 0)
        {
            return;
        }
        var ops = new List<BulkOp>();
        foreach (var p in people)
        {
            ops.Add(new BulkOp("index", indices.People, p.PersonId, new JsonObject { ["id"] = p.PersonId, ["display_name"] = p.DisplayName }, null,
                OnConflict.AlreadyStored));
            var at = p.At.ToUnixTimeMilliseconds();
            foreach (var name in p.Names.Select(n => n.ToLowerInvariant()).Distinct(StringComparer.Ordinal))
            {
                ops.Add(new BulkOp("update", indices.PersonNames, EsDocuments.Hash(name + "\n" + p.PersonId), new JsonObject
                {
                    ["script"] = new JsonObject
                    {
                        // Compared, not Math.min/max: Painless has those for doubles only, and they would store 1.7650944E12.
                        ["source"] = "if (params.t < ctx._source.first_seen) { ctx._source.first_seen = params.t } if (params.t > ctx._source.last_seen) { ctx._source.last_seen = params.t }",
                        ["params"] = new JsonObject { ["t"] = at },
                    },
                    ["upsert"] = new JsonObject { ["name"] = name, ["person_id"] = p.PersonId, ["first_seen"] = at, ["last_seen"] = at },
                }, null, OnConflict.AlreadyStored));
            }
        }
        await BulkAsync(ops, cancellationToken).ConfigureAwait(false);
    }

    public async Task UpdateIdentityAsync(IReadOnlyList<IdentityUpdate> updates, IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken = default)
    {
        var ops = updates.Select(u =>
        {
            var doc = new JsonObject
            {
                ["identity_status"] = u.Identity.Status,
                ["person_id"] = u.Identity.PersonId,
                ["identity"] = EsDocuments.Identity(u.Identity),
            };
            if (u.Identity.PersonId is { Length: > 0 })
            {
                // It now matches user: under every name of its person: it comes again in the feed (as on the embedded store).
                doc["arrival"] = NextArrival();
            }
            return new BulkOp("update", indices.Events, u.EventId, new JsonObject { ["doc"] = doc }, null, OnConflict.Conflict);
        }).ToList();
        if (ops.Count > 0)
        {
            var conflicts = await BulkAsync(ops, cancellationToken).ConfigureAwait(false);
            if (conflicts.Count > 0)
            {
                throw new StoreConflictException($"Events {string.Join(", ", conflicts.Take(5))} changed meanwhile; their identity stays pending.");
            }
        }
        await WritePeopleAsync(people, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>timestamp_ms * 4096 + n</c>, n counting the batch's events of the same millisecond. Two writers may give
    /// the same number to different events; sorting and cursors use (sequence, id), which is unique, so paging
    /// still returns every match once. A counter document would make sequences unique but serialise every writer
    /// on one document; event-time order is what officers page through anyway.
    /// </summary>
    private static Dictionary<string, long> AssignSequences(List<StoredEvent> events)
    {
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        var perMillisecond = new Dictionary<long, int>();
        foreach (var e in events)
        {
            if (sequences.ContainsKey(e.Id))
            {
                throw new StoreConflictException($"The event of job {e.Id} is twice in the batch; nothing of this batch was written.");
            }
            sequences[e.Id] = NextSequence(perMillisecond, e.Timestamp);
        }
        return sequences;
    }

    private static long NextSequence(Dictionary<long, int> perMillisecond, DateTimeOffset at)
    {
        var ms = at.ToUnixTimeMilliseconds();
        perMillisecond.TryGetValue(ms, out var n);
        perMillisecond[ms] = n + 1;
        // More than 4096 in one millisecond of one batch spill into the next: order is kept, time is off by < 1 ms.
        return (ms * SequencePerMillisecond) + n;
    }

    // Every name a folder ever had finds it: its current name and both sides of each rename in the batch.
    private static IEnumerable<(string Alias, string FolderId)> AliasesOf(StoreBatch batch)
        => batch.Folders.Values.Select(f => (f.Id, (string?)f.Name))
            .Concat(batch.Changes.Where(c => c.Kind == ObjectKind.Folder && c.Aspect == ChangeAspect.Name)
                .SelectMany(c => new[] { (c.ObjectId, c.From), (c.ObjectId, c.To) }))
            .Where(n => n.Item2 is not null)
            .SelectMany(n => FolderAliases.Of(n.Item1, n.Item2!).Select(a => (a, n.Item1)))
            .Concat(FolderAliases.OfStandIns(batch.Folders.Values))
            .Distinct();

    /// <summary>Events already stored or objects changed since they were read: a conflict, found before anything is written.</summary>
    private async Task PreCheckAsync(StoreBatch batch, CancellationToken cancellationToken)
    {
        var docs = new List<JsonObject>();
        var expected = new Dictionary<(string, string), long>();
        foreach (var e in batch.Events)
        {
            docs.Add(new JsonObject { ["_index"] = indices.Events, ["_id"] = EsDocuments.DocId(e.Id), ["_source"] = false });
        }
        void Object(string index, string id, long version)
        {
            docs.Add(new JsonObject { ["_index"] = index, ["_id"] = EsDocuments.DocId(id), ["_source"] = false });
            expected[(index, EsDocuments.DocId(id))] = version;
        }
        foreach (var f in batch.Folders.Values)
        {
            Object(indices.Folders, f.Id, f.Version);
        }
        foreach (var m in batch.Messages.Values)
        {
            Object(indices.Messages, m.Key, m.Version);
        }
        foreach (var s in batch.Sessions.Values)
        {
            Object(indices.Sessions, s.Id, s.Version);
        }
        if (docs.Count == 0)
        {
            return;
        }
        foreach (var doc in await MultiGetAsync(docs, cancellationToken).ConfigureAwait(false))
        {
            var index = doc["_index"]!.GetValue<string>();
            var id = doc["_id"]!.GetValue<string>();
            var found = doc["found"]?.GetValue<bool>() == true;
            if (index == indices.Events)
            {
                if (found)
                {
                    throw new StoreConflictException($"The event of job {id} is already stored; nothing of this batch was written.");
                }
                continue;
            }
            var stored = found ? doc["_version"]!.GetValue<long>() : 0;
            if (stored != expected[(index, id)])
            {
                throw new StoreConflictException($"{index}/{id} was {(expected[(index, id)] == 0 ? "created" : "changed")} by another writer; nothing of this batch was written.");
            }
        }
    }

    /// <summary>
    /// Sends the operations in order, in bulk requests of at most <see cref="ElasticsearchStoreOptions.MaxBulkOperations"/>
    /// operations and <see cref="ElasticsearchStoreOptions.MaxBulkBytes"/> bytes (refresh=wait_for: reads see them when
    /// this returns). Items the cluster rejected for load (429) or a node failure (5xx) are sent again, bounded; a 409 is
    /// returned for the caller to decide; any other item error is an exception with the server's reason.
    /// </summary>
    private async Task<List<BulkOp>> BulkAsync(List<BulkOp> ops, CancellationToken cancellationToken)
    {
        var conflicts = new List<BulkOp>();
        var request = new List<(BulkOp Op, string Lines)>();
        var bytes = 0L;
        foreach (var op in ops)
        {
            // Serialised as the requests fill, so a batch of many thousand events is never held as text all at once.
            var lines = Serialise(op);
            var size = Encoding.UTF8.GetByteCount(lines);
            if (request.Count > 0 && (request.Count >= connection.MaxBulkOperations || bytes + size > connection.MaxBulkBytes))
            {
                conflicts.AddRange(await BulkRequestAsync(request, cancellationToken).ConfigureAwait(false));
                request = [];
                bytes = 0;
            }
            request.Add((op, lines));
            bytes += size;
        }
        if (request.Count > 0)
        {
            conflicts.AddRange(await BulkRequestAsync(request, cancellationToken).ConfigureAwait(false));
        }
        return conflicts;
    }

    private async Task<List<BulkOp>> BulkRequestAsync(List<(BulkOp Op, string Lines)> ops, CancellationToken cancellationToken)
    {
        var conflicts = new List<BulkOp>();
        var pending = ops;
        for (var attempt = 1; pending.Count > 0; attempt++)
        {
            // Sent again by the connection (no answer, 5xx), the events take new positions, as below for items sent again.
            var sends = 0;
            var toSend = pending;
            string Body() => sends++ == 0
                ? string.Concat(toSend.Select(p => p.Lines))
                : string.Concat(toSend.Select(p => p.Op.StampsArrival ? Serialise(p.Op) : p.Lines));
            var r = await connection.SendAsync(HttpMethod.POST, "_bulk?refresh=wait_for", Body, ndjson: true, cancellationToken).ConfigureAwait(false);
            var items = r.Body?["items"]?.AsArray();
            if (items is null || items.Count != pending.Count)
            {
                throw new ElasticsearchStoreException(
                    $"Elasticsearch answered a bulk of {pending.Count} operations with {items?.Count.ToString(CultureInfo.InvariantCulture) ?? "no"} results; the batch is not reported stored (a retry finds what went in before, and stores nothing twice).");
            }
            var retry = new List<(BulkOp Op, string Lines)>();
            var retryReason = "";
            var refused = new List<BulkOp>();
            for (var i = 0; i < items.Count; i++)
            {
                var op = pending[i].Op;
                var result = items[i]!.AsObject().First().Value!;
                var status = result["status"]?.GetValue<int>() ?? 0;
                if (status is >= 200 and < 300 || (op.Action == "delete" && status == 404))
                {
                    continue;
                }
                var error = result["error"];
                var reason = $"HTTP {status} {error?["type"]?.GetValue<string>()}: {error?["reason"]?.GetValue<string>()}";
                if (status == 409)
                {
                    if (op.OnConflict == OnConflict.Conflict)
                    {
                        refused.Add(op);
                    }
                    continue;
                }
                if (status is 429 or >= 500)
                {
                    // Sent again after a wait: an event takes a new position, as its first one may be passed meanwhile.
                    retry.Add(op.StampsArrival ? (op, Serialise(op)) : pending[i]);
                    retryReason = reason;
                    continue;
                }
                throw new ElasticsearchStoreException($"Elasticsearch refused {op}: {reason}; the batch is not reported stored (a retry finds what went in before, and stores nothing twice).", status, null);
            }
            if (refused.Count > 0)
            {
                conflicts.AddRange(await OthersWritesAsync(refused, cancellationToken).ConfigureAwait(false));
            }
            if (retry.Count > 0)
            {
                if (attempt >= connection.MaxAttempts)
                {
                    throw new ElasticsearchStoreException(
                        $"Elasticsearch refused {retry.Count} of the batch's operations after {attempt} attempts ({retry[0].Op}: {retryReason}); the batch is not reported stored (a retry finds what went in before, and stores nothing twice).",
                        null, null);
                }
                LogBulkRetry(logger, retry.Count, retryReason, attempt, connection.MaxAttempts);
                await connection.WaitBeforeRetryAsync(attempt, cancellationToken).ConfigureAwait(false);
            }
            pending = retry;
        }
        return conflicts;
    }

    /// <summary>
    /// The refused writes (409) that another writer's document stands in the way of. A request sent again after its
    /// answer was lost meets this commit's own earlier write: the stored document carries the same <c>written_by</c>
    /// (and, for an object, the version this commit gave it), so it is stored, not a conflict. Taken for a conflict,
    /// it had the batch's change records removed and its jobs later found done: its history lost. Such an event is
    /// given a new feed position, as its first one may have been passed while the request went unanswered.
    /// </summary>
    private async Task<List<BulkOp>> OthersWritesAsync(List<BulkOp> refused, CancellationToken cancellationToken)
    {
        var others = new List<BulkOp>();
        var mine = new List<(BulkOp Op, JsonObject Stored)>();
        var docs = new List<JsonObject>();
        var asked = new List<BulkOp>();
        foreach (var op in refused)
        {
            if (op.Source?["written_by"] is null)
            {
                others.Add(op);
                continue;
            }
            asked.Add(op);
            docs.Add(new JsonObject { ["_index"] = op.Index, ["_id"] = EsDocuments.DocId(op.Id), ["_source"] = new JsonArray("written_by") });
        }
        if (asked.Count == 0)
        {
            return others;
        }
        var stored = await MultiGetAsync(docs, cancellationToken).ConfigureAwait(false);
        var restamp = new List<BulkOp>();
        for (var i = 0; i < asked.Count; i++)
        {
            var op = asked[i];
            var doc = stored[i];
            var same = doc["found"]?.GetValue<bool>() == true
                && doc["_source"]?["written_by"]?.GetValue<string>() == op.Source!["written_by"]!.GetValue<string>()
                && (op.ExternalVersion is not { } version || doc["_version"]?.GetValue<long>() == version);
            if (!same)
            {
                others.Add(op);
            }
            else if (op.StampsArrival)
            {
                restamp.Add(new BulkOp("update", op.Index, op.Id, new JsonObject { ["doc"] = new JsonObject { ["arrival"] = NextArrival() } }, null,
                    OnConflict.Conflict));
            }
        }
        if (restamp.Count > 0)
        {
            others.AddRange(await BulkAsync(restamp, cancellationToken).ConfigureAwait(false));
        }
        return others;
    }

    private string Serialise(BulkOp op)
    {
        if (op.StampsArrival)
        {
            op.Source!["arrival"] = NextArrival();
        }
        return NdJson(op.Lines());
    }

    private long _lastArrival;

    /// <summary>
    /// A feed position: the clock's ticks since the Unix epoch, times <see cref="ArrivalPerTick"/> (room for the events of
    /// a request written in the same tick), and above any this process gave before, should its clock step back.
    /// </summary>
    private long NextArrival()
    {
        var now = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * ArrivalPerTick;
        long last, next;
        do
        {
            last = Interlocked.Read(ref _lastArrival);
            next = Math.Max(now, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastArrival, next, last) != last);
        return next;
    }

    /// <summary>Best effort after a conflict: removes documents this batch wrote. A failure here is logged; the conflict is still reported.</summary>
    private async Task UndoAsync(IEnumerable<(string Index, string Id)> docs, CancellationToken cancellationToken)
    {
        var ops = docs.Select(d => new BulkOp("delete", d.Index, d.Id, null, null, OnConflict.AlreadyStored)).ToList();
        if (ops.Count == 0)
        {
            return;
        }
        try
        {
            await BulkAsync(ops, cancellationToken).ConfigureAwait(false);
        }
        catch (ElasticsearchStoreException ex)
        {
            logger.LogError(ex, "Could not remove {Count} documents of a conflicting batch; a replay of its jobs overwrites them", ops.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch rejected {Count} bulk operations ({Reason}); attempt {Attempt} of {MaxAttempts}, sending them again")]
    private static partial void LogBulkRetry(ILogger logger, int count, string reason, int attempt, int maxAttempts);
}
