using System.Text.Json.Nodes;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using HttpMethod = Elastic.Transport.HttpMethod;

namespace Bonnie.Elasticsearch;

internal sealed partial class ElasticsearchStore
{
    // The most folders one folder: term is searched across. A name every user's folder carries (INBOX, Sent, Archive)
    // names one folder per user: refused at 65,000 (one terms query's limit) it failed on exactly the installations
    // Elasticsearch is for, while the embedded store has no limit. The ids are read a page at a time and searched in
    // terms queries of at most EsQueryTranslator.MaxTermsPerQuery each. This bound keeps each search's cost in reason: the
    // ids are read again for every page, the facets and each term a no-match explanation counts (25 pages of ids and a
    // body of about 6 MB at the bound).
    private const int MaxFoldersPerTerm = 250_000;
    // Buckets per page of the composite aggregation that reads them (within search.max_buckets, 65,536 by default).
    private const int FolderIdsPage = 10_000;
    private const int FacetSize = EventSearch.FacetBuckets;
    // People who ever carried one login name: a handful; a bound so a corrupt index cannot make a query unbounded.
    private const int MaxPeoplePerName = 1000;

    public async Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken = default)
        => await GetDocAsync(indices.Events, eventId, cancellationToken).ConfigureAwait(false) is { } hit
            ? EsDocuments.ReadEvent(hit["_source"]!.AsObject())
            : null;

    public async Task<EventPage> SearchEventsAsync(EventSearch search, CancellationToken cancellationToken = default)
    {
        var cursor = search.Cursor is null ? ((long, string)?)null : EsCursor.Decode(SearchCursor.Unbind(search.Cursor, search.Query));
        var folderIds = await ResolveFoldersAsync(search.Query.Root, cancellationToken).ConfigureAwait(false);
        var personIds = await ResolvePeopleAsync(search.Query.Root, cancellationToken).ConfigureAwait(false);
        var body = SearchBody(search, cursor, folderIds, personIds);
        var r = await connection.SendAsync(HttpMethod.POST, SearchPath(indices.Events), body, cancellationToken).ConfigureAwait(false);
        var page = ReadPage(r.Body!, Math.Clamp(search.Limit, 1, EventSearch.MaxLimit), search.Query);
        return page.Facets.TryGetValue("folder", out var folders) && folders.Count > 0
            ? page with { Facets = new Dictionary<string, IReadOnlyList<FacetCount>>(page.Facets, StringComparer.Ordinal) { ["folder"] = await LabelFoldersAsync(folders, cancellationToken).ConfigureAwait(false) } }
            : page;
    }

    /// <summary>
    /// The folder facet's buckets (folder ids) with each folder's name now, as the embedded store gives them; a folder
    /// first known by name only (a stand-in) counts under the folder it turned out to be, as folder: with that id finds.
    /// </summary>
    private async Task<IReadOnlyList<FacetCount>> LabelFoldersAsync(IReadOnlyList<FacetCount> folders, CancellationToken cancellationToken)
    {
        var known = await ReadFoldersAsync(folders.Select(f => f.Value), cancellationToken).ConfigureAwait(false);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var f in folders)
        {
            var id = known.GetValueOrDefault(f.Value)?.SameAs ?? f.Value;
            counts[id] = counts.GetValueOrDefault(id) + f.Count;
        }
        // The folders stand-ins turned out to be, when not among the buckets already read.
        var asked = folders.Select(f => f.Value).ToHashSet(StringComparer.Ordinal);
        var targets = counts.Keys.Where(id => !asked.Contains(id)).ToList();
        foreach (var (id, folder) in await ReadFoldersAsync(targets, cancellationToken).ConfigureAwait(false))
        {
            known[id] = folder;
        }
        return counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(FacetSize)
            .Select(c => new FacetCount(c.Key, c.Value) { Label = known.GetValueOrDefault(c.Key)?.Name }).ToList();
    }

    private async Task<Dictionary<string, FolderObject>> ReadFoldersAsync(IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        var result = new Dictionary<string, FolderObject>(StringComparer.Ordinal);
        if (list.Count == 0)
        {
            return result;
        }
        var found = await MultiGetAsync(list.Select(id => new JsonObject { ["_index"] = indices.Folders, ["_id"] = EsDocuments.DocId(id) }).ToList(), cancellationToken)
            .ConfigureAwait(false);
        for (var i = 0; i < list.Count; i++)
        {
            if (found[i]["found"]?.GetValue<bool>() == true)
            {
                result[list[i]] = EsDocuments.ReadFolder(found[i]);
            }
        }
        return result;
    }

    /// <summary>The search request for one page: query, sort by (sequence, id), search_after, exact total, facets.</summary>
    internal static JsonObject SearchBody(EventSearch search, (long Sequence, string Id)? cursor,
        IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? folderIds = null,
        IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? personIds = null)
    {
        var limit = Math.Clamp(search.Limit, 1, EventSearch.MaxLimit);
        var order = search.Query.Sort == SortOrder.NewestFirst ? "desc" : "asc";
        var body = new JsonObject
        {
            ["query"] = new EsQueryTranslator(folderIds, personIds).Translate(search.Query.Root),
            ["sort"] = new JsonArray(new JsonObject { ["sequence"] = order }, new JsonObject { ["id"] = order }),
            // One more than asked: whether there is a next page without a second request.
            ["size"] = limit + 1,
            ["track_total_hits"] = true,
            ["_source"] = new JsonObject { ["excludes"] = new JsonArray("raw", "body") },
        };
        if (cursor is { } c)
        {
            body["search_after"] = new JsonArray(c.Sequence, c.Id);
        }
        var aggs = new JsonObject();
        if (search.Facets.HasFlag(Facets.EventType))
        {
            aggs["event"] = Terms("type");
        }
        if (search.Facets.HasFlag(Facets.User))
        {
            aggs["user"] = Terms("user");
        }
        if (search.Facets.HasFlag(Facets.Folder))
        {
            aggs["folder"] = FolderFacet();
            // Four times the buckets shown: stand-ins are merged into their folders afterwards (LabelFoldersAsync), and a
            // folder or stand-in just below the cut would otherwise be left out of its folder's count.
            aggs["folder"]!["terms"]!["size"] = FacetSize * 4;
        }
        if (search.Facets.HasFlag(Facets.Day))
        {
            aggs["day"] = new JsonObject
            {
                ["date_histogram"] = new JsonObject
                {
                    ["field"] = "timestamp",
                    ["calendar_interval"] = "day",
                    ["format"] = "yyyy-MM-dd",
                    ["min_doc_count"] = 1,
                    ["order"] = new JsonObject { ["_key"] = "desc" },
                },
            };
        }
        if (aggs.Count > 0)
        {
            body["aggs"] = aggs;
        }
        return body;
    }

    private static JsonObject Terms(string field) => Terms("field", JsonValue.Create(field));

    /// <summary>A facet's 50 largest buckets of a field's values, or of what a script returns for each event.</summary>
    private static JsonObject Terms(string source, JsonNode value) => new()
    {
        ["terms"] = new JsonObject
        {
            [source] = value,
            ["size"] = FacetSize,
            ["order"] = new JsonArray(new JsonObject { ["_count"] = "desc" }, new JsonObject { ["_key"] = "asc" }),
        },
    };

    /// <summary>
    /// A folder's bucket, by its id, counts what <c>folder:</c> with its id finds: the events in it, and those that took
    /// a message out of it (a move's source), as the embedded store counts them. Labelled with names afterwards.
    /// </summary>
    private static JsonObject FolderFacet() => Terms("script", new JsonObject
        {
            ["lang"] = "painless",
            ["source"] = """
                def ids = new ArrayList();
                if (doc['folder_id'].size() > 0) { ids.add(doc['folder_id'].value); }
                if (doc['old_folder_id'].size() > 0 && (ids.isEmpty() || doc['old_folder_id'].value != ids.get(0))) { ids.add(doc['old_folder_id'].value); }
                return ids;
                """,
        });

    internal static EventPage ReadPage(JsonNode body, int limit, ParsedQuery query)
    {
        var hits = body["hits"]!;
        var total = hits["total"]?["value"]?.GetValue<long>() ?? 0;
        var items = new List<StoredEvent>();
        var sortValues = new List<JsonArray>();
        foreach (var h in hits["hits"]!.AsArray())
        {
            items.Add(EsDocuments.ReadEvent(h!["_source"]!.AsObject()));
            sortValues.Add(h["sort"]!.AsArray());
        }
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveRange(limit, items.Count - limit);
            var last = sortValues[limit - 1];
            next = SearchCursor.Bind(EsCursor.Encode(last[0]!.GetValue<long>(), last[1]!.GetValue<string>()), query);
        }
        var facets = new Dictionary<string, IReadOnlyList<FacetCount>>(StringComparer.Ordinal);
        foreach (var name in new[] { "event", "user", "folder", "day" })
        {
            if (body["aggregations"]?[name]?["buckets"] is JsonArray buckets)
            {
                facets[name] = buckets.Select(b => new FacetCount(
                    (b!["key_as_string"] ?? b["key"])!.ToString(), b["doc_count"]!.GetValue<long>())).ToList();
            }
        }
        return new EventPage(total, items, next) { Facets = facets };
    }

    /// <summary>Looks up, for each folder: term of the query, the ids of the folders that have or had that name.</summary>
    private async Task<Dictionary<KeywordNode, IReadOnlyList<string>>> ResolveFoldersAsync(QueryNode root, CancellationToken cancellationToken)
    {
        var result = new Dictionary<KeywordNode, IReadOnlyList<string>>();
        foreach (var k in FolderTerms(root).Distinct())
        {
            var query = k.IsPrefix
                ? new JsonObject { ["prefix"] = new JsonObject { ["alias"] = k.Value } }
                : EsQueryTranslator.Term("alias", k.Value);
            var ids = new List<string>();
            JsonNode? after = null;
            do
            {
                var composite = new JsonObject
                {
                    ["size"] = FolderIdsPage,
                    ["sources"] = new JsonArray(new JsonObject { ["id"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "folder_id" } } }),
                };
                if (after is not null)
                {
                    composite["after"] = after.DeepClone();
                }
                var body = new JsonObject { ["query"] = query.DeepClone(), ["size"] = 0, ["aggs"] = new JsonObject { ["ids"] = new JsonObject { ["composite"] = composite } } };
                var r = await connection.SendAsync(HttpMethod.POST, SearchPath(indices.FolderAliases), body, cancellationToken).ConfigureAwait(false);
                var aggregation = r.Body?["aggregations"]?["ids"];
                var buckets = aggregation?["buckets"]?.AsArray() ?? [];
                ids.AddRange(buckets.Select(b => b!["key"]!["id"]!.GetValue<string>()));
                if (ids.Count > MaxFoldersPerTerm)
                {
                    throw new QuerySyntaxException(
                        $"'folder:{k.Value}{(k.IsPrefix ? "*" : "")}' at position {k.Position} matches more than {MaxFoldersPerTerm} folders; name the folder more precisely.",
                        k.Position, "a more precise folder name");
                }
                // The last page is the one shorter than asked for (after_key is given with every page but the empty one).
                after = buckets.Count < FolderIdsPage ? null : aggregation?["after_key"];
            }
            while (after is not null);
            result[k] = ids;
        }
        return result;
    }

    /// <summary>For each exact user: term, the people who ever carried that name (from the person-names index).</summary>
    private async Task<Dictionary<KeywordNode, IReadOnlyList<string>>> ResolvePeopleAsync(QueryNode root, CancellationToken cancellationToken)
    {
        var result = new Dictionary<KeywordNode, IReadOnlyList<string>>();
        foreach (var k in UserTerms(root).Distinct())
        {
            var body = new JsonObject
            {
                ["query"] = EsQueryTranslator.Term("name", k.Value),
                ["size"] = 0,
                ["aggs"] = new JsonObject { ["ids"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "person_id", ["size"] = MaxPeoplePerName } } },
            };
            // No person index yet (no event resolved so far): the name names nobody.
            var r = await connection.SendAsync(HttpMethod.POST, SearchPath(indices.PersonNames), body, cancellationToken, 404).ConfigureAwait(false);
            result[k] = r.Status == 404 ? [] : (r.Body?["aggregations"]?["ids"]?["buckets"]?.AsArray() ?? []).Select(b => b!["key"]!.GetValue<string>()).ToList();
        }
        return result;
    }

    private static IEnumerable<KeywordNode> UserTerms(QueryNode node) => node switch
    {
        AndNode a => a.Children.SelectMany(UserTerms),
        OrNode o => o.Children.SelectMany(UserTerms),
        NotNode n => UserTerms(n.Child),
        KeywordNode { Field: KeywordField.User, IsPrefix: false } k => [k],
        _ => [],
    };

    public async Task<PersonRecord?> GetPersonAsync(string personId, CancellationToken cancellationToken = default)
    {
        if (await GetDocAsync(indices.People, personId, cancellationToken).ConfigureAwait(false) is not { } person)
        {
            return null;
        }
        var sort = new JsonArray(new JsonObject { ["first_seen"] = "asc" }, new JsonObject { ["name"] = "asc" });
        var hits = await SearchHitsAsync(indices.PersonNames, EsQueryTranslator.Term("person_id", personId), sort, 10_000, cancellationToken).ConfigureAwait(false);
        var names = hits.Select(h => h["_source"]!.AsObject()).Select(s => new PersonName(s["name"]!.GetValue<string>(),
            DateTimeOffset.FromUnixTimeMilliseconds(Milliseconds(s["first_seen"])), DateTimeOffset.FromUnixTimeMilliseconds(Milliseconds(s["last_seen"]))))
            .ToList();
        var count = await connection.SendAsync(HttpMethod.POST, indices.Events + "/_count",
            new JsonObject { ["query"] = EsQueryTranslator.Term("person_id", personId) }, cancellationToken).ConfigureAwait(false);
        return new PersonRecord(personId, person["_source"]?["display_name"]?.GetValue<string>() ?? "", names,
            count.Body?["count"]?.GetValue<long>() ?? 0);
    }

    // Written as a whole number; read as a double too (1.7650944E12), which an earlier version's script stored.
    private static long Milliseconds(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var ms) ? ms : checked((long)node!.GetValue<double>());

    public async Task<IReadOnlyList<StoredEvent>> GetPendingIdentityAsync(int limit, CancellationToken cancellationToken = default)
    {
        var sort = new JsonArray(new JsonObject { ["sequence"] = "asc" }, new JsonObject { ["id"] = "asc" });
        var hits = await SearchHitsAsync(indices.Events, EsQueryTranslator.Term("identity_status", IdentityStatus.Pending), sort,
            Math.Clamp(limit, 1, EventSearch.MaxLimit), cancellationToken, new JsonArray("raw", "body")).ConfigureAwait(false);
        return hits.Select(h => EsDocuments.ReadEvent(h["_source"]!.AsObject())).ToList();
    }

    // Folders written before the field existed have none: they are found once their next event writes them.
    public async Task<IReadOnlyList<FolderObject>> GetFoldersWithPendingSubjectsAsync(int limit, CancellationToken cancellationToken = default)
    {
        var hits = await SearchHitsAsync(indices.Folders, EsQueryTranslator.Term("subjects_pending", "true"), new JsonArray(new JsonObject { ["id"] = "asc" }),
            Math.Clamp(limit, 1, EventSearch.MaxLimit), cancellationToken).ConfigureAwait(false);
        return hits.Select(EsDocuments.ReadFolder).ToList();
    }

    private static IEnumerable<KeywordNode> FolderTerms(QueryNode node) => node switch
    {
        AndNode a => a.Children.SelectMany(FolderTerms),
        OrNode o => o.Children.SelectMany(FolderTerms),
        NotNode n => FolderTerms(n.Child),
        KeywordNode { Field: KeywordField.Folder } k => [k],
        _ => [],
    };

    public async Task<IReadOnlyList<ChangeRecord>> GetChangesAsync(ObjectKind kind, string objectId, CancellationToken cancellationToken = default)
    {
        var query = new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(EsQueryTranslator.Term("kind", kind.ToString()), EsQueryTranslator.Term("object_id", objectId)),
            },
        };
        // In the order the changes were derived, so each one's "from" is the one before's "to" (see the embedded store).
        var sort = new JsonArray(
            new JsonObject { ["recorded"] = new JsonObject { ["order"] = "asc", ["missing"] = "_first" } },
            new JsonObject { ["at"] = "asc" }, new JsonObject { ["event_seq"] = "asc" }, new JsonObject { ["event_id"] = "asc" },
            new JsonObject { ["ordinal"] = "asc" }, new JsonObject { ["aspect"] = "asc" }, new JsonObject { ["key"] = new JsonObject { ["order"] = "asc", ["missing"] = "_first" } },
            // With these the sort is unique (they complete what a change's id is made of), so no page boundary skips or repeats one.
            new JsonObject { ["folder_id"] = new JsonObject { ["order"] = "asc", ["missing"] = "_first" } },
            new JsonObject { ["uid"] = new JsonObject { ["order"] = "asc", ["missing"] = "_first" } });
        var hits = await SearchHitsAsync(indices.Changes, query, sort, 100_000, cancellationToken).ConfigureAwait(false);
        return hits.Select(h => EsDocuments.ReadChange(h["_source"]!.AsObject())).ToList();
    }

    public async Task<IReadOnlyList<StoredEvent>> GetEventsForObjectAsync(ObjectKind kind, string objectId, int limit, CancellationToken cancellationToken = default)
    {
        var query = kind switch
        {
            ObjectKind.Message => EsQueryTranslator.Term("message_keys", objectId),
            ObjectKind.Folder => EsQueryTranslator.Term("folder_ids", objectId.ToLowerInvariant()),
            ObjectKind.Session => EsQueryTranslator.Term("session", objectId.ToLowerInvariant()),
            ObjectKind.User => EsQueryTranslator.Term("user", objectId.ToLowerInvariant()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var sort = new JsonArray(new JsonObject { ["sequence"] = "asc" }, new JsonObject { ["id"] = "asc" });
        var hits = await SearchHitsAsync(indices.Events, query, sort, Math.Clamp(limit, 1, 100_000), cancellationToken, new JsonArray("raw", "body"))
            .ConfigureAwait(false);
        return hits.Select(h => EsDocuments.ReadEvent(h["_source"]!.AsObject())).ToList();
    }

    public async Task<IReadOnlyList<SessionObject>> GetSessionsForUserAsync(string login, int limit, CancellationToken cancellationToken = default)
    {
        var sort = new JsonArray(new JsonObject { ["started"] = new JsonObject { ["order"] = "desc", ["missing"] = "_last" } }, new JsonObject { ["id"] = "desc" });
        var hits = await SearchHitsAsync(indices.Sessions, EsQueryTranslator.Term("user", login.ToLowerInvariant()), sort, Math.Clamp(limit, 1, 10_000), cancellationToken)
            .ConfigureAwait(false);
        return hits.Select(EsDocuments.ReadSession).ToList();
    }

    public async Task<StoreCounts> GetCountsAsync(CancellationToken cancellationToken = default)
    {
        var events = await connection.SendAsync(HttpMethod.POST, indices.Events + "/_count", new JsonObject { ["query"] = new JsonObject { ["match_all"] = new JsonObject() } },
            cancellationToken).ConfigureAwait(false);
        var quarantined = await connection.SendAsync(HttpMethod.POST, indices.Quarantine + "/_count", new JsonObject { ["query"] = new JsonObject { ["match_all"] = new JsonObject() } },
            cancellationToken).ConfigureAwait(false);
        return new StoreCounts(events.Body?["count"]?.GetValue<long>() ?? 0, quarantined.Body?["count"]?.GetValue<long>() ?? 0);
    }

    public async Task<QuarantinePage> GetQuarantineAsync(int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        limit = Math.Clamp(limit, 1, EventSearch.MaxLimit);
        var after = cursor is null ? ((long, string)?)null : EsCursor.Decode(cursor);
        var body = new JsonObject
        {
            ["query"] = new JsonObject { ["match_all"] = new JsonObject() },
            ["sort"] = new JsonArray(new JsonObject { ["sequence"] = "desc" }, new JsonObject { ["job_id"] = "desc" }),
            ["size"] = limit + 1,
            ["track_total_hits"] = false,
        };
        if (after is { } a)
        {
            body["search_after"] = new JsonArray(a.Item1, a.Item2);
        }
        var r = await connection.SendAsync(HttpMethod.POST, SearchPath(indices.Quarantine), body, cancellationToken).ConfigureAwait(false);
        var items = (r.Body?["hits"]?["hits"]?.AsArray() ?? []).Select(h => EsDocuments.ReadQuarantine(h!["_source"]!.AsObject())).ToList();
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveRange(limit, items.Count - limit);
            next = EsCursor.Encode(items[^1].Sequence, items[^1].JobId);
        }
        // Whether a retry stored the event since: the events of this page's failed jobs, looked up by id at once.
        var stored = await FindProcessedJobsAsync(items.Where(q => q.Stage != QuarantineStages.Parse).Select(q => q.JobId).ToList(), cancellationToken)
            .ConfigureAwait(false);
        items = items.Select(q => q.Stage != QuarantineStages.Parse && stored.Contains(q.JobId) ? q with { EventStored = true } : q).ToList();
        return new QuarantinePage(items, next);
    }
}
