using System.Text.Json.Nodes;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using HttpMethod = Elastic.Transport.HttpMethod;

namespace Bonnie.Elasticsearch;

internal sealed partial class ElasticsearchStore
{
    /// <summary>Positions per tick of the clock: room for a batch's events given in the same tick.</summary>
    internal const long ArrivalPerTick = 16;

    /// <summary>
    /// How long after it was given a position is answered (<see cref="ElasticsearchStoreOptions.FeedSettle"/>).
    /// Elasticsearch has no transaction: several workers send their bulk requests at once, each visible when its
    /// refresh is done, so an event with an earlier position can become visible after a later one was read. A position
    /// is given as its request is written (and again when it is sent again); held back this long, a position read past
    /// stays past unless that one request took longer than this or its writer's clock was this far behind.
    /// </summary>
    public TimeSpan FeedSettle { get; init; } = ElasticsearchStoreOptions.DefaultFeedSettle;

    public async Task<FeedPage> ReadFeedAsync(FeedRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var after = request.After is null ? ((long, string)?)null : EsFeedPosition.Decode(request.After);
        var limit = Math.Clamp(request.Limit, 1, EventSearch.MaxLimit);
        var now = DateTime.UtcNow - DateTime.UnixEpoch;
        var settled = (now - FeedSettle).Ticks * ArrivalPerTick;
        if (after is { } a && a.Item1 > (now + TimeSpan.FromMinutes(5)).Ticks * ArrivalPerTick)
        {
            // Positions are times: one in the future (beyond the workers' clock differences) was not given by this store.
            throw new QuerySyntaxException("The feed position is past anything this store has given out. Start again without it.", 0,
                "a position from a previous call to this store");
        }
        var folderIds = await ResolveFoldersAsync(request.Query.Root, cancellationToken).ConfigureAwait(false);
        var personIds = await ResolvePeopleAsync(request.Query.Root, cancellationToken).ConfigureAwait(false);
        var body = FeedBody(request.Query, after, settled, limit, folderIds, personIds);
        var r = await connection.SendAsync(HttpMethod.POST, SearchPath(indices.Events), body, cancellationToken).ConfigureAwait(false);
        var hits = r.Body?["hits"]?["hits"]?.AsArray() ?? [];
        var items = new List<StoredEvent>();
        var positions = new List<(long, string)>();
        foreach (var hit in hits)
        {
            items.Add(EsDocuments.ReadEvent(hit!["_source"]!.AsObject()));
            var sort = hit["sort"]!.AsArray();
            positions.Add((sort[0]!.GetValue<long>(), sort[1]!.GetValue<string>()));
        }
        if (items.Count > limit)
        {
            items.RemoveRange(limit, items.Count - limit);
            return new FeedPage(items, EsFeedPosition.Encode(positions[limit - 1]), CaughtUp: false);
        }
        // Every settled match is here: go on from the settled boundary (an empty id sorts before any event's).
        var next = Math.Max(settled, after?.Item1 ?? long.MinValue);
        return new FeedPage(items, EsFeedPosition.Encode(next == after?.Item1 ? after.Value : (next, "")), CaughtUp: true);
    }

    internal static JsonObject FeedBody(ParsedQuery query, (long Arrival, string Id)? after, long settled, int limit,
        IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? folderIds = null,
        IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? personIds = null)
    {
        var body = new JsonObject
        {
            ["query"] = new JsonObject
            {
                ["bool"] = new JsonObject
                {
                    ["filter"] = new JsonArray(
                        new EsQueryTranslator(folderIds, personIds).Translate(query.Root),
                        // Settled, or stored before positions were given (no arrival): those come first, as the lowest.
                        new JsonObject
                        {
                            ["bool"] = new JsonObject
                            {
                                ["should"] = new JsonArray(
                                    new JsonObject { ["range"] = new JsonObject { ["arrival"] = new JsonObject { ["lt"] = settled } } },
                                    new JsonObject { ["bool"] = new JsonObject { ["must_not"] = new JsonArray(new JsonObject { ["exists"] = new JsonObject { ["field"] = "arrival" } }) } }),
                                ["minimum_should_match"] = 1,
                            },
                        }),
                },
            },
            ["sort"] = new JsonArray(new JsonObject { ["arrival"] = new JsonObject { ["order"] = "asc", ["missing"] = "_first" } }, new JsonObject { ["id"] = "asc" }),
            ["size"] = limit + 1,
            ["track_total_hits"] = false,
            ["_source"] = new JsonObject { ["excludes"] = new JsonArray("raw", "body") },
        };
        if (after is { } a)
        {
            body["search_after"] = new JsonArray(a.Arrival, a.Id);
        }
        return body;
    }
}

/// <summary>
/// Opaque feed positions: the sort values (arrival, id) of the last event read, or the settled boundary with an empty
/// id; an <see cref="EsCursor"/> under a tag of its own.
/// </summary>
internal static class EsFeedPosition
{
    public static string Encode((long Arrival, string Id) position) => EsCursor.Encode("f1", position.Arrival, position.Id);

    public static (long Arrival, string Id) Decode(string position) =>
        EsCursor.Decode("f1", position, allowEmptyId: true, "The feed position is not one this server gave out; start again without it.",
            "a position from a previous call");
}
