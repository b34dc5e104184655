using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Elasticsearch.Tests;

/// <summary>What the store sends and how it takes the answers, against a fake cluster: these need no Elasticsearch.</summary>
public sealed class ElasticsearchStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);
    private FakeElasticsearch _es = null!;
    private ElasticsearchStore _store = null!;

    public async Task InitializeAsync()
    {
        _es = await FakeElasticsearch.StartAsync();
        _store = Store();
    }

    private ElasticsearchStore Store(int maxBulkOperations = 1000, int maxBulkBytes = 10 * 1024 * 1024)
    {
        var options = new ElasticsearchStoreOptions
        {
            Nodes = [_es.Url.ToString()],
            IndexPrefix = "t",
            MaxAttempts = 3,
            RetryDelay = TimeSpan.FromMilliseconds(1),
            RequestTimeout = TimeSpan.FromSeconds(20),
            MaxBulkOperations = maxBulkOperations,
            MaxBulkBytes = maxBulkBytes,
        };
        return new ElasticsearchStore(new ElasticsearchConnection(options, TimeProvider.System, NullLogger.Instance), new IndexLayout("t"),
            NullLogger<ElasticsearchStore>.Instance);
    }

    public async Task DisposeAsync() => await _es.DisposeAsync();

    private static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static StoredEvent Event(int n)
    {
        var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"MessageNew\",\"n\":{n}}}");
        var id = Convert.ToHexStringLower(SHA256.HashData(raw));
        return new StoredEvent
        {
            Id = id,
            Type = EventType.MessageNew,
            Name = "MessageNew",
            Timestamp = T0.AddSeconds(n),
            ReceivedAt = T0,
            User = "Alice@example.org",
            FolderId = "f1",
            FolderName = "user/alice/Archive@example.org",
            Subject = "Contract draft",
            RawSha256 = id,
            Raw = raw,
        };
    }

    /// <summary>Event 1, message M1 arriving at f1/7, and the change that records it.</summary>
    private static (StoreBatch Batch, MessageObject Message) ArrivalBatch(long messageVersion = 0)
    {
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));
        var message = new MessageObject { Key = "M1", Version = messageVersion };
        message.Locations.Add(new MessageLocation { FolderId = "f1", Uid = 7 });
        batch.Messages["M1"] = message;
        batch.Changes.Add(new ChangeRecord
        {
            Kind = ObjectKind.Message, ObjectId = "M1", Aspect = ChangeAspect.Location, To = "f1/7", Actor = new Actor("alice", null, null, null), At = T0, EventId = Event(1).Id,
        });
        return (batch, message);
    }

    private static FakeResponse NotFoundDocs(FakeRequest r)
    {
        var docs = new JsonArray();
        foreach (var d in r.Json["docs"]!.AsArray())
        {
            docs.Add(new JsonObject { ["_index"] = d!["_index"]!.GetValue<string>(), ["_id"] = d["_id"]!.GetValue<string>(), ["found"] = false });
        }
        return FakeResponse.Ok(new JsonObject { ["docs"] = docs });
    }

    private static FakeResponse BulkOk(FakeRequest r, Func<JsonObject, JsonObject?>? item = null)
    {
        var items = new JsonArray();
        var errors = false;
        foreach (var line in r.Lines)
        {
            if (line.Count != 1 || line.First().Key is not ("index" or "create" or "delete" or "update"))
            {
                continue;
            }
            var (action, meta) = (line.First().Key, line.First().Value!.AsObject());
            var result = item?.Invoke(line) ?? new JsonObject { ["_index"] = meta["_index"]!.GetValue<string>(), ["_id"] = meta["_id"]!.GetValue<string>(), ["status"] = 201 };
            errors |= result["error"] is not null;
            items.Add(new JsonObject { [action] = result });
        }
        return FakeResponse.Ok(new JsonObject { ["took"] = 3, ["errors"] = errors, ["items"] = items });
    }

    [Fact]
    public async Task InitializeAsync_FreshCluster_PutsTemplatesWithExplicitMappingsThenIndices()
    {
        await _store.InitializeAsync(Timeout);

        var templates = _es.Requests.Where(r => r.Method == "PUT" && r.Path.StartsWith("_index_template/", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            ["t-events", "t-folders", "t-folder-aliases", "t-messages", "t-sessions", "t-changes", "t-quarantine", "t-users", "t-people", "t-person-names"],
            templates.Select(r => r.Path["_index_template/".Length..]));
        Assert.Equal(templates.Select(t => t.Path["_index_template/".Length..]), _es.Requests.Where(r => r.Method == "PUT" && !r.Path.Contains('/', StringComparison.Ordinal)).Select(r => r.Path));
        var events = templates[0].Json;
        Assert.Equal("t-events", events["index_patterns"]![0]!.GetValue<string>());
        var mappings = events["template"]!["mappings"]!;
        Assert.Equal("strict", mappings["dynamic"]!.GetValue<string>());
        // Every field stays in _source: an update (identity, feed position) indexes the document anew from it, and a field
        // left out would drop out of the index.
        Assert.Null(mappings["_source"]);
        var p = mappings["properties"]!;
        foreach (var keyword in new[] { "event", "user", "folders", "folder_ids", "message_ids", "session", "ip", "flags" })
        {
            Assert.Equal("keyword", p[keyword]!["type"]!.GetValue<string>());
            Assert.Equal("bonnie_lowercase", p[keyword]!["normalizer"]!.GetValue<string>());
        }
        foreach (var text in new[] { "subject", "from", "to", "body" })
        {
            Assert.Equal("text", p[text]!["type"]!.GetValue<string>());
        }
        Assert.Equal("binary", p["raw"]!["type"]!.GetValue<string>());
        Assert.Equal("date", p["timestamp"]!["type"]!.GetValue<string>());
        Assert.Equal("long", p["sequence"]!["type"]!.GetValue<string>());
        Assert.Equal("keyword", p["type"]!["type"]!.GetValue<string>());
        Assert.Null(p["type"]!["normalizer"]);
        Assert.Equal(["lowercase"], events["template"]!["settings"]!["analysis"]!["normalizer"]!["bonnie_lowercase"]!["filter"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public async Task InitializeAsync_IndicesExist_MappingsUpdatedInPlace()
    {
        _es.Respond = r => r.Method == "PUT" && !r.Path.Contains('/', StringComparison.Ordinal)
            ? new FakeResponse(400, """{"error":{"type":"resource_already_exists_exception","reason":"index [x] already exists"},"status":400}""")
            : null;

        await _store.InitializeAsync(Timeout);

        Assert.Equal(10, _es.Requests.Count(r => r.Method == "PUT" && r.Path.EndsWith("/_mapping", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task InitializeAsync_ClusterRefusesIndex_ExceptionWithReason()
    {
        _es.Respond = r => r.Method == "PUT" && r.Path == "t-events"
            ? new FakeResponse(400, """{"error":{"type":"illegal_argument_exception","reason":"unknown setting [index.foo]"},"status":400}""")
            : null;

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.InitializeAsync(Timeout));

        Assert.Contains("illegal_argument_exception: unknown setting [index.foo]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_Batch_ObjectsWithExternalVersionsThenEventsWithCreate()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => FakeResponse.Ok(new JsonObject
            {
                ["docs"] = new JsonArray(
                    new JsonObject { ["_index"] = "t-events", ["_id"] = Event(1).Id, ["found"] = false },
                    new JsonObject { ["_index"] = "t-folders", ["_id"] = "f1", ["found"] = false },
                    new JsonObject { ["_index"] = "t-messages", ["_id"] = "M1", ["found"] = true, ["_version"] = 3 }),
            }),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var (batch, message) = ArrivalBatch(messageVersion: 3);
        batch.Folders["f1"] = new FolderObject { Id = "f1", Name = "user/alice/Archive@example.org" };

        await _store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        Assert.Equal(2, bulks.Count);
        Assert.All(bulks, b => Assert.Contains("refresh=wait_for", b.Query, StringComparison.Ordinal));
        // Versioned as the client's Accept is: Elasticsearch refuses a request whose two headers name different versions.
        Assert.All(bulks, b => Assert.Equal("application/vnd.elasticsearch+x-ndjson;compatible-with=9", b.ContentType));
        Assert.All(bulks, b => Assert.Equal("application/vnd.elasticsearch+json;compatible-with=9", b.Accept));
        var objects = bulks[0].Lines;
        var folder = objects.Single(l => l["index"]?["_index"]?.GetValue<string>() == "t-folders")["index"]!;
        Assert.Equal(("f1", 1L, "external"), (folder["_id"]!.GetValue<string>(), folder["version"]!.GetValue<long>(), folder["version_type"]!.GetValue<string>()));
        var msg = objects.Single(l => l["index"]?["_index"]?.GetValue<string>() == "t-messages")["index"]!;
        Assert.Equal((4L, "external"), (msg["version"]!.GetValue<long>(), msg["version_type"]!.GetValue<string>()));
        Assert.Contains(objects, l => l["current_at"]?[0]?.GetValue<string>() == "f1/7");
        Assert.Contains(objects, l => l["index"]?["_index"]?.GetValue<string>() == "t-changes");
        Assert.DoesNotContain(objects, l => l["create"]?["_index"]?.GetValue<string>() == "t-events");
        var events = bulks[1].Lines;
        Assert.Equal(Event(1).Id, events[0]["create"]!["_id"]!.GetValue<string>());
        Assert.Equal("t-events", events[0]["create"]!["_index"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(Event(1).Raw.Span), events[1]["raw"]!.GetValue<string>());
        Assert.Equal(T0.AddSeconds(1).ToUnixTimeMilliseconds() * 4096, events[1]["sequence"]!.GetValue<long>());
        Assert.Equal((1L, 4L), (batch.Folders["f1"].Version, message.Version));
    }

    [Fact]
    public async Task CommitAsync_EventAlreadyStored_ConflictBeforeAnyWrite()
    {
        _es.Respond = r => r.Path == "_mget"
            ? FakeResponse.Ok(new JsonObject { ["docs"] = new JsonArray(new JsonObject { ["_index"] = "t-events", ["_id"] = Event(1).Id, ["found"] = true, ["_version"] = 1 }) })
            : null;
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));

        await Assert.ThrowsAsync<StoreConflictException>(() => _store.CommitAsync(batch, Timeout));

        Assert.DoesNotContain(_es.Requests, r => r.Path == "_bulk");
    }

    [Fact]
    public async Task CommitAsync_BulkItemVersionConflict_StoreConflictExceptionAndEventsNotWritten()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r, line => line["index"]?["_index"]?.GetValue<string>() == "t-folders"
                ? JsonNode.Parse("""
                    {"_index":"t-folders","_id":"f1","status":409,
                     "error":{"type":"version_conflict_engine_exception","reason":"[f1]: version conflict, current version [1] is higher or equal to the one provided [1]"}}
                    """)!.AsObject()
                : null),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));
        batch.Folders["f1"] = new FolderObject { Id = "f1", Name = "user/alice@example.org" };
        batch.Changes.Add(new ChangeRecord
        {
            Kind = ObjectKind.Folder, ObjectId = "f1", Aspect = ChangeAspect.Existence, To = "present", Actor = new Actor(null, null, null, null), At = T0, EventId = Event(1).Id,
        });

        var ex = await Assert.ThrowsAsync<StoreConflictException>(() => _store.CommitAsync(batch, Timeout));

        Assert.Contains("t-folders/f1", ex.Message, StringComparison.Ordinal);
        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        Assert.DoesNotContain(bulks, b => b.Lines.Any(l => l["create"]?["_index"]?.GetValue<string>() == "t-events"));
        // The batch's change records are taken back, so the history shows no change whose event is missing.
        Assert.Contains(bulks, b => b.Lines.Any(l => l["delete"]?["_index"]?.GetValue<string>() == "t-changes"));
        Assert.Equal(0, batch.Folders["f1"].Version);
    }

    [Theory]
    [InlineData(500, "internal_server_error", "node crashed")]
    [InlineData(429, "es_rejected_execution_exception", "rejected execution of coordinating operation")]
    public async Task CommitAsync_ClusterFailsEveryAttempt_RetriedThenExceptionNamingStatusAndReason(int status, string type, string reason)
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => new FakeResponse(status, $$"""{"error":{"type":"{{type}}","reason":"{{reason}}"},"status":{{status}}}"""),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.CommitAsync(batch, Timeout));

        Assert.Equal(3, _es.Requests.Count(r => r.Path == "_bulk"));
        Assert.Contains($"HTTP {status} {type}: {reason}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("after 3 attempts", ex.Message, StringComparison.Ordinal);
        Assert.Equal(status, ex.Status);
    }

    [Fact]
    public async Task CommitAsync_BulkItemRejectedThenAccepted_OnlyThatItemSentAgain()
    {
        var bulkCalls = 0;
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => Interlocked.Increment(ref bulkCalls) == 1
                ? BulkOk(r, line => line["index"]?["_index"]?.GetValue<string>() == "t-folders"
                    ? JsonNode.Parse("""{"_index":"t-folders","_id":"f2","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}""")!.AsObject()
                    : null)
                : BulkOk(r),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Folders["f2"] = new FolderObject { Id = "f2", Name = "shared/Board" };
        batch.Users["alice"] = new UserObject("Alice", T0);

        await _store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        Assert.Equal(2, bulks.Count);
        Assert.Equal(["t-folders"], bulks[1].Lines.Where(l => l.Count == 1 && l.First().Key is "index" or "create").Select(l => l.First().Value!["_index"]!.GetValue<string>()));
        Assert.Equal(1, batch.Folders["f2"].Version);
    }

    [Fact]
    public async Task CommitAsync_EventRejectedThenSentAgain_ItsFeedPositionGivenAgain()
    {
        // Sent again after a wait, an event with its first position could become visible after the feed had passed it.
        var eventBulks = 0;
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" when r.Lines.Any(l => l["create"]?["_index"]?.GetValue<string>() == "t-events") => Interlocked.Increment(ref eventBulks) == 1
                ? BulkOk(r, line => new JsonObject
                {
                    ["_index"] = "t-events", ["_id"] = line.First().Value!["_id"]!.GetValue<string>(), ["status"] = 429,
                    ["error"] = new JsonObject { ["type"] = "es_rejected_execution_exception", ["reason"] = "queue full" },
                })
                : BulkOk(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));

        await _store.CommitAsync(batch, Timeout);

        var positions = _es.Requests.Where(r => r.Path == "_bulk").SelectMany(b => b.Lines).Where(l => l["arrival"] is not null)
            .Select(l => l["arrival"]!.GetValue<long>()).ToList();
        Assert.Equal(2, positions.Count);
        Assert.True(positions[1] > positions[0], string.Join(", ", positions));
    }

    [Fact]
    public async Task CommitAsync_BatchLargerThanOneBulk_SentInOrderInRequestsOfAtMostTheLimit()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var store = Store(maxBulkOperations: 10);
        var batch = new StoreBatch();
        var events = Enumerable.Range(1, 25).Select(Event).ToList();
        batch.Events.AddRange(events);

        await store.CommitAsync(batch, Timeout);

        // The pre-check reads every event in reads of at most 10 documents, the events go in bulks of 10, 10 and 5.
        var reads = _es.Requests.Where(r => r.Path == "_mget").Select(r => r.Json["docs"]!.AsArray().Count).ToList();
        Assert.Equal([10, 10, 5], reads);
        var bulks = _es.Requests.Where(r => r.Path == "_bulk").Select(r => r.Lines.Where(l => l.ContainsKey("create")).ToList()).ToList();
        Assert.Equal([10, 10, 5], bulks.Select(b => b.Count));
        Assert.Equal(events.Select(e => e.Id), bulks.SelectMany(b => b).Select(l => l["create"]!["_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CommitAsync_EventsLargerThanTheByteLimit_EachRequestUnderItAndNothingLeftOut()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var store = Store(maxBulkBytes: 64 * 1024);
        var batch = new StoreBatch();
        // About 20 KB each once base64 and JSON: three fit in a request of 64 KB, not four.
        var events = Enumerable.Range(1, 10).Select(n => Event(n) with { Raw = Encoding.UTF8.GetBytes(new string('x', 15_000) + n) }).ToList();
        batch.Events.AddRange(events);

        await store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        Assert.True(bulks.Count >= 4, $"{bulks.Count} bulk requests");
        Assert.All(bulks, b => Assert.True(Encoding.UTF8.GetByteCount(b.Body) <= 64 * 1024, $"a bulk of {Encoding.UTF8.GetByteCount(b.Body)} bytes"));
        Assert.Equal(events.Select(e => e.Id), bulks.SelectMany(b => b.Lines).Where(l => l.ContainsKey("create")).Select(l => l["create"]!["_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CommitAsync_ItemOfTheSecondBulkRejected_OnlyThatItemSentAgainAndTheBatchStored()
    {
        var rejected = Event(14).Id;
        var rejections = 0;
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r, line => line["create"]?["_id"]?.GetValue<string>() == rejected && Interlocked.Increment(ref rejections) == 1
                ? JsonNode.Parse($$$"""{"_index":"t-events","_id":"{{{rejected}}}","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}""")!.AsObject()
                : null),
            _ => null,
        };
        var store = Store(maxBulkOperations: 10);
        var batch = new StoreBatch();
        batch.Events.AddRange(Enumerable.Range(1, 25).Select(Event));

        await store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").Select(r => r.Lines.Where(l => l.ContainsKey("create")).Select(l => l["create"]!["_id"]!.GetValue<string>()).ToList()).ToList();
        Assert.Equal([10, 10, 1, 5], bulks.Select(b => b.Count));
        Assert.Equal([rejected], bulks[2]);
    }

    [Fact]
    public async Task FindProcessedJobsAsync_ClusterAnswersFewerDocumentsThanAsked_ExceptionNotAbsence()
    {
        _es.Respond = r => r.Path == "_mget" ? FakeResponse.Ok(new JsonObject { ["docs"] = new JsonArray() }) : null;

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.FindProcessedJobsAsync([Event(1).Id], Timeout));

        Assert.Contains("answered a read of 2 documents with 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_BulkItemMappingError_ExceptionWithReasonNotSuccess()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r, line => JsonNode.Parse("""{"_index":"t-events","status":400,"error":{"type":"strict_dynamic_mapping_exception","reason":"mapping set to strict, dynamic introduction of [x] is not allowed"}}""")!.AsObject()),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.CommitAsync(batch, Timeout));

        Assert.Contains("strict_dynamic_mapping_exception", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, _es.Requests.Count(r => r.Path == "_bulk"));
    }

    [Fact]
    public async Task GetEventAsync_ServerError_RetriedThenException()
    {
        _es.Respond = _ => new FakeResponse(503, """{"error":{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]"},"status":503}""");

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.GetEventAsync("abc", Timeout));

        Assert.Equal(3, _es.Requests.Count);
        Assert.Contains("HTTP 503 cluster_block_exception", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FindFoldersBelowAsync_PrefixOnTheLowerCasedNameOfExistingFolders_OtherDomainsAndCasesLeftOut()
    {
        JsonObject Hit(string id, string name) => new()
        {
            ["_id"] = id, ["_version"] = 1, ["sort"] = new JsonArray(id),
            ["_source"] = EsDocuments.Folder(new FolderObject { Id = id, Name = name }),
        };
        _es.Respond = r => r.Path == "t-folders/_search"
            ? FakeResponse.Ok(new JsonObject
            {
                ["hits"] = new JsonObject
                {
                    ["hits"] = new JsonArray(Hit("c1", "user/alice/Projects/Acme@example.org"), Hit("other", "user/alice/Projects/Acme@example.net"),
                        Hit("other-case", "user/alice/projects/Acme@example.org")),
                },
            })
            : FakeResponse.Ok(new JsonObject());

        // The index is lower-cased; Cyrus's names are not (projects/Acme is below another folder than Projects).
        var below = await _store.FindFoldersBelowAsync("user/alice/Projects@example.org", Timeout);

        Assert.Equal(["c1"], below.Select(f => f.Id));
        var filter = _es.Requests.Single(r => r.Path == "t-folders/_search").Json["query"]!["bool"]!["filter"]!.AsArray();
        Assert.Equal("user/alice/projects/", filter[0]!["prefix"]!["name"]!.GetValue<string>());
        Assert.Equal("true", filter[1]!["term"]!["exists"]!.GetValue<string>());
    }

    [Fact]
    public async Task SearchEventsAsync_RepresentativeQuery_SerialisedToQueryDsl()
    {
        _es.Respond = r => r.Path == "t-events/_search"
            ? FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}""")!)
            : null;
        var query = QueryParser.Parse("user:alice@example.org AND (subject:\"contract draft\" OR from:erin*) -flag:\\Seen after:2026-01-01");

        await _store.SearchEventsAsync(new EventSearch { Query = query, Limit = 50 }, Timeout);

        var sent = _es.Requests.Single(r => r.Path == "t-events/_search").Json;
        var expected = JsonNode.Parse("""
            {
              "query": { "bool": { "filter": [
                { "term": { "user": "alice@example.org" } },
                { "bool": { "should": [
                    { "match_phrase": { "subject": { "query": "contract draft" } } },
                    { "match_phrase_prefix": { "from": { "query": "erin", "max_expansions": 1000 } } } ],
                  "minimum_should_match": 1 } },
                { "bool": { "must_not": [ { "bool": { "should": [ { "term": { "flags": "\\seen" } }, { "term": { "type": "MessageRead" } } ],
                  "minimum_should_match": 1 } } ] } },
                { "range": { "timestamp": { "gte": "2026-01-01T00:00:00.000Z" } } } ] } },
              "sort": [ { "sequence": "desc" }, { "id": "desc" } ],
              "size": 51,
              "track_total_hits": true,
              "_source": { "excludes": [ "raw", "body" ] }
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, sent), sent.ToJsonString());
    }

    [Fact]
    public async Task CommitThenReadFeed_EventsCarryTheOrderTheyWereSentIn_TheFeedAsksForSettledOnesAfterItsPosition()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.AddRange([Event(2), Event(1)]);
        var before = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * ElasticsearchStore.ArrivalPerTick;

        await _store.CommitAsync(batch, Timeout);

        var sent = _es.Requests.Where(r => r.Path == "_bulk").SelectMany(b => b.Lines).Where(l => l["arrival"] is not null).ToList();
        var arrivals = sent.Select(l => l["arrival"]!.GetValue<long>()).ToList();
        Assert.Equal([Event(2).Id, Event(1).Id], sent.Select(l => l["id"]!.GetValue<string>()));
        // Given as the request is written, from the clock since the Unix epoch (positive: the ticks since year 1 overflowed).
        Assert.True(arrivals[0] >= before && arrivals[1] > arrivals[0], string.Join(", ", arrivals));

        // Three hits for a page of two: the next position is the second's sort values.
        var hits = new JsonArray();
        foreach (var (e, arrival) in new[] { (Event(2), arrivals[0]), (Event(1), arrivals[1]), (Event(3), arrivals[1] + 1) })
        {
            hits.Add(new JsonObject { ["_source"] = EsDocuments.Event(e, 1, arrival), ["sort"] = new JsonArray(arrival, e.Id) });
        }
        _es.Respond = r => r.Path == "t-events/_search"
            ? FakeResponse.Ok(new JsonObject { ["hits"] = new JsonObject { ["hits"] = hits.DeepClone() } })
            : null;

        var asked = DateTime.UtcNow - DateTime.UnixEpoch;
        var page = await _store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse("user:alice@example.org"), Limit = 2 }, Timeout);
        var answered = DateTime.UtcNow - DateTime.UnixEpoch;

        Assert.Equal([Event(2).Id, Event(1).Id], page.Items.Select(e => e.Id));
        Assert.False(page.CaughtUp);
        var search = _es.Requests.Last(r => r.Path == "t-events/_search").Json;
        var filter = search["query"]!["bool"]!["filter"]!.AsArray();
        Assert.Equal("alice@example.org", filter[0]!["term"]!["user"]!.GetValue<string>());
        var settled = filter[1]!["bool"]!["should"]![0]!["range"]!["arrival"]!["lt"]!.GetValue<long>();
        // Events an older Bonnie stored without a position are in the feed too, first.
        Assert.Equal("arrival", filter[1]!["bool"]!["should"]![1]!["bool"]!["must_not"]![0]!["exists"]!["field"]!.GetValue<string>());
        // Held back: only what was sent at least FeedSettle (30 s by default) before the call is answered.
        Assert.InRange(settled, (asked - _store.FeedSettle).Ticks * ElasticsearchStore.ArrivalPerTick,
            (answered - _store.FeedSettle).Ticks * ElasticsearchStore.ArrivalPerTick);
        Assert.True(settled < arrivals[0], $"{settled} against {arrivals[0]}");
        Assert.Equal("[{\"arrival\":{\"order\":\"asc\",\"missing\":\"_first\"}},{\"id\":\"asc\"}]", search["sort"]!.ToJsonString());
        Assert.Equal(3, search["size"]!.GetValue<int>());

        // Going on from the page's position asks for what comes after the second event.
        await _store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse(""), After = page.Next, Limit = 2 }, Timeout);
        var again = _es.Requests.Last(r => r.Path == "t-events/_search").Json;
        Assert.Equal($"[{arrivals[1]},\"{Event(1).Id}\"]", again["search_after"]!.ToJsonString());
    }

    /// <summary>
    /// The folder facet counts an event under its folder and under the folder it took a message out of, as folder:
    /// finds it (the embedded store's contract test proves the counts; this the request that asks for them).
    /// </summary>
    [Fact]
    public async Task SearchEventsAsync_FolderFacet_BucketsByTheFolderIdAndTheOldFolderId_LabelledWithTheNameNow()
    {
        // By id: by the name at each event, a renamed folder made a bucket per name, and a click found other counts.
        var contracts = new FolderObject { Id = "sufr9a0wrxwpaaifzy6ge6cu", Name = "user/alice/Contracts@example.org" };
        _es.Respond = r => r.Path switch
        {
            "t-events/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]},"aggregations":{"folder":{"buckets":[{"key":"sufr9a0wrxwpaaifzy6ge6cu","doc_count":3},{"key":"gone00000000000000000000","doc_count":1}]}}}""")!),
            "_mget" => FakeResponse.Ok(new JsonObject
            {
                ["docs"] = new JsonArray(
                    new JsonObject
                    {
                        ["_index"] = "t-folders", ["_id"] = contracts.Id, ["found"] = true, ["_version"] = 2,
                        ["_source"] = new JsonObject { ["doc"] = System.Text.Json.JsonSerializer.SerializeToNode(contracts, EsJson.Default.FolderObject) },
                    },
                    new JsonObject { ["_index"] = "t-folders", ["_id"] = "gone00000000000000000000", ["found"] = false }),
            }),
            _ => null,
        };

        var page = await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(""), Facets = Facets.Folder }, Timeout);

        var terms = _es.Requests.Single(r => r.Path == "t-events/_search").Json["aggs"]!["folder"]!["terms"]!;
        var script = terms["script"]!["source"]!.GetValue<string>();
        Assert.Contains("doc['folder_id']", script, StringComparison.Ordinal);
        Assert.Contains("doc['old_folder_id']", script, StringComparison.Ordinal);
        Assert.Null(terms["field"]);
        // More buckets than shown, so that stand-ins just below the cut still join their folders' counts.
        Assert.Equal(200, terms["size"]!.GetValue<int>());
        Assert.Equal(
            [new FacetCount("sufr9a0wrxwpaaifzy6ge6cu", 3) { Label = "user/alice/Contracts@example.org" }, new FacetCount("gone00000000000000000000", 1)],
            page.Facets["folder"]);
    }

    [Fact]
    public async Task SearchEventsAsync_FreeTextPrefix_ExpandsToAThousandWordsNotElasticsearchsFifty()
    {
        _es.Respond = r => r.Path == "t-events/_search"
            ? FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}""")!)
            : null;

        await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("contr*") }, Timeout);

        var multi = _es.Requests.Single(r => r.Path == "t-events/_search").Json["query"]!["multi_match"]!;
        Assert.Equal("phrase_prefix", multi["type"]!.GetValue<string>());
        Assert.Equal(1000, multi["max_expansions"]!.GetValue<int>());
    }

    /// <summary>Full text splits words where the embedded store's FTS5 tokenizer does: at anything not a letter or digit.</summary>
    [Fact]
    public void Settings_TextAnalyzer_SplitsWordsAtPunctuationAsTheEmbeddedStoreDoes()
    {
        var analysis = IndexLayout.Settings()["analysis"]!;
        Assert.Equal("bonnie_words", analysis["analyzer"]!["bonnie_text"]!["tokenizer"]!.GetValue<string>());
        var pattern = analysis["tokenizer"]!["bonnie_words"]!["pattern"]!.GetValue<string>();

        // Java's and .NET's regular expressions read \p{L}, \p{N} and \p{Co} alike.
        var words = System.Text.RegularExpressions.Regex.Split("O'Brien <carol@example.net> Zürich-Süd 2026", pattern).Where(w => w.Length > 0);

        Assert.Equal(["O", "Brien", "carol", "example", "net", "Zürich", "Süd", "2026"], words);
    }

    [Fact]
    public async Task GetCountsAsync_CountsEachIndex()
    {
        _es.Respond = r => r.Path switch
        {
            "t-events/_count" => FakeResponse.Ok(JsonNode.Parse("""{"count":1234}""")!),
            "t-quarantine/_count" => FakeResponse.Ok(JsonNode.Parse("""{"count":5}""")!),
            _ => null,
        };

        var counts = await _store.GetCountsAsync(Timeout);

        Assert.Equal(new StoreCounts(1234, 5), counts);
        Assert.Equal(2, _es.Requests.Count(r => r.Path.EndsWith("/_count", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task SearchEventsAsync_UserTerm_ResolvedThroughPersonNamesToEveryEventOfThePerson()
    {
        _es.Respond = r => r.Path switch
        {
            "t-person-names/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"hits":[]},"aggregations":{"ids":{"buckets":[{"key":"P-1","doc_count":2}]}}}""")!),
            "t-events/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}""")!),
            _ => null,
        };

        await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("user:Jane.Gi@example.org") }, Timeout);

        var names = _es.Requests.Single(r => r.Path == "t-person-names/_search").Json;
        Assert.Equal("jane.gi@example.org", names["query"]!["term"]!["name"]!.GetValue<string>());
        var query = _es.Requests.Single(r => r.Path == "t-events/_search").Json["query"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            { "bool": { "should": [ { "term": { "user": "jane.gi@example.org" } }, { "terms": { "person_id": [ "P-1" ] } } ], "minimum_should_match": 1 } }
            """), query), query.ToJsonString());
    }

    [Fact]
    public async Task CommitAsync_EventWithIdentity_SnapshotWrittenAndPersonNamesMergedAfterTheEvents()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1) with
        {
            Identity = new EventIdentity { Status = IdentityStatus.Resolved, PersonId = "P-1", DisplayName = "Jane Gi", Groups = ["auditors"], ResolvedAt = T0 },
        });
        batch.People.Add(new PersonSighting("P-1", "Jane Gi", ["jane.gi@example.org"], T0));

        await _store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        var doc = bulks.SelectMany(b => b.Lines).Single(l => l["id"]?.GetValue<string>() == Event(1).Id);
        Assert.Equal(("resolved", "P-1"), (doc["identity_status"]!.GetValue<string>(), doc["person_id"]!.GetValue<string>()));
        Assert.Equal("auditors", doc["identity"]!["groups"]![0]!.GetValue<string>());
        var people = bulks[^1].Lines;
        var update = people.Single(l => l["update"]?["_index"]?.GetValue<string>() == "t-person-names")["update"]!;
        Assert.Equal(5, update["retry_on_conflict"]!.GetValue<int>());
        var upsert = people.Single(l => l["upsert"] is not null)["upsert"]!;
        Assert.Equal(("jane.gi@example.org", "P-1", T0.ToUnixTimeMilliseconds()),
            (upsert["name"]!.GetValue<string>(), upsert["person_id"]!.GetValue<string>(), upsert["first_seen"]!.GetValue<long>()));
        Assert.Contains(people, l => l["index"]?["_index"]?.GetValue<string>() == "t-people");
        // Painless' Math.min and Math.max take doubles only: they would store the times as 1.7650944E12.
        Assert.DoesNotContain("Math.", people.Single(l => l["script"] is not null)["script"]!["source"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchEventsAsync_FolderTerm_ResolvedThroughAliasesToEveryFolderOfThatName()
    {
        _es.Respond = r => r.Path switch
        {
            "t-folder-aliases/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"hits":[]},"aggregations":{"ids":{"after_key":{"id":"F-1"},"buckets":[{"key":{"id":"F-1"},"doc_count":2}]}}}""")!),
            "t-events/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}""")!),
            _ => null,
        };

        await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("folder:Archive") }, Timeout);

        var alias = _es.Requests.Single(r => r.Path == "t-folder-aliases/_search").Json;
        Assert.Equal("archive", alias["query"]!["term"]!["alias"]!.GetValue<string>());
        var query = _es.Requests.Single(r => r.Path == "t-events/_search").Json["query"]!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            { "bool": { "should": [ { "term": { "folders": "archive" } }, { "terms": { "folder_ids": [ "f-1" ] } } ], "minimum_should_match": 1 } }
            """), query), query.ToJsonString());
    }

    [Fact]
    public void EventDocument_MessageIds_SearchedInTheirNormalForm_ReadBackAsCyrusSentThem()
    {
        // The API and the pages showed "<abc.def@example.org>" where the mail's header and the embedded store say
        // "<ABC.Def@Example.org>": an id copied from Bonnie no longer matched the header it came from.
        var e = Event(1) with { MessageIds = ["<ABC.Def@Example.org>", "Plain@Example.org"] };
        var document = EsDocuments.Event(e, 1, 1);

        Assert.Equal(["<abc.def@example.org>", "<plain@example.org>"], document["message_ids"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(e.MessageIds, EsDocuments.ReadEvent(document).MessageIds);
        // An event indexed before the ids as sent were kept reads back the searched form rather than nothing.
        document.Remove("message_ids_sent");
        Assert.Equal(["<abc.def@example.org>", "<plain@example.org>"], EsDocuments.ReadEvent(document).MessageIds);
    }

    [Fact]
    public async Task SearchEventsAsync_FolderTermOfMoreFoldersThanOneTermsQueryTakes_ReadInPages_SearchedInSeveral()
    {
        // folder:INBOX on an installation of 70,000 users: every INBOX carries the name. Refused before, beyond 65,000.
        const int folders = 70_000;
        _es.Respond = r => r.Path switch
        {
            "t-folder-aliases/_search" => FolderIdsPage(r.Json["aggs"]!["ids"]!["composite"]!.AsObject()),
            "t-events/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}""")!),
            _ => null,
        };

        await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("folder:INBOX") }, Timeout);

        // Seven full pages of 10,000, each after the last one's key, and the empty one that says there is no more.
        var pages = _es.Requests.Where(r => r.Path == "t-folder-aliases/_search").Select(r => r.Json["aggs"]!["ids"]!["composite"]!).ToList();
        Assert.Equal(8, pages.Count);
        Assert.Null(pages[0]["after"]);
        Assert.Equal("f-09999", pages[1]["after"]!["id"]!.GetValue<string>());
        var should = _es.Requests.Single(r => r.Path == "t-events/_search").Json["query"]!["bool"]!["should"]!.AsArray();
        Assert.Equal("inbox", should[0]!["term"]!["folders"]!.GetValue<string>());
        var chunks = should.Skip(1).Select(c => c!["terms"]!["folder_ids"]!.AsArray()).ToList();
        Assert.Equal([65_000, 5_000], chunks.Select(c => c.Count));
        Assert.Equal(folders, chunks.SelectMany(c => c).Select(v => v!.GetValue<string>()).Distinct().Count());

        FakeResponse FolderIdsPage(JsonObject composite)
        {
            var size = composite["size"]!.GetValue<int>();
            var start = composite["after"] is { } after ? int.Parse(after["id"]!.GetValue<string>()[2..], System.Globalization.CultureInfo.InvariantCulture) + 1 : 0;
            var buckets = new JsonArray();
            for (var i = start; i < Math.Min(start + size, folders); i++)
            {
                buckets.Add(new JsonObject { ["key"] = new JsonObject { ["id"] = $"f-{i:D5}" }, ["doc_count"] = 1 });
            }
            var aggregation = new JsonObject { ["buckets"] = buckets };
            if (buckets.Count > 0)
            {
                aggregation["after_key"] = buckets[^1]!["key"]!.DeepClone();
            }
            return FakeResponse.Ok(new JsonObject { ["hits"] = new JsonObject { ["hits"] = new JsonArray() }, ["aggregations"] = new JsonObject { ["ids"] = aggregation } });
        }
    }

    [Fact]
    public async Task SearchEventsAsync_NextPage_CursorCarriesSortValuesAsSearchAfter()
    {
        var e = EsDocuments.Event(Event(1), 42, 7);
        _es.Respond = r => r.Path == "t-events/_search"
            ? FakeResponse.Ok(new JsonObject
            {
                ["hits"] = new JsonObject
                {
                    ["total"] = new JsonObject { ["value"] = 3, ["relation"] = "eq" },
                    ["hits"] = new JsonArray(
                        new JsonObject { ["_source"] = e.DeepClone(), ["sort"] = new JsonArray(44, "c") },
                        new JsonObject { ["_source"] = e.DeepClone(), ["sort"] = new JsonArray(43, "b") },
                        new JsonObject { ["_source"] = e.DeepClone(), ["sort"] = new JsonArray(42, "a") }),
                },
                ["aggregations"] = JsonNode.Parse("""{"event":{"buckets":[{"key":"MessageNew","doc_count":3}]},"day":{"buckets":[{"key_as_string":"2026-11-29","key":1795910400000,"doc_count":3}]}}"""),
            })
            : null;

        var first = await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(""), Limit = 2, Facets = Facets.EventType | Facets.Day }, Timeout);
        await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(""), Limit = 2, Cursor = first.Next }, Timeout);

        Assert.Equal(3, first.Total);
        Assert.Equal(2, first.Items.Count);
        Assert.Equal([new FacetCount("MessageNew", 3)], first.Facets["event"]);
        Assert.Equal([new FacetCount("2026-11-29", 3)], first.Facets["day"]);
        var second = _es.Requests.Where(r => r.Path == "t-events/_search").Last().Json;
        Assert.True(JsonNode.DeepEquals(new JsonArray(43, "b"), second["search_after"]), second.ToJsonString());
        var aggs = _es.Requests.First(r => r.Path == "t-events/_search").Json["aggs"]!;
        Assert.Equal("type", aggs["event"]!["terms"]!["field"]!.GetValue<string>());
        Assert.Equal("day", aggs["day"]!["date_histogram"]!["calendar_interval"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("not-a-cursor'--")]
    [InlineData("djE6MTIz")]
    [InlineData("djI6MTIzOmFiYw")]
    public async Task SearchEventsAsync_ForgedCursor_ClearErrorAndNothingSent(string cursor)
    {
        var ex = await Assert.ThrowsAsync<QuerySyntaxException>(() => _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(""), Cursor = cursor }, Timeout));

        Assert.Contains("cursor", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_es.Requests);
    }

    [Fact]
    public async Task FindProcessedJobsAsync_EventsAndParseQuarantine_Found()
    {
        _es.Respond = r => r.Path == "_mget"
            ? FakeResponse.Ok(JsonNode.Parse("""
                {"docs":[
                  {"_index":"t-events","_id":"a","found":true},
                  {"_index":"t-quarantine","_id":"a","found":false},
                  {"_index":"t-events","_id":"b","found":false},
                  {"_index":"t-quarantine","_id":"b","found":true,"_source":{"stage":"parse"}},
                  {"_index":"t-events","_id":"c","found":false},
                  {"_index":"t-quarantine","_id":"c","found":true,"_source":{"stage":"failed"}}]}
                """)!)
            : null;

        var found = await _store.FindProcessedJobsAsync(["a", "b", "c"], Timeout);

        Assert.Equal(new HashSet<string> { "a", "b" }, found);
    }

    [Fact]
    public async Task CommitAsync_MessageIdLongerThanADocumentIdTakes_HashedIdTheKeyKeptAndReadBackByIt()
    {
        // The sender chooses the Message-ID; Elasticsearch refuses a whole bulk request holding an id over 512 bytes.
        var key = $"mid:<{new string('x', 600)}@example.org>:1234";
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Messages[key] = new MessageObject { Key = key };

        await _store.CommitAsync(batch, Timeout);
        await _store.GetMessageAsync(key, Timeout);

        var index = _es.Requests.Single(r => r.Path == "_bulk").Lines;
        var id = index[0]["index"]!["_id"]!.GetValue<string>();
        Assert.True(Encoding.UTF8.GetByteCount(id) <= 512, id);
        Assert.StartsWith("~", id, StringComparison.Ordinal);
        Assert.Equal(key, index[1]["key"]!.GetValue<string>());
        Assert.Equal(id, _es.Requests.Single(r => r.Path == "_mget").Json["docs"]![0]!["_id"]!.GetValue<string>());
        Assert.Contains(_es.Requests, r => r.Method == "GET" && r.Path == "t-messages/_doc/" + id);
    }

    [Fact]
    public async Task CommitAsync_ValuesOverLucenesTermLimit_TheEventIsStoredNotRefused()
    {
        // A scattered expunge's UID set, a word of 40,000 letters in the subject, a Message-ID of 33,000 characters: the
        // fake refuses, as Elasticsearch does, a document holding a term over 32,766 bytes under the templates' mappings.
        await _store.InitializeAsync(Timeout);
        _es.Respond = r => r.Path switch
        {
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r),
            _ => null,
        };
        var e = Event(1);
        e = new StoredEvent
        {
            Id = e.Id, Type = e.Type, Name = e.Name, Timestamp = e.Timestamp, ReceivedAt = e.ReceivedAt, User = e.User, RawSha256 = e.RawSha256, Raw = e.Raw,
            Uids = string.Join(',', Enumerable.Range(0, 8000).Select(n => (n * 2 + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))),
            Subject = "report " + new string('é', 40_000),
            MessageIds = [$"<{new string('m', 33_000)}@example.org>"],
        };
        var batch = new StoreBatch();
        batch.Events.Add(e);

        await _store.CommitAsync(batch, Timeout);

        var sent = _es.Requests.Single(r => r.Path == "_bulk").Lines[1];
        Assert.Equal(e.Uids, sent["uids"]!.GetValue<string>());
        Assert.Equal(e.Subject, sent["subject"]!.GetValue<string>());
    }

    [Fact]
    public async Task CommitAsync_AnswerLostAfterTheWritesWentIn_SentAgainItsOwnWritesAreNotConflicts()
    {
        // Each bulk request goes in, but its answer is lost (502); sent again, every item meets the document its first
        // sending wrote (409). Taken for another writer's, the batch's change records were removed and the conflict
        // reported, and the worker, finding the events stored, dropped the jobs: the history lost.
        var applied = new Dictionary<string, (string WrittenBy, long? Version)>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        _es.Respond = r =>
        {
            if (r.Path == "_mget" && r.Json["docs"]![0]!["_source"] is JsonArray)
            {
                var docs = new JsonArray();
                foreach (var d in r.Json["docs"]!.AsArray())
                {
                    var (writtenBy, version) = applied[d!["_id"]!.GetValue<string>()];
                    docs.Add(new JsonObject
                    {
                        ["_index"] = d["_index"]!.GetValue<string>(), ["_id"] = d["_id"]!.GetValue<string>(), ["found"] = true, ["_version"] = version ?? 1,
                        ["_source"] = new JsonObject { ["written_by"] = writtenBy },
                    });
                }
                return FakeResponse.Ok(new JsonObject { ["docs"] = docs });
            }
            if (r.Path == "_mget")
            {
                return NotFoundDocs(r);
            }
            if (r.Path != "_bulk")
            {
                return null;
            }
            var lines = r.Lines;
            if (lines.Any(l => l.ContainsKey("update")))
            {
                return BulkOk(r);
            }
            var key = string.Join(",", lines.Where(l => l.Count == 1 && l.First().Key is "index" or "create").Select(l => l.First().Value!["_id"]!.GetValue<string>()));
            if (seen.Add(key))
            {
                for (var i = 0; i < lines.Count; i += 2)
                {
                    var meta = lines[i].First().Value!;
                    if (lines[i + 1]["written_by"] is { } w)
                    {
                        applied[meta["_id"]!.GetValue<string>()] = (w.GetValue<string>(), meta["version"]?.GetValue<long>());
                    }
                }
                return new FakeResponse(502, """{"error":{"type":"bad_gateway","reason":"answer lost"},"status":502}""");
            }
            return BulkOk(r, line => line.First().Key == "index" && line.First().Value!["_index"]!.GetValue<string>() == "t-changes"
                ? null
                : new JsonObject
                {
                    ["_index"] = line.First().Value!["_index"]!.GetValue<string>(), ["_id"] = line.First().Value!["_id"]!.GetValue<string>(), ["status"] = 409,
                    ["error"] = new JsonObject { ["type"] = "version_conflict_engine_exception", ["reason"] = "document already exists" },
                });
        };
        var (batch, message) = ArrivalBatch();

        await _store.CommitAsync(batch, Timeout);

        var bulks = _es.Requests.Where(r => r.Path == "_bulk").ToList();
        Assert.DoesNotContain(bulks.SelectMany(b => b.Lines), l => l.ContainsKey("delete"));
        Assert.Equal(1, message.Version);
        // The event's first position may have been passed while its request went unanswered: it is given a new one.
        var arrivals = bulks.SelectMany(b => b.Lines).Select(l => l["arrival"] ?? l["doc"]?["arrival"]).OfType<JsonValue>().Select(v => v.GetValue<long>()).ToList();
        Assert.Equal(3, arrivals.Count);
        Assert.True(arrivals[0] < arrivals[1] && arrivals[1] < arrivals[2], string.Join(", ", arrivals));
        Assert.Contains(bulks.SelectMany(b => b.Lines), l => l["update"]?["_id"]?.GetValue<string>() == Event(1).Id);
    }

    [Fact]
    public async Task CommitAsync_ConflictWithAnotherWritersDocument_StillAConflict()
    {
        _es.Respond = r => r.Path switch
        {
            "_mget" when r.Json["docs"]![0]!["_source"] is JsonArray => FakeResponse.Ok(new JsonObject
            {
                ["docs"] = new JsonArray(new JsonObject
                {
                    ["_index"] = "t-messages", ["_id"] = "M1", ["found"] = true, ["_version"] = 1, ["_source"] = new JsonObject { ["written_by"] = "another writer" },
                }),
            }),
            "_mget" => NotFoundDocs(r),
            "_bulk" => BulkOk(r, line => line.First().Value!["_index"]!.GetValue<string>() == "t-messages"
                ? JsonNode.Parse("""{"_index":"t-messages","_id":"M1","status":409,"error":{"type":"version_conflict_engine_exception","reason":"version conflict"}}""")!.AsObject()
                : null),
            _ => null,
        };
        var batch = new StoreBatch();
        batch.Events.Add(Event(1));
        batch.Messages["M1"] = new MessageObject { Key = "M1" };

        await Assert.ThrowsAsync<StoreConflictException>(() => _store.CommitAsync(batch, Timeout));

        Assert.DoesNotContain(_es.Requests.Where(r => r.Path == "_bulk").SelectMany(b => b.Lines), l => l["create"]?["_index"]?.GetValue<string>() == "t-events");
    }

    [Fact]
    public async Task GetPersonAsync_NameTimesStoredAsDoubles_ReadAsTheSameMilliseconds()
    {
        // What the first version's script (Painless' Math.min/max take doubles only) left in the person-names index.
        var first = T0.ToUnixTimeMilliseconds();
        _es.Respond = r => r.Path switch
        {
            "t-people/_doc/P-1" => FakeResponse.Ok(JsonNode.Parse("""{"_index":"t-people","_id":"P-1","found":true,"_source":{"id":"P-1","display_name":"Alice"}}""")!),
            "t-person-names/_search" => FakeResponse.Ok(JsonNode.Parse($$$"""{"hits":{"hits":[{"_source":{"name":"alice","person_id":"P-1","first_seen":{{{first}}}.0,"last_seen":{{{first + 1000}}}}}]}}""")!),
            "t-events/_count" => FakeResponse.Ok(JsonNode.Parse("""{"count":3,"_shards":{"total":1,"successful":1,"failed":0}}""")!),
            _ => null,
        };

        var person = await _store.GetPersonAsync("P-1", Timeout);

        Assert.NotNull(person);
        Assert.Equal((T0, T0.AddSeconds(1)), (person.Names[0].FirstSeen, person.Names[0].LastSeen));
    }

    [Fact]
    public async Task CountAsync_SomeShardsFailed_AnErrorNotAShortCount()
    {
        _es.Respond = r => r.Path switch
        {
            "t-people/_doc/P-1" => FakeResponse.Ok(JsonNode.Parse("""{"_index":"t-people","_id":"P-1","found":true,"_source":{"id":"P-1","display_name":"Alice"}}""")!),
            "t-person-names/_search" => FakeResponse.Ok(JsonNode.Parse("""{"hits":{"hits":[]}}""")!),
            "t-events/_count" => FakeResponse.Ok(JsonNode.Parse("""{"count":1,"_shards":{"total":2,"successful":1,"failed":1}}""")!),
            _ => null,
        };

        var ex = await Assert.ThrowsAsync<ElasticsearchStoreException>(() => _store.GetPersonAsync("P-1", Timeout));

        Assert.Contains("failed on 1 shard", ex.Message, StringComparison.Ordinal);
        Assert.All(_es.Requests.Where(r => r.Path.EndsWith("/_search", StringComparison.Ordinal)),
            r => Assert.Contains("allow_partial_search_results=false", r.Query, StringComparison.Ordinal));
    }
}
