using System.Text;
using System.Text.Json.Nodes;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging;
using HttpMethod = Elastic.Transport.HttpMethod;

namespace Bonnie.Elasticsearch;

/// <summary>
/// The store at scale: the same contract as the embedded store, on Elasticsearch. Events, objects, changes,
/// sessions, users, folder aliases and quarantine each have an index (see <see cref="IndexLayout"/>). Payloads
/// stay in the content-addressed directory (<see cref="IPayloadStore"/> is not replaced).
/// </summary>
/// <remarks>
/// Elasticsearch has no multi-document transaction, so <see cref="CommitAsync"/> orders its writes so that a
/// batch is visible as processed only once everything else of it is stored: a pre-check (events already stored,
/// objects changed since read: conflict, nothing written), then objects with external versions plus the
/// batch's dependent documents, then the events themselves with <c>create</c>. See docs/elasticsearch.md.
/// </remarks>
internal sealed partial class ElasticsearchStore(ElasticsearchConnection connection, IndexLayout indices, ILogger<ElasticsearchStore> logger) : IBonnieStore
{
    internal IndexLayout Indices => indices;

    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (index, mappings) in indices.All())
        {
            await connection.SendAsync(HttpMethod.PUT, "_index_template/" + index, IndexLayout.Template(index, mappings), cancellationToken).ConfigureAwait(false);
            var created = await connection.SendAsync(HttpMethod.PUT, index, new JsonObject(), cancellationToken, 400).ConfigureAwait(false);
            if (created.Status == 400)
            {
                var type = created.Body?["error"]?["type"]?.GetValue<string>();
                if (type != "resource_already_exists_exception")
                {
                    throw new ElasticsearchStoreException(
                        $"Elasticsearch PUT /{index} failed: {ElasticsearchConnection.Reason(400, created.Body?.ToJsonString(), null)}", 400, null);
                }
                // An existing index takes the fields a newer Bonnie added (mappings only grow; a conflicting change fails loudly).
                await connection.SendAsync(HttpMethod.PUT, index + "/_mapping", mappings, cancellationToken).ConfigureAwait(false);
            }
        }
        logger.LogInformation("Elasticsearch store ready: indices {Prefix}-*", indices.Prefix);
    }

    public async Task<IReadOnlySet<string>> FindProcessedJobsAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (jobIds.Count == 0)
        {
            return found;
        }
        var docs = new List<JsonObject>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in jobIds.Distinct(StringComparer.Ordinal))
        {
            var docId = EsDocuments.DocId(id);
            ids[docId] = id;
            docs.Add(new JsonObject { ["_index"] = indices.Events, ["_id"] = docId, ["_source"] = false });
            docs.Add(new JsonObject { ["_index"] = indices.Quarantine, ["_id"] = docId, ["_source"] = new JsonArray("stage") });
        }
        foreach (var doc in await MultiGetAsync(docs, cancellationToken).ConfigureAwait(false))
        {
            if (doc["found"]?.GetValue<bool>() != true)
            {
                continue;
            }
            // A notification quarantined as unreadable is done with; one whose processing failed may be replayed.
            if (doc["_index"]!.GetValue<string>() == indices.Events || doc["_source"]?["stage"]?.GetValue<string>() == "parse")
            {
                found.Add(ids[doc["_id"]!.GetValue<string>()]);
            }
        }
        return found;
    }

    public async Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => await GetDocAsync(indices.Folders, folderId, cancellationToken).ConfigureAwait(false) is { } hit ? EsDocuments.ReadFolder(hit) : null;

    public async Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        var query = new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(EsQueryTranslator.Term("name", name.ToLowerInvariant()), EsQueryTranslator.Term("exists", "true")),
            },
        };
        var hits = await SearchHitsAsync(indices.Folders, query, null, 1, cancellationToken).ConfigureAwait(false);
        return hits.Count == 0 ? null : EsDocuments.ReadFolder(hits[0]);
    }

    public async Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken = default)
    {
        // name is a lower-cased keyword: a prefix query finds the subtree, the domain is checked on each hit.
        var query = new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(EsQueryTranslator.Prefix("name", FolderNames.BelowPrefix(name)), EsQueryTranslator.Term("exists", "true")),
            },
        };
        var hits = await SearchHitsAsync(indices.Folders, query, new JsonArray(new JsonObject { ["id"] = "asc" }), int.MaxValue, cancellationToken)
            .ConfigureAwait(false);
        return hits.Select(EsDocuments.ReadFolder).Where(f => FolderNames.IsBelow(f.Name, name)).ToList();
    }

    public async Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default)
        => await GetDocAsync(indices.Messages, key, cancellationToken).ConfigureAwait(false) is { } hit ? EsDocuments.ReadMessage(hit) : null;

    public async Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
    {
        var address = new MessageLocation { FolderId = folderId, Uid = uid }.Address;
        var hits = await SearchHitsAsync(indices.Messages, EsQueryTranslator.Term("current_at", address), null, 1, cancellationToken).ConfigureAwait(false);
        return hits.Count == 0 ? null : EsDocuments.ReadMessage(hits[0]);
    }

    public async Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
    {
        var address = new MessageLocation { FolderId = folderId, Uid = uid }.Address;
        // The message there now when there is one, as the embedded store answers (its row of a place is the current
        // message's): a hit at random among messages once there could name one whose place a later one took.
        var query = new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(EsQueryTranslator.Term("once_at", address)),
                ["should"] = new JsonArray(EsQueryTranslator.Term("current_at", address)),
            },
        };
        var sort = new JsonArray(new JsonObject { ["_score"] = "desc" }, new JsonObject { ["key"] = "asc" });
        var hits = await SearchHitsAsync(indices.Messages, query, sort, 1, cancellationToken).ConfigureAwait(false);
        return hits.Count == 0 ? null : EsDocuments.ReadMessage(hits[0]);
    }

    public async Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default)
    {
        // Paged with search_after by key: a folder may hold far more messages than one search returns.
        var hits = await SearchHitsAsync(indices.Messages, EsQueryTranslator.Term("in_folders", folderId), new JsonArray(new JsonObject { ["key"] = "asc" }),
            int.MaxValue, cancellationToken).ConfigureAwait(false);
        return hits.Select(EsDocuments.ReadMessage).ToList();
    }

    public async Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
        => await GetDocAsync(indices.Sessions, sessionId, cancellationToken).ConfigureAwait(false) is { } hit ? EsDocuments.ReadSession(hit) : null;

    /// <summary>Deletes every index and template of this prefix (the contract tests clean up with it).</summary>
    internal async Task DeleteIndicesAsync(CancellationToken cancellationToken = default)
    {
        foreach (var (index, _) in indices.All())
        {
            await connection.SendAsync(HttpMethod.DELETE, index, (JsonNode?)null, cancellationToken, 404).ConfigureAwait(false);
            await connection.SendAsync(HttpMethod.DELETE, "_index_template/" + index, (JsonNode?)null, cancellationToken, 404).ConfigureAwait(false);
        }
    }

    // ---- helpers shared by the partial files

    // A search some shards could not answer is an error, not a shorter page: the feed and the cursors would step past
    // what those shards hold.
    private static string SearchPath(string index) => index + "/_search?allow_partial_search_results=false";

    private async Task<JsonObject?> GetDocAsync(string index, string id, CancellationToken cancellationToken)
    {
        var r = await connection.SendAsync(HttpMethod.GET, $"{index}/_doc/{Uri.EscapeDataString(EsDocuments.DocId(id))}", (JsonNode?)null, cancellationToken, 404).ConfigureAwait(false);
        return r.Status == 404 || r.Body?["found"]?.GetValue<bool>() != true ? null : r.Body.AsObject();
    }

    /// <summary>The documents, read in requests of at most <see cref="ElasticsearchStoreOptions.MaxBulkOperations"/> each.</summary>
    private async Task<List<JsonObject>> MultiGetAsync(List<JsonObject> docs, CancellationToken cancellationToken)
    {
        var list = new List<JsonObject>();
        foreach (var chunk in docs.Chunk(connection.MaxBulkOperations))
        {
            var r = await connection.SendAsync(HttpMethod.POST, "_mget", new JsonObject { ["docs"] = new JsonArray(chunk) }, cancellationToken).ConfigureAwait(false);
            var answered = r.Body?["docs"]?.AsArray() ?? [];
            if (answered.Count != chunk.Length)
            {
                throw new ElasticsearchStoreException(
                    $"Elasticsearch answered a read of {chunk.Length} documents with {answered.Count}; nothing was decided on it.");
            }
            foreach (var d in answered)
            {
                var doc = d!.AsObject();
                // A missing index is "not found"; any other per-document error is a failure, not an absence.
                if (doc["error"] is JsonObject error && error["type"]?.GetValue<string>() != "index_not_found_exception")
                {
                    throw new ElasticsearchStoreException(
                        $"Elasticsearch could not read {doc["_index"]}/{doc["_id"]}: {error["type"]}: {error["reason"]}");
                }
                list.Add(doc);
            }
        }
        return list;
    }

    /// <summary>Hits of a query, in the given sort, up to <paramref name="limit"/>, paging with search_after past the 10,000 window.</summary>
    private async Task<List<JsonObject>> SearchHitsAsync(string index, JsonObject query, JsonArray? sort, int limit, CancellationToken cancellationToken,
        JsonArray? excludes = null)
    {
        const int Page = 1000;
        var hits = new List<JsonObject>();
        JsonNode? after = null;
        while (hits.Count < limit)
        {
            var body = new JsonObject
            {
                ["query"] = query.DeepClone(),
                ["size"] = Math.Min(Page, limit - hits.Count),
                ["version"] = true,
                ["track_total_hits"] = false,
            };
            if (sort is not null)
            {
                body["sort"] = sort.DeepClone();
            }
            if (excludes is not null)
            {
                body["_source"] = new JsonObject { ["excludes"] = excludes.DeepClone() };
            }
            if (after is not null)
            {
                body["search_after"] = after.DeepClone();
            }
            var r = await connection.SendAsync(HttpMethod.POST, SearchPath(index), body, cancellationToken).ConfigureAwait(false);
            var page = r.Body?["hits"]?["hits"]?.AsArray() ?? [];
            foreach (var h in page)
            {
                hits.Add(h!.AsObject());
            }
            if (page.Count < body["size"]!.GetValue<int>() || sort is null)
            {
                break;
            }
            after = page[^1]!["sort"];
        }
        return hits;
    }

    private static string NdJson(IEnumerable<JsonNode> lines)
    {
        var sb = new StringBuilder();
        foreach (var l in lines)
        {
            sb.Append(l.ToJsonString()).Append('\n');
        }
        return sb.ToString();
    }
}
