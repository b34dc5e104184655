using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;

namespace Bonnie.Web.Api;

/// <summary>
/// The JSON API under <c>/api</c>: search, one event with its raw notification, histories, sessions, quarantine.
/// Every read of evidence is in the officers' audit before it is answered, under the page's action where a page has one.
/// </summary>
public static class ApiEndpoints
{
    private const int HistoryEventLimit = 10_000;
    private const int MaxSessionLimit = 10_000;

    public static IEndpointRouteBuilder MapBonnieApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireAuthorization(BonniePolicies.CanSearch).AnswerBadInput().ReadIdsAsSent();
        api.MapGet("/events", SearchAsync);
        api.MapGet("/events/{id}", GetEventAsync);
        api.MapGet("/feed", FeedAsync);
        api.MapGet("/messages/{id}/history", MessageHistoryAsync);
        api.MapGet("/folders/{id}/history", FolderHistoryAsync);
        api.MapGet("/users/{login}/sessions", SessionsAsync);
        api.MapGet("/quarantine", QuarantineAsync);
        api.MapGet("/people/{id}", PersonAsync);
        return app;
    }

    private static async Task<IResult> SearchAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string? q, string? limit, string? cursor,
        string? facets, CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request, "q", "limit", "cursor", "facets");
        var search = new EventSearch
        {
            Query = QueryParser.Parse(q),
            Limit = ApiInput.Limit(limit, 50, EventSearch.MaxLimit),
            Cursor = string.IsNullOrEmpty(cursor) ? null : cursor,
            Facets = ParseFacets(facets),
        };
        // Recorded once the store has answered (a cursor it refuses is a refused request, not a read: not recorded),
        // and before anything is returned. Every page is recorded, not only the first: each one is read.
        var page = await store.SearchEventsAsync(search, cancellationToken);
        await audit.RecordApiReadAsync(http, OfficerActions.Search, search.Query.Text,
            AuditDetails.PagedRead(search.Limit, search.Cursor, ("facets", string.IsNullOrWhiteSpace(facets) ? null : facets)), cancellationToken);
        return Results.Ok(new EventPageDto(page.Total, page.Items.Select(e => EventDto.Of(e, withRaw: false)).ToList(), page.Next,
            search.Facets == Facets.None ? null : page.Facets));
    }

    /// <summary>
    /// The events in the order they were stored, from a position a previous call gave: for following the trail as it
    /// grows (a late event comes after what was read, never behind it). A call that returned events is recorded as a
    /// read; a poll that found nothing new read no evidence and is not, so a client polling every few seconds does not
    /// fill the officers' audit log with empty reads.
    /// </summary>
    private static async Task<IResult> FeedAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string? q, string? after, string? limit,
        CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request, "q", "after", "limit");
        var query = QueryParser.Parse(q);
        if (query.SortAt is { } sortAt)
        {
            throw new QuerySyntaxException(
                $"'sort:' at position {sortAt} does not apply here: the feed gives events in the order they were stored. Leave it out.", sortAt,
                "a query without sort:");
        }
        var request = new FeedRequest
        {
            Query = query,
            After = string.IsNullOrEmpty(after) ? null : after,
            Limit = ApiInput.Limit(limit, 100, EventSearch.MaxLimit),
        };
        var page = await store.ReadFeedAsync(request, cancellationToken);
        if (page.Items.Count > 0)
        {
            await audit.RecordApiReadAsync(http, OfficerActions.Search, request.Query.Text,
                AuditDetails.PagedRead(request.Limit, request.After, ("order", "stored"), ("events", page.Items.Count.ToString(CultureInfo.InvariantCulture))),
                cancellationToken);
        }
        return Results.Ok(new FeedPageDto(page.Items.Select(e => EventDto.Of(e, withRaw: false)).ToList(), page.Next, page.CaughtUp));
    }

    private static Facets ParseFacets(string? facets)
    {
        var result = Facets.None;
        foreach (var name in (facets ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result |= name.ToLowerInvariant() switch
            {
                "event" => Facets.EventType,
                "user" => Facets.User,
                "folder" => Facets.Folder,
                "day" => Facets.Day,
                "all" => Facets.All,
                _ => throw new QuerySyntaxException($"Unknown facet '{name}'; facets are event, user, folder, day, all.", 0, "event, user, folder, day or all"),
            };
        }
        return result;
    }

    private static async Task<IResult> GetEventAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string id, CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request);
        // Ids are lower-case hex; one copied from a tool that prints hex in capitals is the same id.
        if ((await store.GetEventAsync(id, cancellationToken)
                ?? (string.Equals(id, id.ToLowerInvariant(), StringComparison.Ordinal) ? null : await store.GetEventAsync(id.ToLowerInvariant(), cancellationToken)))
            is not { } e)
        {
            return ApiErrors.NotFound($"No event with id {ApiErrors.Quote(id)}.");
        }
        await audit.RecordApiReadAsync(http, OfficerActions.EventViewed, e.Id, cancellationToken: cancellationToken);
        return Results.Ok(EventDto.Of(e, withRaw: true));
    }

    // Events of other folders that changed a folder (its parents' renames), read one by one for its history.
    private const int MaxCausesOfOtherFolders = 100;

    private static async Task<IResult> MessageHistoryAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string id,
        CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request);
        // A sighting's key answers the message it turned out to be (its id is then that message's; mergedFrom lists the sighting).
        var message = await MessageHistory.ResolveAsync(store, id, cancellationToken);
        if (message is null)
        {
            return ApiErrors.NotFound($"No message with id {ApiErrors.Quote(id)}.");
        }
        await audit.RecordApiReadAsync(http, OfficerActions.MessageViewed, message.Key, cancellationToken: cancellationToken);
        var changes = await MessageHistory.ChangesAsync(store, message, cancellationToken);
        var events = await MessageHistory.EventsAsync(store, message, HistoryEventLimit, cancellationToken);
        var namesNow = await MessageHistory.FolderNamesNowAsync(store, message, cancellationToken);
        return Results.Ok(new HistoryDto<MessageDto>(MessageDto.Of(message, namesNow), changes.Select(ChangeDto.Of).ToList(),
            events.Select(e => EventDto.Of(e, withRaw: false)).ToList()));
    }

    private static async Task<IResult> FolderHistoryAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string id,
        CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request);
        var folder = await store.GetFolderAsync(id, cancellationToken);
        if (folder is null)
        {
            return ApiErrors.NotFound($"No folder with id {ApiErrors.Quote(id)}.");
        }
        await audit.RecordApiReadAsync(http, OfficerActions.FolderViewed, id, cancellationToken: cancellationToken);
        var changes = await store.GetChangesAsync(ObjectKind.Folder, id, cancellationToken);
        var events = (await store.GetEventsForObjectAsync(ObjectKind.Folder, id, HistoryEventLimit, cancellationToken)).ToList();
        // An event of another folder that changed this one is part of its history too: a parent's rename renamed this
        // folder, and the history had the name change but not the event that caused it (a live review).
        // Only when the folder's own events were all read: past the limit, a change's event not listed is most likely
        // one of its own, and the list is cut there anyway.
        var listed = events.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var causes = events.Count < HistoryEventLimit ? changes.Select(c => c.EventId).Where(e => !listed.Contains(e)).Distinct(StringComparer.Ordinal) : [];
        foreach (var cause in causes.Take(MaxCausesOfOtherFolders))
        {
            if (await store.GetEventAsync(cause, cancellationToken) is { } e)
            {
                events.Add(e);
            }
        }
        return Results.Ok(new HistoryDto<FolderDto>(FolderDto.Of(folder), changes.Select(ChangeDto.Of).ToList(),
            events.OrderBy(e => e.Sequence).Select(e => EventDto.Of(e, withRaw: false)).ToList()));
    }

    private static async Task<IResult> SessionsAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string login, string? limit,
        CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request, "limit");
        var count = ApiInput.Limit(limit, 100, MaxSessionLimit);
        await audit.RecordApiReadAsync(http, OfficerActions.SessionsViewed, login,
            new Dictionary<string, string?> { ["limit"] = count.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
        var sessions = await store.GetSessionsForUserAsync(login, count, cancellationToken);
        return Results.Ok(new { items = sessions.Select(SessionDto.Of).ToList() });
    }

    // Every name the person carried; their events are found with user:<any of those names>.
    private static async Task<IResult> PersonAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string id, CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request);
        if (await store.GetPersonAsync(id, cancellationToken) is not { } person)
        {
            return ApiErrors.NotFound($"No person with id {ApiErrors.Quote(id)}.");
        }
        await audit.RecordApiReadAsync(http, OfficerActions.PersonViewed, id, cancellationToken: cancellationToken);
        return Results.Ok(new
        {
            id = person.PersonId,
            displayName = person.DisplayName,
            names = person.Names.Select(n => new { name = n.Name, firstSeen = n.FirstSeen, lastSeen = n.LastSeen }).ToList(),
            eventCount = person.EventCount,
        });
    }

    private static async Task<IResult> QuarantineAsync(IBonnieStore store, IOfficerAudit audit, HttpContext http, string? limit, string? cursor,
        CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request, "limit", "cursor");
        var count = ApiInput.Limit(limit, 50, EventSearch.MaxLimit);
        cursor = string.IsNullOrEmpty(cursor) ? null : cursor;
        var page = await store.GetQuarantineAsync(count, cursor, cancellationToken);
        await audit.RecordApiReadAsync(http, OfficerActions.QuarantineViewed, null, AuditDetails.PagedRead(count, cursor), cancellationToken);
        return Results.Ok(new { items = page.Items.Select(QuarantineDto.Of).ToList(), next = page.Next });
    }
}
