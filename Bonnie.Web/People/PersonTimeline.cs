using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Search;

namespace Bonnie.Web.People;

/// <summary>A stretch of a person's events during which the snapshots recorded the same name, groups and roles.</summary>
internal sealed record PersonState(
    DateTimeOffset From, DateTimeOffset Until, string? DisplayName, IReadOnlyList<string> Groups, IReadOnlyList<string> Roles, long Events);

/// <summary>The groups and roles of a person over time, read from the snapshots their events keep.</summary>
internal static class PersonTimeline
{
    /// <summary>How many of the person's events are read, oldest first, to draw the timeline.</summary>
    public const int EventLimit = 5_000;

    /// <summary>The query that finds every event of whoever carried <paramref name="name"/>.</summary>
    public static string Query(string name) => QueryTerms.Term("user", name);

    /// <summary>The name to search by: the one seen last (any name finds all of the person's events).</summary>
    public static string? SearchName(PersonRecord person) =>
        person.Names.OrderByDescending(n => n.LastSeen).Select(n => n.Name).FirstOrDefault();

    /// <returns>The states, oldest first, and whether <see cref="EventLimit"/> cut the reading short.</returns>
    public static async Task<(IReadOnlyList<PersonState> States, bool Truncated)> ReadAsync(
        IBonnieStore store, PersonRecord person, CancellationToken cancellationToken = default)
    {
        if (SearchName(person) is not { } name)
        {
            return ([], false);
        }
        var query = QueryParser.Parse(Query(name) + " sort:oldest");
        var states = new List<PersonState>();
        string? cursor = null;
        var read = 0;
        do
        {
            var page = await store.SearchEventsAsync(
                new EventSearch { Query = query, Limit = EventSearch.MaxLimit, Cursor = cursor }, cancellationToken);
            // The name may have been carried by someone else too: only this person's snapshots count.
            foreach (var e in page.Items)
            {
                if (e.Identity is { Status: IdentityStatus.Resolved } identity
                    && string.Equals(identity.PersonId, person.PersonId, StringComparison.Ordinal))
                {
                    Add(states, e.Timestamp, identity);
                }
            }
            read += page.Items.Count;
            cursor = page.Next;
        }
        while (cursor is not null && read < EventLimit);
        return (states, cursor is not null);
    }

    private static void Add(List<PersonState> states, DateTimeOffset at, EventIdentity identity)
    {
        var groups = identity.Groups.Order(StringComparer.OrdinalIgnoreCase).ToList();
        var roles = identity.Roles.Order(StringComparer.OrdinalIgnoreCase).ToList();
        if (states.Count > 0 && states[^1] is var last
            && string.Equals(last.DisplayName, identity.DisplayName, StringComparison.Ordinal)
            && last.Groups.SequenceEqual(groups, StringComparer.Ordinal)
            && last.Roles.SequenceEqual(roles, StringComparer.Ordinal))
        {
            states[^1] = last with { Until = at, Events = last.Events + 1 };
            return;
        }
        states.Add(new PersonState(at, at, identity.DisplayName, groups, roles, 1));
    }
}
